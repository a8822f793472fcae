"""Elementwise binary operators (filled in by the next commits)."""
