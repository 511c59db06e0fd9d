"""Loaded by every Python process the sandbox starts (it is on their PYTHONPATH).

Spawn and forkserver children do not inherit the parent's patched multiprocessing, so
each one installs the probe again here, before multiprocessing unpickles its target.
"""

import os

if os.environ.get("GRADER_PROBE_DIR"):
    try:
        from grader import probe

        probe.install_from_env()
    except Exception:  # the probe must never stop the student's program from starting
        pass

if os.environ.get("GRADER_SEMPREFIX"):
    # The sandbox's semaphores carry its name, so that those a killed tree leaves can be found.
    try:
        from multiprocessing import process

        process.current_process()._config["semprefix"] = "/" + os.environ["GRADER_SEMPREFIX"]
    except Exception:
        pass
