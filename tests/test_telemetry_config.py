"""[telemetry] validation, remote command parsing and the offline outbox: the pure parts of fleet
telemetry (the broker tests are in test_telemetry_mqtt.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exhibit.cli import main
from exhibit.config.load import load, loads
from exhibit.errors import ConfigError
from exhibit.telemetry.buffer import Outbox, Outgoing
from exhibit.telemetry.commands import RemoteCommand, parse_command

SHOW = """
[exhibit]
name = "hall-3"

[show]
initial = "idle"

[show.states.idle]
transitions = [{ on = "presence.enter", to = "welcome" }]

[show.states.welcome]
transitions = [{ on = "presence.leave", to = "idle" }]
"""


def problems(text: str, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        loads(SHOW + text, base_dir=base_dir)
    return info.value.problems


def test_no_section_means_off_and_a_section_means_on() -> None:
    assert not loads(SHOW).telemetry.enabled
    cfg = loads(SHOW + '[telemetry]\nhost = "broker.museum.lan"\n').telemetry
    assert cfg.enabled
    assert (cfg.port, cfg.qos, cfg.commands, cfg.tls) == (1883, 1, False, None)
    assert cfg.topic_for("hall-3") == "museum/exhibits/hall-3"
    assert cfg.client_id_for("hall-3") == "exhibit-hall-3"
    off = loads(SHOW + '[telemetry]\nhost = "b"\nenabled = false\n').telemetry
    assert not off.enabled


def test_tls_defaults_to_port_8883_and_the_password_stays_out_of_repr() -> None:
    cfg = loads(
        SHOW + '[telemetry]\nhost = "b"\ntls = true\nusername = "hall3"\npassword = "s3cret"\n'
    ).telemetry
    assert cfg.port == 8883
    assert cfg.tls is not None and cfg.tls.ca_file is None
    assert "s3cret" not in repr(cfg)
    assert cfg.read_password() == "s3cret"


def test_password_file_relative_to_the_config(tmp_path: Path) -> None:
    secret = tmp_path / "broker.pw"
    secret.write_text("from-file\n", encoding="utf-8")
    secret.chmod(0o600)
    config_file = tmp_path / "exhibit.toml"
    config_file.write_text(
        SHOW + '[telemetry]\nhost = "b"\nusername = "u"\npassword_file = "broker.pw"\n',
        encoding="utf-8",
    )
    cfg = load(config_file)
    assert cfg.telemetry.read_password() == "from-file"
    assert cfg.warnings == ()
    secret.chmod(0o644)
    assert any("chmod 600" in w for w in load(config_file).warnings)


def test_every_bad_key_is_reported_with_its_path_and_a_fix() -> None:
    found = problems(
        """
[telemetry]
host = "mqtt://broker:1883"
port = 70000
qos = 3
topic = "museum/+/x"
health_interval_s = 0
buffer_messages = 0
retry_min_s = 10
retry_max_s = 1
comands = true
password = "x"
"""
    )
    text = "\n".join(found)
    assert 'telemetry.host: not a host name or address (got "mqtt://broker:1883")' in text
    assert 'did you mean "broker"?' in text
    assert "telemetry.port: out of range (got 70000)" in text
    assert "telemetry.qos: out of range (got 3); expected a value >= 0 and <= 2" in text
    assert "telemetry.topic: not a topic to publish under: has a wildcard" in text
    assert "telemetry.health_interval_s: out of range (got 0)" in text
    assert "telemetry.buffer_messages: out of range (got 0)" in text
    assert "telemetry.retry_max_s: below retry_min_s (got 1)" in text
    assert "telemetry.comands: unknown key; expected one of" in text
    assert 'did you mean "commands"?' in text
    assert "telemetry.username: missing; expected a username" in text


def test_missing_host_and_files_name_their_keys(tmp_path: Path) -> None:
    found = problems(
        """
