"""The hidden checks of the course: one module per exercise (grader/checkrun.py runs them)."""
