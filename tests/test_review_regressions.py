"""Regressions found by trying the README's commands as a technician would, one test each."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from calibration.cues_check import check_outputs
from exhibit.cli import build_parser, main
from exhibit.config.load import load, loads
from exhibit.live import LiveControls
from exhibit.pipeline import Pipeline

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"


def test_bridge_sim_passes_its_options_to_the_simulator() -> None:
    """``exhibit bridge-sim --seed 3`` (or ``--help``) was refused as unrecognized arguments."""
    args = build_parser().parse_args(["bridge-sim", "--seed", "3", "--link", "/tmp/x"])
    assert args.sim_args == ["--seed", "3", "--link", "/tmp/x"]
    assert build_parser().parse_args(["bridge-sim"]).sim_args == []
    # --help reaches the simulator's own parser, which prints its options and exits 0.
    result = subprocess.run(
        [sys.executable, "-m", "exhibit.cli", "bridge-sim", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--distance" in result.stdout


def test_graph_writes_the_dot_file_even_when_graphviz_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: "DOT always; SVG/PNG/PDF where Graphviz's dot is installed". The SVG path used
    to write nothing, while its error said "the .dot file can be opened"."""
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on it
    svg = tmp_path / "show.svg"
    assert main(["graph", str(DEMO_DIR / "exhibit.toml"), "-o", str(svg)]) == 2
    dot = tmp_path / "show.dot"
    assert dot.read_text(encoding="utf-8").startswith("digraph")
    assert not svg.exists()
    captured = capsys.readouterr()
    assert f"{dot}: 6 states" in captured.out
    assert "Graphviz's dot program is not installed" in captured.err


class Clock:
    def __init__(self) -> None:
        self.t_s = 0.0

    def __call__(self) -> float:
        return self.t_s


