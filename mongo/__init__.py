"""mongo package."""
