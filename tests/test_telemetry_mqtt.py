"""Fleet telemetry against a real Mosquitto broker on loopback, watched by a real paho subscriber.

Each test starts its own broker (``/usr/sbin/mosquitto``, installed by tools/system-deps.sh) on a
free port with a generated config; the tests skip, saying why, where it is missing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from exhibit.analytics.store import SessionStore
from exhibit.config.load import load
from exhibit.events import Event
from exhibit.live import LiveControls
from exhibit.pipeline import Pipeline
from exhibit.skeleton import Frame
from exhibit.telemetry.commands import RemoteCommand
from exhibit.telemetry.config import TelemetryConfig, TlsConfig
from exhibit.telemetry.mqtt import MqttPublisher
from tests.peers import free_udp_port

ROOT = Path(__file__).resolve().parent.parent
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
PREFIX = "museum/exhibits/hall-3"

pytestmark = pytest.mark.skipif(
    not os.access(MOSQUITTO, os.X_OK),
    reason="mosquitto is not installed (tools/system-deps.sh installs it)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Broker:
    """A Mosquitto process with a config written for the test (restartable on its port)."""

    def __init__(self, folder: Path, extra: str = "", *, listener: str = "") -> None:
        self.folder = folder
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        root_line = "user root\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            (listener or f"listener {self.port} 127.0.0.1\n")
            + root_line
            + f"persistence true\npersistence_location {folder}/\n"
            + f"log_dest file {folder}/mosquitto.log\n"
            + extra,
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def listening() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        if not wait_until(listening, 10.0):
            self.stop()
            log = self.folder / "mosquitto.log"
            pytest.fail(f"mosquitto did not listen: {log.read_text() if log.exists() else ''}")

    def save(self) -> None:
        """SIGUSR1: write the persistence file now (what autosave does every so often), so the
        dashboard's subscription outlives a SIGKILL. Waits until the file is in place (Mosquitto
        writes ``mosquitto.db.new`` and renames it)."""
        assert self.process is not None
        db, new = self.folder / "mosquitto.db", self.folder / "mosquitto.db.new"

        def stamp() -> int | None:
            return db.stat().st_mtime_ns if db.exists() else None

        before = stamp()
        if before is not None:
            time.sleep(0.02)  # a new mtime even on a coarse clock
        self.process.send_signal(signal.SIGUSR1)
        assert wait_until(lambda: stamp() not in (None, before) and not new.exists())
        time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: what a power cut or a crash does to the broker."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path, "allow_anonymous true\n")
    b.start()
    try:
        yield b
    finally:
        b.stop()


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """A paho client, as a museum's dashboard would run it, keeping what it receives."""

    def __init__(
        self,
        port: int,
        topic: str = f"{PREFIX}/#",
        *,
        client_id: str = "",
        persistent: bool = False,
    ) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            protocol=paho.MQTTv311,
        )
        self.client.reconnect_delay_set(1, 1)
        self._topic = topic
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(self._topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(10.0), "the test's subscriber could not subscribe"

    def _on_message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(message.topic, bytes(message.payload), message.retain))

    def on(self, suffix: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == f"{PREFIX}/{suffix}"]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained_status(port: int) -> bytes | None:
    """What a dashboard that connects now learns from the retained status."""
    sub = Subscriber(port, f"{PREFIX}/status")
    try:
        wait_until(lambda: bool(sub.on("status")), 3.0)
        got = sub.on("status")
        assert all(m.retain for m in got)
        return got[-1].payload if got else None
    finally:
        sub.close()


def telemetry(port: int, **overrides: Any) -> TelemetryConfig:
    base = TelemetryConfig(
        enabled=True,
        host="127.0.0.1",
        port=port,
        health_interval_s=0.2,
        retry_min_s=0.1,
        retry_max_s=0.4,
    )
    return replace(base, **overrides)


