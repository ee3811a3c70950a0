"""``exhibit report``: figures from a real session store, the terminal summary, the CSV, an
empty period said out loud, and the page looked at in real headless Chromium."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from exhibit.analytics.report import parse_since, summarize
from exhibit.analytics.sessions import SessionBuilder
from exhibit.analytics.store import SessionStore, StoredSession
from exhibit.analytics.synth import synthetic_visits
from exhibit.cli import main
from exhibit.config.load import load
from tests.peers import free_udp_port
from tests.test_cli import config_with_ports, exhibit_process

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "media" / "demo" / "exhibit.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VISITS = 300


@pytest.fixture(scope="module")
def day_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding a synthetic day of visits through the demo's show, that ended an hour
    ago (wall clock), so ``--since 7d`` sees all of them."""
    config = load(DEMO_CONFIG)
    builder = SessionBuilder(config)
    records = builder.feed_all(synthetic_visits(config, visits=VISITS, seed=11))
    records += builder.finish()
    midnight = time.time() - 19 * 3600  # the synthetic day ends by 18:00 + overrun
    path = tmp_path_factory.mktemp("report") / "sessions.db"
    with SessionStore(path) as store:
        store.add_many([r.summary(midnight + r.arrival_s) for r in records])
    return path


def test_since_accepts_units_and_refuses_the_rest() -> None:
    assert parse_since("90m") == 5400.0
    assert parse_since("2w") == 14 * 86400.0
    for bad in ("7", "d", "-1d", "7y", "nand"):
        with pytest.raises(ValueError, match="expected a positive number and a unit"):
            parse_since(bad)


def test_the_figures_add_up(day_db: Path) -> None:
    with SessionStore(day_db) as store:
        sessions = store.sessions()
    figures = summarize(sessions)
    assert figures.visits == VISITS
    assert sum(figures.per_hour) == sum(figures.per_day.values()) == VISITS
    assert sum(figures.dwell_bins) == VISITS
    assert sum(figures.endings.values()) == VISITS
    assert dict(figures.states)["attract"] == VISITS  # every visit starts in the attract loop
    levels = dict(figures.levels)
    # A funnel: fewer visitors reach each deeper level.
    assert VISITS > levels["overview"] >= levels["detail"] >= levels["deep_dive"] > 0
    assert figures.converted == levels["overview"]
    assert 0 < figures.conversion < 1
    for g in figures.gestures.values():
        assert g.used <= min(g.offered, g.recognized)
    assert figures.dwell_median_s <= figures.dwell_p90_s
    assert figures.engagement_curve and all(0 <= v <= 1 for _, v in figures.engagement_curve)


def test_a_hand_made_set_of_sessions() -> None:
    def s(i: int, dwell: float, levels: list[str], ended: str = "left") -> StoredSession:
        return StoredSession(
            i,
            1_700_000_000.0 + 3600 * i,
            {
                "dwell_s": dwell,
                "ended": ended,
                "states": ["attract", "welcome", *(["explain"] if levels else [])],
                "levels": levels,
                "gestures": {"wave": 1} if levels else {},
                "gestures_offered": ["wave"],
                "gestures_used": ["wave"] if levels else [],
            },
        )

    figures = summarize(
        [s(0, 5.0, []), s(1, 45.0, ["overview"]), s(2, 400.0, ["overview"], "timed_out")]
    )
    assert figures.dwell_bins == [1, 0, 1, 0, 0, 1]
    assert figures.dwell_median_s == 45.0
    assert (figures.converted, figures.endings) == (2, {"left": 2, "timed_out": 1})
    assert figures.states == [("attract", 3), ("welcome", 3), ("explain", 2)]
    wave = figures.gestures["wave"]
    assert (wave.offered, wave.recognized, wave.used) == (3, 2, 2)