def test_status_fps_is_the_frame_rate_when_frames_come_unevenly(tmp_path: Path) -> None:
    """``exhibit status`` said 414 fps for a 30 fps replay: it averaged 1 / interval, and a
    frame right after a late one counts as hundreds of fps. Frames here alternate 1 ms and
    65.7 ms apart (30 a second, as a busy machine delivers them)."""
    config_path = tmp_path / "exhibit.toml"
    config_path.write_text('[show]\ninitial = "idle"\n[show.states.idle]\n', encoding="utf-8")
    clock = Clock()
    live = LiveControls(config_path, load(config_path), clock=clock, check_every_s=3600.0)
    pipeline = Pipeline(live.config)
    for i in range(300):
        clock.t_s = (i // 2) * (2 / 30) + (i % 2) * 0.001
        pipeline, _ = live(pipeline)
    assert live.fps == pytest.approx(30.0, rel=0.1)
    assert live.status()["fps"] == pytest.approx(30.0, rel=0.1)


def test_calibrate_cues_says_how_to_dim_on_mock_pins() -> None:
    """``GPIOZERO_PIN_FACTORY=mock exhibit calibrate cues`` failed a ``pwm_led`` with advice to
    check the wiring; the cause is gpiozero's default mock pin, which cannot do PWM."""
    config = loads(
        '[outputs]\nspot = { type = "pwm_led", pin = 18 }\n'
        '[show]\ninitial = "idle"\n[show.states.idle]\n'
    )
    factory = MockFactory()
    try:
        (result,) = check_outputs(config, pin_factory=factory, blink_s=0.01)
    finally:
        factory.close()
    assert result.outcome == "failed"
    assert "PinPWMUnsupported" in result.detail
    assert "GPIOZERO_MOCK_PIN_CLASS=mockpwmpin" in result.advice


def test_commands_without_shutdown_cues_stop_quietly(caplog: pytest.LogCaptureFixture) -> None:
    """``make demo`` ended with its monitor logging "stopping after the shutdown cues": the
    monitor, stage and sensor view have none."""
    from exhibit.cli import _StopOnSignal

    caplog.set_level(logging.INFO, logger="exhibit")
    quiet = _StopOnSignal(cues=False)
    quiet._handler(2, None)
    assert quiet.stop.is_set()
    assert "shutdown cues" not in caplog.text
    _StopOnSignal()._handler(15, None)  # exhibit run / simulate: they do send them
    assert "signal 15: stopping after the shutdown cues" in caplog.text


def test_status_uptime_is_rounded(tmp_path: Path) -> None:
    """``exhibit status`` over HTTP printed ``uptime_s 6.455210785999952``."""
    config_path = tmp_path / "exhibit.toml"
    config_path.write_text('[show]\ninitial = "idle"\n[show.states.idle]\n', encoding="utf-8")
    clock = Clock()
    live = LiveControls(config_path, load(config_path), clock=clock)
    clock.t_s = 6.455210785999952
    assert live.status()["uptime_s"] == 6.5


def test_status_over_osc_prints_json_like_status_over_http(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over [control] ``exhibit status`` printed Python reprs (``cpu_temp_c None``,
    ``{'projector': {'error': None, ...}}``); over [status] the same values are JSON."""
    from tests.peers import free_udp_port

    port = free_udp_port()
    path = tmp_path / "exhibit.toml"
    path.write_text(
        f'[control]\nenabled = true\nlisten = "127.0.0.1:{port}"\n'
        '[show]\ninitial = "idle"\n[show.states.idle]\n',
        encoding="utf-8",
    )
    live = LiveControls(path, load(path))
    live.watch["probe"] = lambda: {"error": None, "ok": True}
    try:
        pipeline = Pipeline(live.config)
        pipeline, _ = live(pipeline)
        assert main(["status", str(path)]) == 0
    finally:
        live.close()
    out = capsys.readouterr().out
    assert "state      idle" in out
    assert 'probe      {"error": null, "ok": true}' in out


@pytest.mark.parametrize(("section", "key"), [("status", "listen"), ("control", "listen")])
def test_a_status_or_control_table_without_enabled_is_a_warning(section: str, key: str) -> None:
    """``[status]`` with only ``listen`` looked right (``[telemetry]`` is on once written) but
    served nothing: ``exhibit status`` then said neither table was enabled."""
    show = '[show]\ninitial = "idle"\n[show.states.idle]\n'
    config = loads(f'[{section}]\n{key} = "127.0.0.1:9188"\n{show}')
    assert any(
        w.startswith(f"{section}: off, so its settings are unused") and "enabled = true" in w
        for w in config.warnings
    ), config.warnings
    config = loads(f'[{section}]\nenabled = false\n{key} = "127.0.0.1:9188"\n{show}')
    assert not any(w.startswith(f"{section}:") for w in config.warnings)


def test_telemetry_check_says_the_likely_fix_when_nothing_listens() -> None:
    """README: "what failed and the likely fix (unreachable, ...)"; a refused connection said
    only ``cannot reach 127.0.0.1:1: [Errno 111] Connection refused``."""
    from exhibit.telemetry.config import TelemetryConfig
    from exhibit.telemetry.probe import check_broker
    from tests.peers import free_udp_port

    port = free_udp_port()  # nothing listens on it over TCP either, as a rule
    result = check_broker(TelemetryConfig(enabled=True, host="127.0.0.1", port=port), "x", 2.0)
    assert not result.ok
    assert result.problem.startswith(f"cannot reach 127.0.0.1:{port}")
    assert "is the broker running" in result.problem


def test_overlay_leaves_room_for_both_status_lines() -> None:
    """``exhibit calibrate overlay`` printed its second status line (the visitor's floor
    position) half below the window's bottom edge."""
    from exhibit.ui.overlay import overlay_layout

    line_px, gap_px = 18, 4  # as render_overlay draws them, each about 14 px high
    for size in ((1100, 620), (960, 540), (1280, 720)):
        for image in ((640, 480), (1280, 720), (480, 640)):
            rect, _ = overlay_layout(size, image)
            second_line_bottom = rect.bottom + gap_px + line_px + 14
            assert second_line_bottom <= size[1], (size, image, rect)


def test_a_frame_stamped_before_the_last_never_ends_a_recording(tmp_path: Path) -> None:
    """A camera-down frame (stamped by the clock after its wait) and then an image captured
    just before it: the recording beside the run reports it and stops; the run goes on."""
    from exhibit.service.writes import WriteHealth, record_alongside
    from exhibit.skeleton import Frame

    frames = [
        Frame(10.0, 5, 640, 480),
        Frame(10.5, 6, 640, 480, camera_ok=False),
        Frame(10.4999, 7, 640, 480),
        Frame(10.6, 8, 640, 480),
    ]
    path = tmp_path / "rec.jsonl"
    health = WriteHealth(str(path), "recording")
    passed = list(record_alongside(iter(frames), path, "camera:0", health))
    assert [f.index for f in passed] == [5, 6, 7, 8]
    assert health.stopped


def test_camera_frames_never_go_back_in_time() -> None:
    """The frame source holds time at the last frame's when an image was captured just before
    the clock frame that covered its wait."""
    import numpy as np

    from exhibit.sources.images import CapturedImage
    from exhibit.sources.pose_source import PoseFrameSource

    class Camera:  # the camera thread's read(): an image, or None after the wait
        width_px, height_px, running = 64, 48, True

        def __init__(self) -> None:
            pixels = np.zeros((48, 64, 3), np.uint8)
            self.reads = [None, CapturedImage(10.4999, 7, pixels), CapturedImage(10.6, 8, pixels)]

        def read(self, timeout_s: float) -> CapturedImage | None:
            return self.reads.pop(0)

        def now_s(self) -> float:
            return 10.5

    source = PoseFrameSource(Camera(), None, gate=lambda t_s: False, tick_s=0.5)  # type: ignore[arg-type]
    times = [next(source).t_s for _ in range(3)]
    assert times == [10.5, 10.5, 10.6]


def test_a_disk_that_fills_and_frees_again_and_again_is_not_a_log_flood(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another writer on the card fills and frees it every other frame for 10 s at 30 fps: one
    "cannot write" and one "writing again" line, not one per frame."""
    from exhibit.service.writes import WriteHealth

    now = [0.0]
    health = WriteHealth("events.jsonl", "event log", clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, "exhibit.files"):
        for frame in range(300):
            now[0] = frame / 30
            if frame % 2:
                health.ok()
            else:
                health.fail(OSError(28, "No space left on device"))
    assert len(caplog.records) == 2
    assert health.failures == 150 and health.lost == 150
