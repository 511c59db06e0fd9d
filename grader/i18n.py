"""The grader's language: which one is in use, and the `_` that translates into it.

Every text the grader itself writes for a student (the engine's standard judgements, the
hidden checks' names and messages, the reports' words, the CLI's) is an English msgid
wrapped in `_()` where it is used, then formatted with named placeholders:

    _("{n} of {m} items arrived").format(n=len(got), m=total)

never `_(f"...")`, and never `_()` of a text already formatted: a catalogue holds
templates, not results. `N_()` marks a constant for extraction without translating it
(its user calls `_()` on it later, once the language is known); `ngettext` picks the
singular or plural template.

The catalogue of each language other than English is grader/locale/<lang>/LC_MESSAGES/
grader.po, compiled beside it to grader.mo, which is what the grader reads (see `_catalogue`). English needs no catalogue: the msgids
are the English texts. The course's own texts (titles, topics, hints, messages) are
translated beside course.yaml instead: see grader/translations.py.

Which language: `--lang`, then the course's `language:`, then the locale (LC_ALL,
LC_MESSAGES, LANG, in POSIX order); English when none names a language we have.
`choose()` spells that out. Library callers (tests, `runner.grade`) get English unless
they say otherwise: only the command line looks at the environment.

Imported inside the sandbox too (checks.py imports it): standard library only at import;
Babel is imported only when a catalogue is read, and only the grader's process reads one.
"""

from __future__ import annotations

import argparse
import contextlib
import gettext
import io
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

LANGUAGES = ("en", "zh")  # what --lang accepts; the first is the msgids' own language
DEFAULT = "en"
DOMAIN = "grader"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX: the first one set wins

_current = DEFAULT
_loaded: dict[str, gettext.NullTranslations] = {}


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it now."""
    return message


def _(message: str) -> str:
    """`message` in the current language (the msgid itself when it has no translation)."""
    if _current == DEFAULT:
        return message
    return _catalogue(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The template for a count of n, in the current language."""
    if _current == DEFAULT:
        return singular if n == 1 else plural
    return _catalogue(_current).ngettext(singular, plural, n)


def language() -> str:
    """The language in use: one of LANGUAGES."""
    return _current


def set_language(lang: str) -> None:
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    _current = lang
    # argparse's own words ("usage:", "error:", "invalid choice: ...") go through its module
    # global `_`; pointing it here lets them follow --lang too (msgids in grader/_argparse.py).
    argparse._ = _
    argparse.ngettext = ngettext


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    """The language `lang` for the block, the previous one after it (a test, a CLI call)."""
    previous = _current
    set_language(lang)
    try:
        yield
    finally:
        set_language(previous)


def choose(flag: str | None, course_default: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """`--lang` if given, else the course's default, else the locale's language, else English."""
    for candidate in (flag, course_default):
        if candidate:
            return candidate
    return from_locale(environ)


def from_locale(environ: Mapping[str, str]) -> str:
    """The language of the locale: "zh_CN.UTF-8" → zh; "C", "POSIX", unset, or one we lack → en."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if value:
            code = re.split(r"[_.@-]", value, maxsplit=1)[0].lower()
            return code if code in LANGUAGES else DEFAULT
    return DEFAULT


def catalogue_path(lang: str) -> Path:
    """The .po file people edit (grader/catalog.py keeps it)."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compiled_path(lang: str) -> Path:
    """The .mo compiled from it, which the grader reads."""
    return catalogue_path(lang).with_suffix(".mo")


def _catalogue(lang: str) -> gettext.NullTranslations:
    """The language's translations, read once per process from the compiled .mo.

    The .mo is committed beside its .po (`python -m grader.catalog update` writes both, and a
    test proves the .mo is the .po compiled): the standard library reads it in a millisecond,
    while reading the .po takes Babel and about half a second here, too slow for `grade`
    alone (the overview must draw in under 300 ms). Without a .mo (a checkout whose .po was
    edited by hand), the .po is compiled in memory with Babel. Fuzzy entries count as
    untranslated either way.
    """
    if lang not in _loaded:
        mo, po = compiled_path(lang), catalogue_path(lang)
        if mo.is_file():
            with mo.open("rb") as f:
                _loaded[lang] = gettext.GNUTranslations(f)
        elif po.is_file():
            from babel.messages.mofile import write_mo
            from babel.messages.pofile import read_po

            with po.open("rb") as f:
                catalog = read_po(f, locale=lang, domain=DOMAIN)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            _loaded[lang] = gettext.GNUTranslations(buffer)
        else:
            _loaded[lang] = gettext.NullTranslations()
    return _loaded[lang]
