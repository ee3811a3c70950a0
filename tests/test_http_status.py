"""The HTTP status endpoint, asked by real HTTP clients (urllib, http.client) on loopback: what
it serves, whom it refuses, what it says when the main loop stops, and its config."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from exhibit.config.checker import Checker
from exhibit.config.load import load, loads
from exhibit.errors import ConfigError, SourceError
from exhibit.live import CueSinks, LiveControls
from exhibit.pipeline import Pipeline
from exhibit.recording.reader import read_recording
from exhibit.service.http_status import (
    MAX_CLIENTS,
    HttpStatusServer,
    StatusConfig,
    fetch,
    parse_status,
)
from tests.peers import free_udp_port

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "media" / "demo"
HEALTHY = {
    "state": "attract",
    "visitors": 0,
    "fps": 30.0,
    "uptime_s": 12.5,
    "health": {"frames": 375, "last_frame_age_s": 0.02, "camera": {"ok": True}},
}


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(status: Any, **config: Any) -> Iterator[HttpStatusServer]:
    provider = status if callable(status) else (lambda: status)
    server = HttpStatusServer(StatusConfig(enabled=True, port=0, **config), provider)
    server.start()
    try:
        yield server
    finally:
        server.close()


def get(server: HttpStatusServer, path: str) -> tuple[int, Any]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get_from(source_ip: str, server: HttpStatusServer, path: str, method: str = "GET") -> int:
    """A request from another loopback address (the whole of 127/8 is this machine's)."""
    host, port = server.address
    conn = http.client.HTTPConnection(host, port, timeout=5, source_address=(source_ip, 0))
    try:
        conn.request(method, path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_status_is_the_same_dict_as_the_osc_reply() -> None:
    with serving(HEALTHY) as server:
        code, body = get(server, "/status")
        assert (code, body) == (200, HEALTHY)
        assert server.stats()["status"] == 1


def test_healthz_is_200_while_frames_flow_and_503_when_the_loop_stops() -> None:
    status = dict(HEALTHY)
    with serving(lambda: status) as server:
        assert get(server, "/healthz") == (200, {"ok": True})
        status["health"] = {"frames": 375, "last_frame_age_s": 7.5}
        code, body = get(server, "/healthz")
        assert code == 503
        assert body == {"ok": False, "problems": ["no frame for 7.5 s (the main loop is stuck)"]}
        status["health"] = {"frames": 0, "last_frame_age_s": None}
        assert get(server, "/healthz")[0] == 503  # starting: not healthy yet


def test_healthz_names_a_camera_a_sensor_and_a_file_that_are_down() -> None:
    health = {
        "frames": 10,
        "last_frame_age_s": 0.5,
        "camera": {"ok": False, "lost": 1},
        "sources": {"pir": "ok", "bridge": "disconnected"},
        "files": {"event log": {"failing": True, "error": "[Errno 28] No space left"}},
    }
    with serving({**HEALTHY, "health": health}) as server:
        code, body = get(server, "/healthz")
    assert code == 503
    assert body["problems"] == [
        "the camera gives no image (frames come from the clock)",
        "sensor bridge is disconnected",
        "cannot write event log ([Errno 28] No space left)",
    ]


def test_nothing_else_is_served() -> None:
    with serving(HEALTHY) as server:
        for path in ("/", "/status/", "/../etc/passwd", "/camera.jpg", "/healthz/x"):
            assert get(server, path)[0] == 404, path
        assert get_from("127.0.0.1", server, "/status", "POST") == 501
        assert get_from("127.0.0.1", server, "/status", "HEAD") == 200
        assert server.stats()["not_found"] == 5


def test_a_client_outside_allow_is_refused_with_403() -> None:
    with serving(HEALTHY, allow=StatusConfig().allow[:1]) as server:  # 127.0.0.1/32 only
        assert get_from("127.0.0.2", server, "/status") == 403
        assert get_from("127.0.0.2", server, "/healthz") == 403
        assert get_from("127.0.0.1", server, "/status") == 200
        assert server.stats()["not_allowed"] == 2


def test_it_listens_on_the_configured_interface_only() -> None:
    with serving(HEALTHY) as server:  # 127.0.0.1
        _, port = server.address
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=2).close()


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HttpStatusServer(StatusConfig(enabled=True, port=port), lambda: HEALTHY)
        with pytest.raises(SourceError, match=f"cannot serve the HTTP status on 127.0.0.1:{port}"):
            server.start()


def test_a_failing_status_provider_is_a_500_and_the_server_lives_on() -> None:
    calls = []

    def provider() -> Mapping[str, Any]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return HEALTHY

    with serving(provider) as server:
        assert get(server, "/status") == (500, {"error": "status unavailable"})
        assert get(server, "/status") == (200, HEALTHY)
        assert server.stats()["status_failed"] == 1


def test_idle_connections_cannot_exhaust_it() -> None:
    with serving(HEALTHY) as server:
        idle = [socket.create_connection(server.address, timeout=5) for _ in range(MAX_CLIENTS)]
        try:
            deadline = time.monotonic() + 5
            while server.stats()["busy"] == 0 and time.monotonic() < deadline:
                with pytest.raises((http.client.HTTPException, ConnectionError)):
                    get_from("127.0.0.1", server, "/status")
            assert server.stats()["busy"] >= 1
        finally:
            for sock in idle:
                sock.close()
        deadline = time.monotonic() + 5
        while True:  # the idle ones' threads end at their EOF: room again
            try:
                assert get_from("127.0.0.1", server, "/status") == 200
                break
            except (http.client.HTTPException, ConnectionError):
                assert time.monotonic() < deadline
                time.sleep(0.05)


# -- config -----------------------------------------------------------------------------------


def test_the_section_is_optional_and_off() -> None:
    config = load(DEMO_DIR / "exhibit.toml")
    assert config.status == StatusConfig()
    assert not config.status.enabled


def test_a_status_section_loads() -> None:
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    config = loads(
        text
        + '\n[status]\nenabled = true\nlisten = "0.0.0.0:8080"\nallow = ["10.0.0.0/8"]\n'
        + "stale_after_s = 3\n",
        base_dir=DEMO_DIR,
    )
    assert (config.status.host, config.status.port, config.status.stale_after_s) == (
        "0.0.0.0",
        8080,
        3.0,
    )
    assert [str(n) for n in config.status.allow] == ["10.0.0.0/8"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"listen": "exhibit.local:80"}, "status.listen: not an address to listen on: "),
        ({"listen": "127.0.0.1:99999"}, "status.listen: not an address to listen on: port"),
        ({"allow": ["10.0.0.1/8"]}, "status.allow[0]: not a network"),
        ({"allow": 10}, "status.allow: not a list of networks"),
        ({"enabled": True, "allow": []}, "status.allow: allows no client"),
        ({"stale_after_s": 0}, "status.stale_after_s: not a time in seconds"),
        ({"stale_after_s": "5s"}, "status.stale_after_s: not a time in seconds"),
        ({"enabeld": True}, "status.enabeld: unknown key"),
    ],
)
def test_bad_keys_are_named_with_a_fix(table: dict[str, Any], expected: str) -> None:
    checker = Checker()
    parse_status(table, "status", checker)
    assert len(checker.problems) == 1, checker.problems
    assert checker.problems[0].startswith(expected), checker.problems[0]
    assert "expected" in checker.problems[0] or "did you mean" in checker.problems[0]