[telemetry]
username = "u"
password_file = "nope.pw"
tls = { ca_file = "ca.pem", cert_file = "client.crt" }
""",
        base_dir=tmp_path,
    )
    text = "\n".join(found)
    assert "telemetry.host: missing; expected a string" in text
    assert f"telemetry.password_file: no such file ({tmp_path / 'nope.pw'})" in text
    assert f"telemetry.tls.ca_file: no such file ({tmp_path / 'ca.pem'})" in text
    assert "telemetry.tls.key_file: missing; expected cert_file and key_file together" in text


def test_a_file_that_is_not_pem_is_caught_at_check(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n", encoding="utf-8")
    found = problems('[telemetry]\nhost = "b"\ntls = { ca_file = "ca.pem" }\n', tmp_path)
    assert len(found) == 1
    assert found[0].startswith("telemetry.tls.ca_file: not a CA certificate in PEM form")
    assert "-----BEGIN CERTIFICATE-----" in found[0]


def test_both_password_and_password_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("x", encoding="utf-8")
    found = problems(
        '[telemetry]\nhost = "b"\nusername = "u"\npassword = "x"\npassword_file = "pw"\n',
        tmp_path,
    )
    assert found == [
        "telemetry.password: given together with password_file; expected one of them "
        "(password_file keeps the secret out of the config)"
    ]


def test_commands_without_credentials_on_the_network_warn() -> None:
    open_broker = loads(SHOW + '[telemetry]\nhost = "10.0.0.5"\ncommands = true\n')
    assert any("anyone who can reach 10.0.0.5:1883" in w for w in open_broker.warnings)
    local = loads(SHOW + '[telemetry]\nhost = "127.0.0.1"\ncommands = true\n')
    assert local.warnings == ()


def test_exhibit_check_reports_a_broker_that_does_not_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "exhibit.toml"
    config_file.write_text(SHOW + '[telemetry]\nhost = "no-such-broker.invalid"\n', "utf-8")
    assert main(["check", str(config_file)]) != 0
    err = capsys.readouterr()
    assert "telemetry.host: MQTT broker 'no-such-broker.invalid' does not resolve" in (
        err.out + err.err
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"reset", RemoteCommand("reset")),
        (b"  PAUSE\n", RemoteCommand("pause")),
        (b"resume", RemoteCommand("resume")),
        (b"reload", RemoteCommand("reload")),
        (b"goto explain detail", RemoteCommand("goto", "explain detail")),
        (b'{"command": "goto", "state": "welcome"}', RemoteCommand("goto", "welcome")),
        (b'{"command": "reset"}', RemoteCommand("reset")),
    ],
)
def test_commands_parse(payload: bytes, expected: RemoteCommand) -> None:
    assert parse_command(payload) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "malformed"),
        (b"\xff\xfe", "malformed"),
        (b"x" * 300, "malformed"),
        (b"{not json", "malformed"),
        (b"[1, 2]", "unknown_command"),
        (b'{"cmd": "reset"}', "malformed"),
        (b'{"command": "goto", "state": 3}', "bad_argument"),
        (b'{"command": "reset", "force": true}', "bad_argument"),
        (b"goto", "bad_argument"),
        (b"reset now", "bad_argument"),
        (b"shutdown", "unknown_command"),
    ],
)
def test_bad_commands_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    refused = parse_command(payload)
    assert not isinstance(refused, RemoteCommand)
    assert refused.reason == reason


def test_outbox_drops_oldest_health_first_and_counts() -> None:
    box = Outbox(max_messages=3, max_bytes=10_000)
    box.add(Outgoing("health", "t/health", b"h1"))
    box.add(Outgoing("fault", "t/faults", b"f1"))
    box.add(Outgoing("health", "t/health", b"h2"))
    box.add(Outgoing("fault", "t/faults", b"f2"))
    assert [m.payload for m in box.items()] == [b"f1", b"h2", b"f2"]
    box.add(Outgoing("fault", "t/faults", b"f3"))
    box.add(Outgoing("fault", "t/faults", b"f4"))  # no health left: the oldest fault goes
    assert [m.payload for m in box.items()] == [b"f2", b"f3", b"f4"]
    assert box.dropped_counts() == {"health": 2, "fault": 1}


def test_outbox_is_bounded_in_bytes_too() -> None:
    box = Outbox(max_messages=1000, max_bytes=100)
    for i in range(20):
        box.add(Outgoing("health", "t", bytes(20) + bytes([i])))
    assert box.size_bytes <= 100
    assert len(box) == 4
    assert box.dropped_counts()["health"] == 16
    box.add(Outgoing("fault", "t", bytes(500)))  # larger than the whole bound: counted, dropped
    assert box.dropped_counts()["fault"] == 1


def test_paho_is_pinned_as_a_runtime_dependency() -> None:
    root = Path(__file__).resolve().parent.parent
    assert "paho-mqtt==" in (root / "constraints.txt").read_text(encoding="utf-8")
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    runtime = pyproject.split("[project.optional-dependencies]")[0]
    assert '"paho-mqtt' in runtime


def test_importing_the_config_does_not_import_paho() -> None:
    # The config loads on machines without telemetry; paho is imported only to publish.
    code = "import sys, exhibit.config.load; print('paho' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "False"


def readme_telemetry_block() -> str:
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index("\n[telemetry]") + 1
    return text[start : text.index("\n\n", start)]


def test_every_key_is_in_the_readme_reference_and_the_example_loads() -> None:
    from exhibit.telemetry.config import TELEMETRY_KEYS, TLS_KEYS

    block = readme_telemetry_block()
    for key in (*TELEMETRY_KEYS, *TLS_KEYS):
        assert f"{key} =" in block, f"[telemetry] {key} is not in the README's config example"
    cfg = loads(SHOW + block).telemetry
    assert (cfg.host, cfg.port, cfg.username, cfg.commands) == (
        "broker.museum.lan",
        8883,
        "hall-3",
        True,
    )
    assert cfg.tls is not None


def test_a_tls_file_broken_after_check_turns_telemetry_off_not_the_show(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from exhibit.telemetry.config import TelemetryConfig, TlsConfig
    from exhibit.telemetry.mqtt import MqttPublisher

    ca = tmp_path / "ca.pem"
    ca.write_text("garbage\n", encoding="utf-8")
    cfg = TelemetryConfig(enabled=True, host="127.0.0.1", tls=TlsConfig(ca_file=str(ca)))
    publisher = MqttPublisher(cfg, "hall-3", dict)
    publisher.start()
    publisher.close()
    assert publisher.stats()["phase"] == "stopped"
    assert "MQTT telemetry is off: the TLS files cannot be used" in caplog.text