def test_report_prints_a_summary_and_writes_page_and_csv(
    day_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page, table = tmp_path / "r.html", tmp_path / "r.csv"
    args = ["report", "--database", str(day_db), "--html", str(page), "--csv", str(table)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{VISITS} visit(s)")
    assert "attract-loop conversion:" in out and "levels reached: overview" in out
    text = page.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 6
    assert "<script" not in text and "http" not in text  # self-contained, nothing fetched
    assert "Visitors at Inside the cell" in text
    rows = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert len(rows) == VISITS
    assert rows[0]["exhibit"] == "Inside the cell" and rows[0]["states"].startswith("attract")


def test_an_empty_period_says_so_on_the_terminal_and_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.db"
    with SessionStore(db, retention_days=None) as store:
        store.add({"started_at": time.time() - 30 * 86400, "dwell_s": 9.0, "ended": "left"})
    page = tmp_path / "empty.html"
    assert main(["report", "--since", "7d", "--database", str(db), "--html", str(page)]) == 0
    assert "No visitors in this period" in capsys.readouterr().out
    text = page.read_text(encoding="utf-8")
    assert 'id="empty"' in text and "No visitors in this period" in text
    assert "<img" not in text


def test_report_on_a_missing_or_bad_database_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--database", str(tmp_path / "none.db")]) == 2
    assert "no such session database" in capsys.readouterr().err
    assert main(["report", "--since", "soon", "--database", str(tmp_path / "none.db")]) == 1
    assert "--since 'soon'" in capsys.readouterr().err


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="exhibit-chromium-") as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


# Set once every image has loaded and decoded to a real size; read back with --dump-dom.
MARKER_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0);
  document.body.setAttribute("data-images", ok.length + "/" + imgs.length);
});
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (tools/system-deps.sh)")
def test_the_page_in_headless_chromium_shows_its_plots(day_db: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert main(["report", "--database", str(day_db), "--html", str(page)]) == 0
    # A copy with a script that checks the images: the page itself has no script.
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", MARKER_SCRIPT + "</body>"),
        encoding="utf-8",
    )
    done = chromium("--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    marker = re.search(r'data-images="(\d+)/(\d+)"', done.stdout)
    assert marker is not None, done.stdout[:2000]
    assert marker.group(1) == marker.group(2) == "6"

    shot = tmp_path / "shot.png"
    done = chromium(f"--screenshot={shot}", "--window-size=1000,1800", page.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    from matplotlib.image import imread

    pixels = np.asarray(imread(str(shot)))[:, :, :3]
    assert pixels.shape[:2] == (1800, 1000)
    ink = (pixels < 0.9).any(axis=2).mean()  # share of pixels that are not near-white
    blue = ((pixels[:, :, 2] > 0.5) & (pixels[:, :, 0] < 0.35)).mean()  # the bars' colour
    assert ink > 0.05, f"the screenshot is nearly blank ({ink:.3f} of pixels drawn)"
    assert blue > 0.01, f"no plot bars in the screenshot ({blue:.4f})"


def test_the_demo_stores_its_visitor_and_the_report_reads_it(tmp_path: Path) -> None:
    config = config_with_ports(tmp_path, free_udp_port(), free_udp_port())
    db = tmp_path / "demo.db"
    env = {"SDL_AUDIODRIVER": "dummy", "SDL_VIDEODRIVER": "dummy"}
    args = ("demo", "--speed", "40", "--no-stage", "--config", str(config), "--sessions", str(db))
    process = exhibit_process(*args, extra_env=env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert f"demo: 1 visit(s) stored in {db}" in out, (out[-3000:], err[-3000:])
    page = tmp_path / "demo.html"
    report = subprocess.run(
        [sys.executable, "-m", "exhibit", "report", "--database", str(db), "--html", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("1 visit(s), 1 person"), (report.stdout, report.stderr)
    assert "levels reached: overview 1, detail 1" in report.stdout
    assert "wave 1/1/1" in report.stdout
    assert page.read_text(encoding="utf-8").count("data:image/png;base64,") == 6


def test_a_shared_store_reports_one_exhibit_when_asked(
    day_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two exhibits writing to one state folder: ``--exhibit`` (or ``--config``, by its name)
    keeps one of them out of the other's figures."""
    shared = tmp_path / "shared.db"
    shared.write_bytes(day_db.read_bytes())
    with SessionStore(shared) as store:
        other = dict(store.sessions()[0].summary, exhibit="Climate wall")
        store.add_many([other, other])
    assert main(["report", "--database", str(shared), "--since", "all"]) == 0
    assert capsys.readouterr().out.startswith(f"{VISITS + 2} visit(s)")
    args = ["report", "--database", str(shared), "--since", "all", "--exhibit", "Climate wall"]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("2 visit(s)")
    config = tmp_path / "exhibit.toml"
    config.write_text(
        '[exhibit]\nname = "Inside the cell"\n'
        f'[analytics]\ndatabase = "{shared}"\n'
        '[show]\ninitial = "attract"\n[show.states.attract]\n',
        encoding="utf-8",
    )
    assert main(["report", "--config", str(config), "--since", "all"]) == 0
    assert capsys.readouterr().out.startswith(f"{VISITS} visit(s)")
