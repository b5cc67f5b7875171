"""Built-in example cases used by ``jitwarm demo`` (one module per framework)."""
