"""Storage: the SQLite run history and its exports."""
