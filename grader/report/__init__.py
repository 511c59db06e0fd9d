"""Reporters: each turns a `RunVerdict` into text for one audience, and does nothing else.

Every module holds a pure `render(run, **options) -> str` and imports `grader.verdict` only.
`render(run, fmt, **options)` here picks the module; options a format does not take are
dropped, so the caller may pass `color=` and `verbose=` whatever the format.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from grader.verdict import RunVerdict

FORMATS = ("text", "json", "junit", "gradescope", "exercism", "github", "html")

# format -> module of grader.report, imported when first used: `grade` alone (the overview)
# needs only text's wrapping and must not pay for the other reporters.
_MODULE_NAMES: dict[str, str] = {
    "text": "text",
    "json": "json",
    "junit": "junit",
    "gradescope": "gradescope",
    "exercism": "exercism",
    "github": "github",
    "html": "html",
}


class _Modules:
    def get(self, fmt: str) -> ModuleType | None:
        return importlib.import_module(f"{__name__}.{_MODULE_NAMES[fmt]}") if fmt in _MODULE_NAMES else None

    def __getitem__(self, fmt: str) -> ModuleType:
        return self.get(fmt)

    def __contains__(self, fmt: str) -> bool:
        return fmt in _MODULE_NAMES

    def values(self) -> list[ModuleType]:
        return [self.get(fmt) for fmt in _MODULE_NAMES]


_MODULES = _Modules()
# Every option some reporter takes (tests/test_report.py holds it to the reporters' signatures):
# written out, so that rendering JSON does not import the HTML reporter and jinja2 to check a name.
OPTIONS = frozenset({"ascii_only", "color", "indent", "streamed", "verbose", "visibility", "width"})


def _accepted(module: ModuleType) -> set[str]:
    import inspect

    return set(inspect.signature(module.render).parameters) - {"run"}


def render_error(fmt: str, message: str) -> str | None:
    """The document of format `fmt` for a run that could not grade anything (None for text)."""
    module = _MODULES.get(fmt)
    return module.error(message) if module is not None and hasattr(module, "error") else None


def render(run: RunVerdict, fmt: str, **options) -> str:
    """The run in format `fmt` (one of FORMATS), without a trailing newline."""
    if fmt not in _MODULES:
        raise ValueError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise TypeError(f"no reporter takes the option(s) {', '.join(unknown)}")
    accepted = _accepted(_MODULES[fmt])
    return _MODULES[fmt].render(run, **{k: v for k, v in options.items() if k in accepted})