def test_a_bad_allow_suggests_the_network_meant() -> None:
    checker = Checker()
    parse_status({"allow": ["10.0.0.1/8"]}, "status", checker)
    assert 'did you mean "10.0.0.0/8"?' in checker.problems[0]


def test_errors_come_with_the_rest_of_the_config() -> None:
    with pytest.raises(ConfigError, match=r"status\.listen"):
        loads(
            '[exhibit]\nname = "x"\n[status]\nlisten = "nope"\n[show]\ninitial = "a"\n'
            "[show.states.a]\n"
        )


def test_any_client_allowed_is_a_warning() -> None:
    checker = Checker()
    parse_status({"enabled": True, "allow": ["0.0.0.0/0"]}, "status", checker)
    assert not checker.problems
    assert "status.allow" in checker.warnings[0]


# -- in the running exhibit -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t_s = 0.0

    def __call__(self) -> float:
        return self.t_s


def test_the_live_controls_serve_their_status_and_notice_a_stuck_loop(tmp_path: Path) -> None:
    config = load(DEMO_DIR / "exhibit.toml")
    config = dataclasses.replace(config, status=StatusConfig(enabled=True, port=0))
    clock = Clock()
    cues = CueSinks(config, make=lambda c: [])
    live = LiveControls(DEMO_DIR / "exhibit.toml", config, cues, clock=clock)
    try:
        assert live.http is not None
        assert get(live.http, "/healthz")[0] == 503  # no frame yet
        pipeline = Pipeline(config)
        for frame in list(read_recording(DEMO_DIR / "visitor.jsonl").frames())[:150]:
            clock.t_s = frame.t_s
            pipeline, _ = live(pipeline)
            pipeline.step(frame)
        code, status = get(live.http, "/status")
        assert code == 200
        assert status["state"] == pipeline.show.state
        assert status["health"]["frames"] == 150
        assert status["health"]["last_frame_age_s"] == 0.0
        assert get(live.http, "/healthz") == (200, {"ok": True})
        clock.t_s += 6.0  # the loop stops turning
        code, body = get(live.http, "/healthz")
        assert code == 503 and "main loop is stuck" in body["problems"][0]
    finally:
        live.close()
        cues.close()
    assert live.http is not None
    with pytest.raises(SourceError, match="no answer"):
        fetch(live.http.config, "/status", timeout_s=1)


