"""The grader's message catalogues, for the people who keep them: extract, update, check.

Every msgid is found in the grader's sources by Babel's extractor: the arguments of `_()`,
`N_()`, `ngettext()` (singular and plural) and the first argument of `check()` (a hidden
check's name). `update` merges them into each language's .po file, keeping the
translations already there; `problems` lists what a language still lacks — a msgid with
no translation, a fuzzy one, or one whose placeholders differ from the English.

    python -m grader.catalog update    # after adding or changing a message (writes the .po and the .mo)
    python -m grader.catalog compile   # after editing a translation in the .po by hand
    python -m grader.catalog check     # exit 1 and a list when something is missing or the .mo is stale

`grade check` and tests/test_i18n.py run the same `problems()`. Babel is a dependency of
the grader, never of the sandbox: nothing here runs where student code runs.
"""

from __future__ import annotations

import ast
import io
import re
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .i18n import DEFAULT, DOMAIN, LANGUAGES, catalogue_path, compiled_path

PACKAGE = Path(__file__).resolve().parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "check": None}
METHODS = [("**/locale/**", "ignore"), ("**.py", "python"), ("**/templates/report/**.j2", "jinja2.ext:babel_extract")]
_PERCENT = re.compile(r"%(?:\((\w+)\))?[sdr]")


def extract(folder: Path = PACKAGE) -> Catalog:
    """Every msgid used under `folder`, with the places it is used."""
    catalog = Catalog(domain=DOMAIN, project="mp-course grader", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(folder), METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if message and (message[0] if isinstance(message, tuple) else message):
            catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def extract_files(paths: list[Path]) -> Catalog:
    """The msgids of some files only (a course's hidden modules, for `grade check`)."""
    catalog = Catalog(domain=DOMAIN, charset="utf-8")
    for path in paths:
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
            if message and (message[0] if isinstance(message, tuple) else message):
                catalog.add(message, None, [(path.name, lineno)], auto_comments=comments, context=context)
    return catalog


def read(lang: str) -> Catalog:
    path = catalogue_path(lang)
    if not path.is_file():
        return Catalog(locale=lang, domain=DOMAIN, charset="utf-8")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def update(lang: str, template: Catalog | None = None) -> Catalog:
    """Merge the msgids of the sources into `lang`'s .po: new ones empty, gone ones dropped."""
    catalog = read(lang)
    # No new creation date: an update that adds nothing must change neither the .po nor the .mo
    # (two people updating at once would otherwise conflict on the header alone).
    catalog.update(template or extract(), no_fuzzy_matching=True, update_header_comment=False,
                   update_creation_date=False)
    catalog.obsolete.clear()
    path = catalogue_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        # Files, not line numbers: an edit elsewhere in a module must not touch the .po (fewer conflicts).
        write_po(f, catalog, width=100, omit_header=False, sort_output=False, include_previous=False,
                 include_lineno=False)
    compiled_path(lang).write_bytes(compile_mo(lang))
    return catalog


def compile_mo(lang: str) -> bytes:
    """The .mo that `lang`'s .po compiles to (what grader/i18n.py reads at run time)."""
    buffer = io.BytesIO()
    write_mo(buffer, read(lang), use_fuzzy=False)
    return buffer.getvalue()


def placeholders(text: str) -> list[str]:
    """The named fields of a template, `{n}` and `%(n)s` alike, sorted; bare `%s` as "%s"."""
    fields = []
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        fields = ["<unbalanced braces>"]
    fields += [m.group(1) or "%s" for m in _PERCENT.finditer(text)]
    return sorted(fields)


def problems(lang: str, needed: Catalog | None = None) -> list[str]:
    """What `lang` lacks for the msgids of `needed` (default: every msgid of the grader)."""
    if lang == DEFAULT:
        return []
    needed = needed or extract()
    have = read(lang)
    found = []
    for message in needed:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:1])
        entry = have.get(message.id, context=message.context)
        strings = () if entry is None else entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry is None or not all(s and s.strip() for s in strings):
            found.append(f"{where}: no {lang} translation of {ids[0]!r}")
        elif entry.fuzzy:
            found.append(f"{where}: the {lang} translation of {ids[0]!r} is marked fuzzy (unchecked)")
        elif any(placeholders(s) != placeholders(ids[0]) for s in strings):
            found.append(f"{where}: the {lang} translation of {ids[0]!r} has placeholders "
                         f"{placeholders(strings[0])}, the English {placeholders(ids[0])}")
    return found


def untranslatable(path: Path) -> list[str]:
    """Texts of a source file that no catalogue can hold: `_()` of an f-string or a sum (a text
    already formatted), a check name that is not a plain string, an `on_timeout=` not marked N_()."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked = {t.id for n in tree.body if isinstance(n, ast.Assign) and (_is_marked(n.value) or _is_keyed(n.value))
              for t in n.targets if isinstance(t, ast.Name)}  # module constants NAME = N_("...") or {k: N_()}
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)
        if name in ("_", "N_", "ngettext"):
            for arg in call.args[:2] if name == "ngettext" else call.args[:1]:
                # `_(HANG)`, `_(spec.name)`, `_(WHY_NOT[state])`: names and table entries holding msgids.
                if not _is_text(arg) and not isinstance(arg, ast.Name | ast.Attribute | ast.Subscript):
                    found.append(f"{path.name}:{call.lineno}: {name}() of a text made at run time: "
                                 f"{ast.unparse(arg)[:70]}")
        elif name == "check":
            if call.args and not _is_text(call.args[0]):
                found.append(f"{path.name}:{call.lineno}: a check name made at run time (write it out): "
                             f"{ast.unparse(call.args[0])[:70]}")
            for keyword in call.keywords:
                value = keyword.value
                if isinstance(value, ast.Dict):  # {blocked call: N_("advice")}: each advice a msgid
                    value = next((v for v in value.values if not _is_marked(v)), ast.Constant(""))
                if keyword.arg == "on_timeout" and not (_is_text(value) and not value.value) and \
                        not _is_keyed(value) and \
                        not _is_marked(value) and not (isinstance(value, ast.Name) and value.id in marked):
                    found.append(f"{path.name}:{call.lineno}: on_timeout= is not marked N_(\"...\")")
    return found


def _is_keyed(node) -> bool:
    """Hang advice keyed by the call it is about, every text marked: {call: N_("...")}."""
    return (isinstance(node, ast.Dict) and all(_is_marked(v) for v in node.values)) or \
        (isinstance(node, ast.DictComp) and _is_marked(node.value))


def _is_marked(node) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_"


def _is_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "check"
    template = extract()
    status = 0
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        if command == "update":
            update(lang, template)
        elif command == "compile":
            compiled_path(lang).write_bytes(compile_mo(lang))
        if not compiled_path(lang).is_file() or compiled_path(lang).read_bytes() != compile_mo(lang):
            print(f"{compiled_path(lang)} is not {catalogue_path(lang).name} compiled: run "
                  "`python -m grader.catalog compile`")
            status = 1
        for problem in problems(lang, template):
            print(problem)
            status = 1
    print(f"{len(template)} messages" + ("" if status else ", every one translated"))
    return status


if __name__ == "__main__":
    sys.exit(main())
