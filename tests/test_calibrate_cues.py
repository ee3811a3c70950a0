"""``exhibit calibrate cues``: real peers on loopback -- a QLab-style python-osc responder over
UDP and TCP (SLIP) that answers ``/version`` only after ``/alwaysReply 1``, as QLab does; a
liblo receiver standing in for a projector; a port nobody listens on -- plus a sound played
through pygame's dummy driver and a lamp blinking on gpiozero's mock pins."""

from __future__ import annotations

import argparse
import io
import json
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory

from calibration.cues_check import DEFAULT_ADDRESS, PING_TEXT, add_command, run_cue_checks
from exhibit.config.load import loads
from tests.peers import LOOPBACK, LibloReceiver, PythonOscServer, free_udp_port

SHOW = '[show]\ninitial = "idle"\n[show.states.idle]\n'


class QLabLike:
    """Answers ``/version`` like QLab 5: a ``/reply/version`` JSON, once asked to reply."""

    def __init__(self, transport: str) -> None:
        self.got: list[str] = []
        self._always = False
        self._peer = PythonOscServer(transport, self._handle)
        self.server = self._peer.server
        self.port = self._peer.port

    def _handle(self, client: tuple[str, int], address: str, *args: Any) -> Any:
        self.got.append(address)
        if address == "/alwaysReply":
            self._always = bool(args and args[0])
            return None
        if not self._always:
            return None
        data = "5.4.2" if address == "/version" else None
        status = "ok" if address == "/version" else "error"
        body = json.dumps({"workspace_id": "W", "address": address, "status": status, "data": data})
        return ("/reply" + address, body)

    def stop(self) -> None:
        self._peer.close()


@pytest.fixture
def qlab_udp() -> Iterator[QLabLike]:
    peer = QLabLike("udp")
    yield peer
    peer.stop()


@pytest.fixture
def qlab_tcp() -> Iterator[QLabLike]:
    peer = QLabLike("tcp")
    yield peer
    peer.stop()


@pytest.fixture
def liblo() -> Iterator[LibloReceiver]:
    receiver = LibloReceiver()
    try:
        yield receiver
    finally:
        receiver.server.free()


