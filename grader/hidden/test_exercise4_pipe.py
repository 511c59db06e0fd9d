"""Placeholder hidden checks: this exercise is being written."""
