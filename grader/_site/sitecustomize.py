"""Loaded by every Python process the sandbox starts (it is on their PYTHONPATH).

Spawn and forkserver children do not inherit the parent's patched multiprocessing, so
each one installs the probe again here, before multiprocessing unpickles its target.

The sandbox's interpreters start without the site module (`python -S`, which every child
multiprocessing starts inherits): site's work is mostly the .pth files of the grader's own
environment (an editable install's finder alone cost 50-90 ms per interpreter here), paid
again by every spawned child of a student's. Without site, nothing imports this file, so
multiprocessing's children are told to (`import sitecustomize; ` before their program),
and this file does what of site's work a student's program may rely on: sys.prefix (a
virtual environment's, which the sandbox may then read), the grader's package and the
environment's site-packages on sys.path (after the standard library, as site puts them;
their .pth files are not run), and the exit() and quit() builtins.
"""

import os
import sys

if sys.flags.no_site:
    if "grader" not in sys.modules:
        import importlib.util

        _package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        _spec = importlib.util.spec_from_file_location(
            "grader", os.path.join(_package, "__init__.py"), submodule_search_locations=[_package])
        _grader = importlib.util.module_from_spec(_spec)
        sys.modules["grader"] = _grader
        _spec.loader.exec_module(_grader)
    if os.environ.get("GRADER_PREFIX"):  # a virtual environment's, which site would have set
        sys.prefix, sys.exec_prefix = os.environ["GRADER_PREFIX"], os.environ["GRADER_EXEC_PREFIX"]
    for _entry in os.environ.get("GRADER_SITE_PACKAGES", "").split(os.pathsep):
        if _entry and _entry not in sys.path:
            sys.path.append(_entry)
    import site

    site.setquit()  # exit() and quit(), which only site defines
    site.sethelper()

    def _children_load_this_file():
        from multiprocessing import util

        started = util.spawnv_passfds
        if getattr(started, "loads_sitecustomize", False):
            return

        def spawnv_passfds(path, args, passfds):
            args = list(args)
            if "-c" in args[:-1]:
                at = args.index("-c") + 1
                args[at] = "import sitecustomize; " + args[at]
            return started(path, args, passfds)

        spawnv_passfds.loads_sitecustomize = True
        util.spawnv_passfds = spawnv_passfds

    _children_load_this_file()

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
