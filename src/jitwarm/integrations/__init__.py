"""Integrations: the pytest plugin and budgets, the IPython magics."""