def status() -> dict[str, Any]:
    return {"state": "idle", "visitors": 0, "fps": 30.0, "uptime_s": 1.0, "health": {"frames": 1}}


def add_session(store: SessionStore, n: int) -> int:
    started = time.time() - 3600 + n  # recent: the store's retention keeps it
    return store.add({"started_at": started, "dwell_s": 10.0 + n, "ended": "left", "n": n})


def test_online_retained_health_faults_and_a_clean_offline(broker: Broker) -> None:
    sub = Subscriber(broker.port)
    pub = MqttPublisher(telemetry(broker.port), "hall-3", status)
    pub.start()
    try:
        assert wait_until(lambda: len(sub.on("health")) >= 3)
        assert retained_status(broker.port) == b"online"
        health = sub.on("health")[-1].json()
        assert health["exhibit"] == "hall-3"
        assert health["state"] == "idle" and health["health"] == {"frames": 1}
        assert health["time"].endswith("Z")
        assert health["telemetry"]["connects"] == 1
        pub.handle(Event(12.5, "sensor", "fault", {"sensor": "pir", "reason": "stuck"}))
        logging.getLogger("exhibit.sensors").error("serial bridge gone: %s", "/dev/ttyACM0")
        assert wait_until(lambda: len(sub.on("faults")) == 2)
        sensor, error = (m.json() for m in sub.on("faults"))
        assert sensor["kind"] == "sensor" and sensor["event"] == "fault"
        assert (sensor["sensor"], sensor["reason"], sensor["t_s"]) == ("pir", "stuck", 12.5)
        assert error["kind"] == "error" and error["message"] == "serial bridge gone: /dev/ttyACM0"
    finally:
        pub.close()
        sub.close()
    assert retained_status(broker.port) == b"offline"
    assert pub.stats()["phase"] == "stopped"


def test_sessions_go_out_once_acknowledged_and_are_marked_sent(
    broker: Broker, tmp_path: Path
) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    ids = [add_session(store, n) for n in range(45)]  # more than one batch
    sub = Subscriber(broker.port)
    pub = MqttPublisher(telemetry(broker.port), "hall-3", status, sessions=store)
    pub.start()
    try:
        assert wait_until(lambda: len(sub.on("sessions")) == 45)
        assert wait_until(lambda: store.unsent(100) == [])
        got = [m.json() for m in sub.on("sessions")]
        assert [g["id"] for g in got] == ids
        assert got[0]["session"]["ended"] == "left" and got[0]["exhibit"] == "hall-3"
        late = add_session(store, 99)  # a visit that ends while connected goes out too
        assert wait_until(lambda: [m.json()["id"] for m in sub.on("sessions")][-1] == late)
    finally:
        pub.close()
        sub.close()
        store.close()


