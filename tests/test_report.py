"""``ganzoo report RUN_DIR``: one self-contained report.html (images inlined, nothing from the network),
rendered by a real headless Chromium: the screenshot is not blank, no console message, every image decodes."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys

import pytest
from helpers_training import assert_one_line_error, set_args, tiny
from PIL import Image

from ganzoo.cli.main import main
from ganzoo.report import build_report, floor_key

pytestmark = pytest.mark.usefixtures("one_thread")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium; CI's "
                                                               ".ci/run installs it)")
EVAL_ROW = {"classifier-fd/fd": 20.2, "classifier-fd/fd_floor": 1.25, "classifier-fd/fd_ratio": 16.16,
            "intra-class/ifid": 40.0, "intra-class/ifid_floor": 8.0, "intra-class/ifid_worst_class": 3.0,
            "intra-class/diversity_min": 0.5, "intra-class/diversity_floor_min": 0.9}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished tiny cdcgan-digits run with three sample grids and an evaluation row added by hand (the
    report reads whatever metrics.jsonl holds)."""
    folder = tmp_path_factory.mktemp("report") / "run"
    sets = tiny("cdcgan-digits", steps=6, log_every=2, sample_every=2, extra=["train.grid_size=20", "train.threads=1"])
    assert main(["run", "cdcgan-digits", *set_args(sets), "--out", str(folder), "--quiet"]) == 0
    with (folder / "metrics.jsonl").open("a") as handle:
        handle.write(json.dumps({"step": 6, **EVAL_ROW}) + "\n")
    return folder


def _images(page: str) -> list[tuple[str, bytes]]:
    return [(mime, base64.b64decode(data)) for mime, data in re.findall(r'src="data:([\w/]+);base64,([^"]+)"', page)]


def test_report_is_self_contained_and_shows_the_run(run_dir, capsys):
    assert main(["report", str(run_dir)]) == 0
    assert "report.html" in capsys.readouterr().out
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(?!data:)', page), "something is not inlined"
    assert "http://" not in page and "https://" not in page
    images = _images(page)
    # last grid, animation, 3 timeline grids, curves
    assert [mime for mime, _ in images].count("image/png") == 5 and ("image/gif", images[1][1]) in images
    gif = Image.open(io.BytesIO(images[1][1]))
    assert gif.n_frames == 3 and gif.info.get("loop") == 0
    for step in (2, 4, 6):
        assert f"step {step}" in page
    assert 'name = &quot;cdcgan-digits&quot;' in page  # the recipe, as resolved
    assert "worst class by intra-class ifid: class 3" in page
    row = re.search(r"<td>classifier-fd</td><td>fd</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row)[:3] == ["20.2", "1.25", "16.16x"]
    diversity = re.search(r"<td>intra-class</td><td>diversity_min</td>(.*?)</tr>", page).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', diversity)[1] == "0.9"


def test_floors_pair_with_their_figures():
    names = ["fd", "fd_floor", "diversity_min", "diversity_floor_min", "precision", "modes"]
    assert floor_key("fd", names) == "fd_floor"
    assert floor_key("diversity_min", names) == "diversity_floor_min"
    assert floor_key("precision", names) is None and floor_key("fd_floor", names) is None


def test_report_of_an_interrupted_run_without_curves_or_grids(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "recipe.toml").write_text('name = "half"\n[train]\nsteps = 10\n')
    (folder / "metrics.jsonl").write_text(json.dumps({"step": 2, "d_loss": 1.0, "g_loss": 1.0, "d_real": 0.5,
                                                      "d_fake": 0.5, "images_per_s": 5.0}) + "\n{\"step\": 4, \"d_lo")
    page = build_report(folder)  # the cut last line is skipped; curves are drawn from the log
    assert "No sample grids yet" in page and [m for m, _ in _images(page)] == ["image/png"]


def test_report_bad_input_is_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert_one_line_error(capsys.readouterr().err, "no such run directory")
    assert main(["report", str(tmp_path)]) == 2
    assert_one_line_error(capsys.readouterr().err, "not a ganzoo run directory")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.pdf")]) == 2
    assert_one_line_error(capsys.readouterr().err, ".html")


def test_report_command_imports_no_torch(run_dir, tmp_path):
    code = ("import sys; from ganzoo.cli.main import main; assert main(sys.argv[1:]) == 0; "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, "report", str(run_dir), "--out", str(tmp_path / "r.html")],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().endswith("False"), result.stdout + result.stderr


# ---------------------------------------------------------------- a real browser
def _chromium(page, tmp_path, *mode: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--window-size=1280,2000",
               *mode, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def _console(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def _body(result: subprocess.CompletedProcess) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", result.stdout)
    assert tag, result.stdout[:500] + result.stderr[-2000:]
    return dict(re.findall(r'data-(\w+)="([^"]*)"', tag.group(1)))


@needs_chromium
def test_headless_chromium_renders_the_report(run_dir, tmp_path):
    page = tmp_path / "report.html"
    assert main(["report", str(run_dir), "--out", str(page)]) == 0
    shot = tmp_path / "shot.png"
    result = _chromium(page, tmp_path, f"--screenshot={shot}")
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    assert not _console(result), _console(result)
    pixels = Image.open(shot).convert("L")
    histogram = pixels.histogram()
    assert pixels.size == (1280, 2000)
    assert sum(histogram[:200]) > 0.05 * sum(histogram), "the screenshot is (nearly) blank"
    assert len([count for count in histogram if count]) > 50  # text, grids, curves: many grey levels

    dom = _chromium(page, tmp_path, "--dump-dom")
    assert dom.returncode == 0 and not _console(dom), _console(dom)
    body = _body(dom)
    assert body == {"images": "6", "broken": "0"}, body  # the page's own check, run after load


@needs_chromium
def test_the_browser_checks_catch_a_console_error_and_a_broken_image(tmp_path):
    """The checks above can fail: a page with a console error and an image that does not decode."""
    from ganzoo.report import SCRIPT

    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="data:image/png;base64,AAAA"><script>console.error("boom")</script>'
                    f"<script>{SCRIPT}</script></body></html>")
    dom = _chromium(page, tmp_path, "--dump-dom")
    assert any("boom" in line for line in _console(dom)), dom.stderr[-2000:]
    assert _body(dom) == {"images": "1", "broken": "1"}