def write_tone(path: Path, seconds: float = 0.3) -> Path:
    n = np.arange(round(seconds * 22050))
    samples = np.rint(np.sin(2 * np.pi * 440.0 * n / 22050) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes(samples.tobytes())
    return path


def test_targets_reply_send_or_fail_with_the_reason(
    qlab_udp: QLabLike, qlab_tcp: QLabLike, liblo: LibloReceiver
) -> None:
    closed = free_udp_port()
    # replies are not turned on in the config: the check turns them on for QLab by itself
    text = SHOW + (
        "[targets]\n"
        f'sound = {{ url = "udp://{LOOPBACK}:{qlab_udp.port}", profile = "qlab", '
        "replies = true, reply_port = 0 }\n"
        f'desk = {{ url = "tcp://{LOOPBACK}:{qlab_tcp.port}", profile = "qlab" }}\n'
        f'projector = "udp://{LOOPBACK}:{liblo.port}"\n'
        f'nobody = "udp://{LOOPBACK}:{closed}"\n'
    )
    out = io.StringIO()
    results = run_cue_checks(loads(text), out=out, timeout_s=2.0)
    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == ["sound", "desk", "projector", "nobody"]

    for name, peer in (("sound", qlab_udp), ("desk", qlab_tcp)):
        result = by_name[name]
        assert result.outcome == "replied", out.getvalue()
        assert result.detail.startswith("replied 'ok' to /version (data '5.4.2') in ")
        assert result.round_trip_ms is not None and 0 < result.round_trip_ms < 2000
        assert "/alwaysReply" in peer.got and "/version" in peer.got

    assert by_name["projector"].outcome == "sent"
    got = liblo.wait_for(2)
    assert [(a, args) for a, args, _ in got][:2] == [
        (DEFAULT_ADDRESS, [PING_TEXT]),
        (DEFAULT_ADDRESS, [PING_TEXT]),
    ]

    nobody = by_name["nobody"]
    assert nobody.outcome == "failed"
    assert "refused" in nobody.detail.lower()
    assert nobody.advice.startswith(f"nothing listens on {LOOPBACK}:{closed} (UDP)")
    assert f"FAIL nobody (osc udp://{LOOPBACK}:{closed})" in out.getvalue()


def test_scsynth_status_is_asked_and_its_reply_read() -> None:
    asked: list[str] = []

    def status(client: tuple[str, int], address: str, *args: Any) -> Any:
        asked.append(address)  # answer as scsynth does: to the sender's address and port
        if address != "/status":
            return None
        return ("/status.reply", 1, 0, 2, 1, 5, 0.4, 0.9, 48000.0, 48000.01)

    server = PythonOscServer("udp", status)
    closed = free_udp_port()
    try:
        text = SHOW + (
            "[targets]\n"
            f'synth = {{ url = "udp://{LOOPBACK}:{server.port}", '
            'profile = "scsynth" }\n'
            f'gone = {{ url = "udp://{LOOPBACK}:{closed}", profile = "scsynth" }}\n'
        )
        results = run_cue_checks(loads(text), out=io.StringIO(), timeout_s=1.0)
    finally:
        server.close()
    assert asked == ["/status"]
    synth, gone = results
    assert (synth.name, synth.outcome) == ("synth", "replied")
    assert synth.detail.startswith("replied /status.reply (2 synths, average CPU 0.4 %) in ")
    assert (gone.name, gone.outcome) == ("gone", "failed")
    assert "ECONNREFUSED" in gone.detail and "nothing listens on" in gone.advice


def test_a_tcp_receiver_that_is_not_there(qlab_tcp: QLabLike) -> None:
    port = qlab_tcp.port
    qlab_tcp.stop()
    text = SHOW + f'[targets]\nmedia = "tcp://{LOOPBACK}:{port}"\n'
    results = run_cue_checks(loads(text), out=io.StringIO(), timeout_s=0.5)
    assert results[0].outcome == "failed"
    assert results[0].detail.startswith("not sent: ")
    assert "nothing listens on" in results[0].advice


def test_sounds_play_and_outputs_blink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    write_tone(tmp_path / "bell.wav")
    text = SHOW + '[sounds]\nbell = { file = "bell.wav", volume = 0.5 }\n'
    text += '[outputs]\nlamp = { type = "led", pin = 27 }\n'
    config = loads(text, base_dir=tmp_path)
    factory = MockFactory()
    try:
        out = io.StringIO()
        results = run_cue_checks(config, out=out, sound_s=0.1, pin_factory=factory)
        lamp_states = [s.state for s in factory.pin(27).states]
    finally:
        factory.close()
    assert [(r.name, r.outcome) for r in results] == [
        ("sound:bell", "sent"),
        ("output:lamp", "sent"),
    ]
    assert results[0].detail == "decoded OK, 0.30 s long; played 0.1 s at volume 0.5"
    # off at open, then three times on and off: what someone at the lamp sees
    assert lamp_states == [False, True, False, True, False, True, False]


def test_only_names_and_the_cli(
    tmp_path: Path, liblo: LibloReceiver, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "exhibit.toml"
    closed = free_udp_port()
    path.write_text(
        SHOW
        + f'[targets]\nprojector = "udp://{LOOPBACK}:{liblo.port}"\n'
        + f'nobody = "udp://{LOOPBACK}:{closed}"\n',
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser(prog="exhibit calibrate")
    add_command(parser.add_subparsers(dest="what", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args(["cues", str(path), *argv])
        return int(args.func(args))

    assert run("--only", "projector", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["outcome"]) for r in doc["results"]] == [("projector", "sent")]
    assert run() == 1
    assert "1 of 2 cue check(s) without failure; failed: nobody" in capsys.readouterr().out
    assert run("--only", "projektor") == 2
    assert 'did you mean "projector"?' in capsys.readouterr().err