PUBLISHER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from exhibit.telemetry.config import TelemetryConfig
    from exhibit.telemetry.mqtt import MqttPublisher
    cfg = TelemetryConfig(enabled=True, host="127.0.0.1", port=int(sys.argv[1]),
                          health_interval_s=0.2, keepalive_s=5)
    MqttPublisher(cfg, "hall-3", lambda: {"state": "idle"}).start()
    print("started", flush=True)
    time.sleep(120)
    """
)


def test_last_will_says_offline_when_the_exhibit_is_killed(broker: Broker) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", PUBLISHER_SCRIPT, str(broker.port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    sub = Subscriber(broker.port)
    try:
        assert wait_until(lambda: len(sub.on("health")) >= 1, 20.0)
        assert retained_status(broker.port) == b"online"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert wait_until(
            lambda: sub.on("status")[-1:] == [Received(f"{PREFIX}/status", b"offline", False)]
        )
        assert retained_status(broker.port) == b"offline"  # and new dashboards learn it too
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        sub.close()


def test_broker_killed_and_restarted_loses_no_session(broker: Broker, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "sessions.db")
    before = [add_session(store, n) for n in range(3)]
    # The museum's dashboard: a persistent session, so the broker keeps its messages.
    sub = Subscriber(broker.port, client_id="dashboard", persistent=True)
    cfg = telemetry(broker.port, health_interval_s=0.1, buffer_messages=5)
    pub = MqttPublisher(cfg, "hall-3", status, sessions=store)
    pub.start()
    try:
        assert wait_until(lambda: len(sub.on("sessions")) == 3)
        broker.save()  # the dashboard's subscription is on the broker's disk
        broker.kill()
        assert wait_until(lambda: pub.stats()["phase"] != "connected", 5.0)
        during = [add_session(store, n) for n in range(3, 7)]  # visits while the broker is away
        pub.handle(Event(40.0, "sensor", "fault", {"sensor": "camera", "reason": "disconnected"}))
        time.sleep(1.2)  # about 12 health messages into an outbox of 5
        assert len(store.unsent(100)) == 4
        assert pub.stats()["buffered"] == 5
        broker.start()

        def got() -> set[int]:
            return {m.json()["id"] for m in sub.on("sessions")}

        assert wait_until(lambda: len(got()) == 7, 20.0), (got(), store.unsent(9), pub.stats())
        assert wait_until(lambda: store.unsent(100) == [])
        assert {m.json()["id"] for m in sub.on("sessions")} == set(before + during)
        faults = [m.json() for m in sub.on("faults")]
        assert [f["sensor"] for f in faults] == ["camera"]  # kept: health went first
        stats = pub.stats()
        assert stats["dropped_health"] >= 1 and stats["dropped_faults"] == 0
        assert stats["connects"] == 2
        assert wait_until(lambda: retained_status(broker.port) == b"online")
    finally:
        pub.close()
        sub.close()
        store.close()


def _broker_with_password(tmp_path: Path) -> Broker:
    """A started Mosquitto that lets in only user hall3 with password right-one."""
    if not os.access(MOSQUITTO_PASSWD, os.X_OK):
        pytest.skip("mosquitto_passwd is not installed")
    passwords = tmp_path / "passwords"
    subprocess.run(
        [MOSQUITTO_PASSWD, "-c", "-b", str(passwords), "hall3", "right-one"],
        check=True,
        capture_output=True,
    )
    passwords.chmod(0o600)
    b = Broker(tmp_path, f"allow_anonymous false\npassword_file {passwords}\n")
    b.start()
    return b


def test_wrong_password_is_said_once_and_retried_with_backoff(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    b = _broker_with_password(tmp_path)
    secret = tmp_path / "hall3.pw"
    secret.write_text("wrong-one\n", encoding="utf-8")
    cfg = telemetry(b.port, username="hall3", password_file=str(secret))
    pub = MqttPublisher(cfg, "hall-3", status)
    caplog.set_level(logging.DEBUG, logger="exhibit.telemetry")
    try:
        pub.start()
        time.sleep(2.0)
        attempts = pub.stats()["failed_attempts"]
        # 0.1, 0.2, 0.4, 0.4 ... s apart: about 6 in 2 s (20 without backoff)
        assert 3 <= attempts <= 9
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1
        assert "refused the connection: Not authorized" in warnings[0].getMessage()
        assert "check username and password or password_file" in warnings[0].getMessage()
        assert pub.stats()["connects"] == 0
        secret.write_text("right-one\n", encoding="utf-8")  # read again at each attempt
        assert wait_until(lambda: pub.stats()["connects"] == 1, 5.0)
        assert any("connected to 127.0.0.1" in r.getMessage() for r in caplog.records)
    finally:
        pub.close()
        b.stop()


def test_remote_commands_are_queued_refused_or_answered(broker: Broker) -> None:
    cfg = telemetry(broker.port, commands=True)
    pub = MqttPublisher(cfg, "hall-3", status, known_states=lambda: ("idle", "welcome", "explain"))
    sub = Subscriber(broker.port)
    # Left retained by mistake: it would run at every reconnect, so it never runs.
    sub.client.publish(f"{PREFIX}/cmd", "reset", qos=1, retain=True).wait_for_publish(5)
    pub.start()
    try:
        assert wait_until(lambda: len(sub.on("cmd/result")) == 1)  # subscribed, and refused
        for text in ("pause", "goto welcome", "goto welcom", "dance", "resume"):
            sub.client.publish(f"{PREFIX}/cmd", text, qos=1)
        assert wait_until(lambda: len(sub.on("cmd/result")) == 6)
        assert pub.poll() == [
            RemoteCommand("pause"),
            RemoteCommand("goto", "welcome"),
            RemoteCommand("resume"),
        ]
        results = [m.json() for m in sub.on("cmd/result")]
        refused = [r for r in results if not r["accepted"]]
        assert [r["reason"] for r in refused] == ["retained", "unknown_state", "unknown_command"]
        assert "did you mean 'welcome'?" in refused[1]["detail"]
        assert pub.stats()["commands_accepted"] == 3
    finally:
        sub.client.publish(f"{PREFIX}/cmd", b"", qos=1, retain=True).wait_for_publish(5)
        pub.close()
        sub.close()


def hall_config(port: int, *, health_interval_s: float, extra: str = "") -> str:
    """An exhibit "hall-3" with telemetry commands on and a two-state show."""
    return (
        '[exhibit]\nname = "hall-3"\n'
        + extra
        + f'[telemetry]\nhost = "127.0.0.1"\nport = {port}\ncommands = true\n'
        f"health_interval_s = {health_interval_s}\n"
        '[show]\ninitial = "idle"\n'
        '[show.states.idle]\ntransitions = [{ on = "presence.enter", to = "welcome" }]\n'
        '[show.states.welcome]\ntransitions = [{ on = "presence.leave", to = "idle" }]\n'
    )


def test_commands_reach_the_live_controls_between_frames(broker: Broker, tmp_path: Path) -> None:
    config_file = tmp_path / "exhibit.toml"
    config_file.write_text(
        hall_config(broker.port, health_interval_s=0.2),
        encoding="utf-8",
    )
    config = load(config_file)
    live = LiveControls(config_file, config, check_every_s=3600)
    sub = Subscriber(broker.port)
    try:
        assert live.telemetry is not None
        assert wait_until(lambda: live.telemetry.stats()["phase"] == "connected")
        pipeline = Pipeline(config)
        pipeline, _ = live(pipeline)
        pipeline.step(Frame(0.0, 0, 640, 480))  # the show starts in "idle"
        time.sleep(0.2)
        for text in ("goto welcome", "pause", "reload"):
            sub.client.publish(f"{PREFIX}/cmd", text, qos=1)
        assert wait_until(lambda: len(sub.on("cmd/result")) == 3)
        pipeline, events = live(pipeline)
        assert [(e.kind, e.name) for e in events if e.kind == "control"] == [
            ("control", "goto"),
            ("control", "pause"),
            ("control", "reload"),
        ]
        assert pipeline.show.state == "welcome"
        assert live.reloads == 1  # the reload ran between these frames
        assert wait_until(
            lambda: sub.on("health")[-1].json()["health"]["telemetry"]["commands_accepted"] == 3
        )
    finally:
        live.close()
        sub.close()
    assert retained_status(broker.port) == b"offline"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    return key, cert


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Broker, Path, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ca_key, ca_cert = _ca(tmp_path, "museum-ca")
    _, other_ca = _ca(tmp_path, "other-ca")
    key, csr, cert = tmp_path / "broker.key", tmp_path / "broker.csr", tmp_path / "broker.crt"
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr),
    )  # fmt: skip
    ext = tmp_path / "san.ext"
    ext.write_text("subjectAltName = IP:127.0.0.1\n", encoding="utf-8")
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert),
    )  # fmt: skip
    port = free_port()
    b = Broker(
        tmp_path,
        "allow_anonymous true\n",
        listener=f"listener {port} 127.0.0.1\ncafile {ca_cert}\ncertfile {cert}\nkeyfile {key}\n",
    )
    b.port = port
    b.start()
    try:
        yield b, ca_cert, other_ca
    finally:
        b.stop()


def test_tls_with_the_museum_ca_and_refusal_of_a_stranger(
    tls_broker: tuple[Broker, Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    b, ca_cert, other_ca = tls_broker
    good = MqttPublisher(telemetry(b.port, tls=TlsConfig(ca_file=str(ca_cert))), "hall-3", status)
    caplog.set_level(logging.WARNING, logger="exhibit.telemetry")
    with good:
        assert wait_until(lambda: good.stats()["phase"] == "connected")
    bad = MqttPublisher(
        telemetry(b.port, tls=TlsConfig(ca_file=str(other_ca)), client_id="other"),
        "hall-3",
        status,
    )
    with bad:
        assert wait_until(lambda: bad.stats()["failed_attempts"] >= 2)
        assert bad.stats()["connects"] == 0 and bad.stats()["failed_attempts"] >= 2
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "certificate verify failed" in warnings[0]


def test_exhibit_run_reports_takes_a_command_and_logs_it(broker: Broker, tmp_path: Path) -> None:
    """The whole service: `exhibit run` on the demo's recording with [telemetry]."""
    from exhibit.cli import main

    config_file = tmp_path / "exhibit.toml"
    config_file.write_text(
        hall_config(
            broker.port, health_interval_s=0.3, extra='[analytics]\ndatabase = "sessions.db"\n'
        ),
        encoding="utf-8",
    )
    events = tmp_path / "events.jsonl"
    recording = ROOT / "media" / "demo" / "visitor.jsonl"
    sub = Subscriber(broker.port)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exhibit",
            "run",
            str(config_file),
            "--replay",
            str(recording),
            "--log",
            str(events),
            "--record",
            str(tmp_path / "run.jsonl"),
            "--quiet",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: any("frames" in m.json()["health"] for m in sub.on("health")), 30)
        sub.client.publish(f"{PREFIX}/cmd", "pause", qos=1)
        assert wait_until(lambda: len(sub.on("cmd/result")) == 1)
        assert sub.on("cmd/result")[0].json()["accepted"]
        assert wait_until(
            lambda: sub.on("health")[-1].json()["health"]["telemetry"]["phase"] == "connected"
        )
        assert sub.on("health")[-1].json()["state"] in ("idle", "welcome")
        process.send_signal(signal.SIGTERM)  # systemctl stop: shutdown cues, sinks closed
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        sub.close()
    assert retained_status(broker.port) == b"offline"
    logged = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert {"kind": "control", "name": "pause"}.items() <= next(
        e for e in logged if e["kind"] == "control"
    ).items()
    # Recorded like the OSC port's commands: the recording replays to the very same events.
    replayed = tmp_path / "replayed.jsonl"
    args = ["replay", str(config_file), str(tmp_path / "run.jsonl"), "--log", str(replayed)]
    assert main(args) == 0
    assert replayed.read_bytes() == events.read_bytes()


