"""Results: the profile result, its statistics, findings and environment."""
