"""The HTML report (report/html.py): every check with its message, the hint, the timeline as SVG.

The SVG is parsed as XML (one `g.row` per process of each timeline); where Chromium is
installed, the page is also opened headless and a screenshot taken (skipped cleanly
without it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import BUG_TIMEOUT, ROOT

from grader.course import load_course
from grader.report import html, render
from grader.runner import Options, grade

SVG_NS = "{http://www.w3.org/2000/svg}"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def queue_hang():
    course = load_course(ROOT)
    variant = ROOT / "tests/variants/exercise5/one_sentinel_several_consumers.py"
    return grade(course, [course.find("exercise5")], variant,
                 Options(start_methods=("fork",), timeout=BUG_TIMEOUT, timeline=True))


def _svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(block) for block in re.findall(r"<svg class=\"timeline\".*?</svg>", page, flags=re.S)]


def test_the_report_shows_every_check_its_message_and_the_hint(queue_hang):
    page = render(queue_hang, "html")
    (verdict,) = queue_hang.exercises
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", "")
    for check in verdict.checks:
        assert html_escape(check.name) in page
        if check.message:
            assert html_escape(check.message.splitlines()[0]) in page
    assert html_escape(verdict.hint.splitlines()[0]) in page


def test_the_svg_has_one_row_per_process_and_the_deadline(queue_hang):
    page = render(queue_hang, "html")
    (verdict,) = queue_hang.exercises
    svgs = _svgs(page)
    assert len(svgs) == len(verdict.timelines) == 1
    rows = svgs[0].findall(f"{SVG_NS}g[@class='row']")
    assert [r.find(f"{SVG_NS}text").text for r in rows] == [p["name"] for p in verdict.timelines[0]["processes"]]
    assert len({r.get("data-pid") for r in rows}) == len(rows)
    assert svgs[0].findall(f"{SVG_NS}line[@class='hang']"), "the moment of the hang is drawn"
    assert svgs[0].findall(f"{SVG_NS}line[@class='queue']"), "put-to-get arrows are drawn"


def test_the_drawing_keeps_every_mark_inside_the_axis():
    tl = {"end": 2.0, "processes": [{"pid": 1, "name": "MainProcess", "begin": 0.0, "end": 2.0, "hung": True}],
          "spans": [{"pid": 1, "kind": "wait", "name": "w", "begin": 0.5, "end": 9.0}],
          "instants": [{"pid": 1, "t": 1.0, "kind": "queue.put", "name": "put", "where": "x.py:1"}],
          "flows": [], "hang_at": 2.0}
    drawn = html.drawing(tl)
    (row,) = drawn["rows"]
    assert row["spans"][0]["x"] + row["spans"][0]["w"] <= html.LABEL + html.WIDTH
    assert row["marks"][0]["x"] == html.LABEL + html.WIDTH / 2
    assert drawn["hang_x"] == html.LABEL + html.WIDTH


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_the_report_opens_in_headless_chromium(queue_hang, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render(queue_hang, "html"), encoding="utf-8")
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--no-first-run", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                    "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a drawn page, not a blank one


def html_escape(text: str) -> str:
    import html as std

    return std.escape(text, quote=False)


def test_an_error_still_writes_a_page_that_says_what_went_wrong():
    from grader.report import render_error

    page = render_error("html", "course.yaml: line 3: unknown key 'tittle'")
    assert page.startswith("<!DOCTYPE html>") and "unknown key &#39;tittle&#39;" in page and "</html>" in page