def test_a_broker_down_at_start_is_said_once_and_the_outbox_waits_for_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    b = Broker(tmp_path, "allow_anonymous true\nqueue_qos0_messages true\n")
    b.start()  # the dashboard's persistent subscription, then the broker goes away
    Subscriber(b.port, client_id="dashboard", persistent=True).close()
    b.stop()
    cfg = telemetry(b.port, qos=0, buffer_messages=3)
    pub = MqttPublisher(cfg, "hall-3", status)
    caplog.set_level(logging.WARNING, logger="exhibit.telemetry")
    pub.start()
    try:
        pub.fault({"kind": "error", "logger": "exhibit.test", "message": "before the broker"})
        time.sleep(1.0)  # about 5 health messages into an outbox of 3: the fault stays
        assert pub.stats()["failed_attempts"] >= 3
        assert [r.getMessage().split(";")[0] for r in caplog.records] == [
            f"MQTT telemetry: cannot reach 127.0.0.1:{b.port}: [Errno 111] Connection refused"
        ]
        b.start()
        assert wait_until(lambda: pub.stats()["phase"] == "connected")
        sub = Subscriber(b.port, client_id="dashboard", persistent=True)
        try:
            assert wait_until(lambda: len(sub.on("faults")) == 1 and len(sub.on("health")) >= 2)
            assert sub.on("faults")[0].json()["message"] == "before the broker"
            first = sub.on("health")[0].json()
            assert first["telemetry"]["phase"] == "waiting"  # made while the broker was away
            assert pub.stats()["dropped_health"] >= 1
        finally:
            sub.close()
    finally:
        pub.close()
        b.stop()