def test_exhibit_run_answers_curl_and_exhibit_status(tmp_path: Path) -> None:
    port = free_tcp_port()
    text = DEMO_DIR.joinpath("exhibit.toml").read_text(encoding="utf-8")
    text = text.replace("udp://127.0.0.1:9000", f"udp://127.0.0.1:{free_udp_port()}")
    text = text.replace("udp://127.0.0.1:9001", f"udp://127.0.0.1:{free_udp_port()}")
    path = tmp_path / "exhibit.toml"
    path.write_text(text + f'\n[status]\nenabled = true\nlisten = "127.0.0.1:{port}"\n')
    (tmp_path / "sounds").symlink_to(DEMO_DIR / "sounds")
    env = dict(os.environ, PYTHONUNBUFFERED="1", SDL_AUDIODRIVER="dummy")
    command = [sys.executable, "-m", "exhibit"]
    process = subprocess.Popen(
        [*command, "run", str(path), "--replay", str(DEMO_DIR / "visitor.jsonl"), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        config = StatusConfig(enabled=True, port=port)
        deadline = time.monotonic() + 60
        while True:
            try:
                verdict = fetch(config, "/healthz", timeout_s=2)
                if verdict == {"ok": True}:
                    break
            except SourceError:
                pass
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "exhibit run never became healthy"
            time.sleep(0.2)
        done = subprocess.run(
            [*command, "status", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        assert "healthz            ok" in done.stdout
        assert "frames " in done.stdout and "uptime_s" in done.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    with pytest.raises(SourceError):  # and the port is closed with it
        fetch(StatusConfig(enabled=True, port=port), "/status", timeout_s=1)


def test_an_ipv6_interface_is_served_too() -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    checker = Checker()
    config = parse_status({"enabled": True, "listen": "[::1]:9180"}, "status", checker)
    assert not checker.problems
    server = HttpStatusServer(dataclasses.replace(config, port=0), lambda: HEALTHY)
    with server:
        host, port = server.address
        assert host == "::1"
        assert fetch(dataclasses.replace(config, port=port), "/status") == HEALTHY


def test_clients_outside_allow_cannot_crowd_out_the_monitor() -> None:
    """Eight slow connections from a host outside ``allow`` (a byte now and then keeps a
    per-receive timeout happy): the allowed monitor is still answered."""
    with serving(HEALTHY, allow=StatusConfig().allow[:1]) as server:  # 127.0.0.1/32 only
        host, port = server.address
        hostile = [
            socket.create_connection((host, port), timeout=5, source_address=("127.0.0.2", 0))
            for _ in range(MAX_CLIENTS)
        ]
        try:
            for sock in hostile:
                sock.sendall(b"G")  # a request begun, never finished
            assert get_from("127.0.0.1", server, "/status") == 200
            assert server.stats()["not_allowed"] >= MAX_CLIENTS - 2
        finally:
            for sock in hostile:
                sock.close()


def test_a_request_that_never_ends_is_cut_after_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timeout holds for the whole request, not for each receive: a client dribbling a
    byte every 0.2 s is cut when its time is up."""
    import exhibit.service.http_status as http_status

    monkeypatch.setattr(http_status, "REQUEST_TIMEOUT_S", 0.5)
    with serving(HEALTHY) as server:
        slow = socket.create_connection(server.address, timeout=5)
        slow.setblocking(False)
        start, cut_after_s = time.monotonic(), None
        try:
            while cut_after_s is None and time.monotonic() - start < 3.0:
                try:
                    slow.sendall(b"G")
                    if slow.recv(100) == b"":
                        cut_after_s = time.monotonic() - start
                except BlockingIOError:
                    pass
                except OSError:
                    cut_after_s = time.monotonic() - start
                time.sleep(0.2)
        finally:
            slow.close()
        assert cut_after_s is not None and cut_after_s < 1.5
