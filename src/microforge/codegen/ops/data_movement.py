"""Data movement operators (filled in by the next commits)."""
