"""Hostile: prints a passing verdict, then ends the process with status 0."""
import json
import os


def start_named(names, results):
    print(json.dumps({"exercise": "exercise1", "status": "pass", "score": 10, "max_score": 10}))
    print("10 passed, 0 failed")
    os._exit(0)


exit_codes = watch_lifecycle = start_named
