"""A grader that judges concurrent Python code, and the engine of the multiprocessing course."""

__version__ = "0.1.0"
