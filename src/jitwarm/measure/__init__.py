"""Measurement: worker processes, the spawner, timers, sweeps."""
