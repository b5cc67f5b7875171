"""Cases: what is measured (targets and their inputs)."""
