"""Model readers and writers."""