def _config_file(folder: Path, port: int, extra: str = "") -> Path:
    path = folder / "exhibit.toml"
    path.write_text(
        f'[exhibit]\nname = "hall-3"\n[telemetry]\nhost = "127.0.0.1"\nport = {port}\n{extra}'
        '[show]\ninitial = "idle"\n[show.states.idle]\n',
        encoding="utf-8",
    )
    return path


def test_telemetry_check_connects_without_disturbing_the_running_exhibit(
    broker: Broker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from exhibit.cli import main

    running = MqttPublisher(telemetry(broker.port), "hall-3", status)
    with running:
        assert wait_until(lambda: running.stats()["phase"] == "connected")
        config = _config_file(tmp_path, broker.port, "commands = true\n")
        assert main(["telemetry", "check", str(config)]) == 0
        out = capsys.readouterr().out
        assert f"connected to 127.0.0.1:{broker.port} (no TLS, anonymous)" in out
        assert f"commands: subscribed to {PREFIX}/cmd" in out
        time.sleep(0.3)
        assert running.stats()["connects"] == 1  # its own client id: nobody was thrown off


def test_telemetry_check_says_what_the_broker_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from exhibit.cli import main

    b = _broker_with_password(tmp_path)
    try:
        wrong = _config_file(tmp_path, b.port, 'username = "hall3"\npassword = "wrong"\n')
        assert main(["telemetry", "check", str(wrong)]) == 1
        err = capsys.readouterr().err
        assert f"FAIL: 127.0.0.1:{b.port} refused the connection: Not authorized" in err
        assert "check username and password or password_file" in err
        right = _config_file(tmp_path, b.port, 'username = "hall3"\npassword = "right-one"\n')
        assert main(["telemetry", "check", str(right)]) == 0
        assert "(no TLS, user hall3)" in capsys.readouterr().out
    finally:
        b.stop()
    assert main(["telemetry", "check", str(right), "--timeout", "1"]) == 1
    assert "FAIL: cannot reach" in capsys.readouterr().err


def test_a_password_file_that_is_not_utf8_is_said_once_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Saved as "Unicode" by a Windows editor: the publisher says what is wrong, backs off, and
    never puts the file's bytes in the journal."""
    secret = tmp_path / "password"
    secret.write_bytes("\ufeffs3cret-Pa55".encode("utf-16"))
    cfg = telemetry(free_udp_port(), username="hall3", password_file=str(secret))
    pub = MqttPublisher(cfg, "hall-3", status)
    with caplog.at_level(logging.DEBUG, "exhibit"):
        pub.start()
        time.sleep(1.0)
        pub.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("is not UTF-8 text" in w for w in warnings) == 1
    assert "s3cret" not in caplog.text and "\\xff" not in caplog.text
    assert pub.stats()["internal_errors"] == 0
    assert 2 <= pub.stats()["failed_attempts"] <= 6  # backing off (0.1, 0.2, 0.4 ...), not 20/s
