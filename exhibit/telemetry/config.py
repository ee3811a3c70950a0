"""The ``[telemetry]`` config section: which MQTT broker to report to, and how.

Every key is checked when the config loads (``exhibit check``), so a typo in the broker's port or
a missing CA file is found at the desk, not by a dashboard that stays empty. Files (CA, client
certificate and key, password file) are relative to the config's folder and must exist; the
password itself never appears in a repr or a log.

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> cfg = parse_telemetry({"host": "broker.local", "topic": "museum/{name}"}, "telemetry", c)
    >>> (cfg.enabled, cfg.port, cfg.topic_for("hall-3"), c.problems)
    (True, 1883, 'museum/hall-3', [])
    >>> _ = parse_telemetry({"host": "broker.local", "qos": 3}, "telemetry", c)
    >>> c.problems
    ['telemetry.qos: out of range (got 3); expected a value >= 0 and <= 2']
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exhibit.config.checker import Checker, join, show

TELEMETRY_KEYS = (
    "enabled",
    "host",
    "port",
    "tls",
    "username",
    "password",
    "password_file",
    "client_id",
    "topic",
    "health_interval_s",
    "keepalive_s",
    "qos",
    "buffer_messages",
    "buffer_bytes",
    "retry_min_s",
    "retry_max_s",
    "commands",
)
TLS_KEYS = ("ca_file", "cert_file", "key_file")
DEFAULT_TOPIC = "museum/exhibits/{name}"
PLAIN_PORT = 1883
TLS_PORT = 8883


@dataclass(frozen=True)
class TlsConfig:
    """``[telemetry.tls]``: the CA that signed the broker's certificate (``None``: the system's
    CAs) and, for brokers that ask for one, this exhibit's client certificate and key."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


@dataclass(frozen=True)
class TelemetryConfig:
    """``[telemetry]``: off unless the config has the section (see the README's reference).

    ``topic`` is a template: ``{name}`` becomes ``[exhibit] name``. Buffer bounds hold health
    and fault messages while the broker is away; sessions are never buffered here (they stay
    unsent in the session store until the broker has acknowledged them).
    """

    enabled: bool = False
    host: str = ""
    port: int = PLAIN_PORT
    tls: TlsConfig | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: str | None = None
    client_id: str = "exhibit-{name}"
    topic: str = DEFAULT_TOPIC
    health_interval_s: float = 30.0
    keepalive_s: int = 30
    qos: int = 1
    buffer_messages: int = 1000
    buffer_bytes: int = 1_000_000
    retry_min_s: float = 1.0
    retry_max_s: float = 120.0
    commands: bool = False

    def topic_for(self, exhibit: str) -> str:
        """The topic prefix of the exhibit named ``exhibit``."""
        return self.topic.replace("{name}", exhibit)

    def client_id_for(self, exhibit: str) -> str:
        return self.client_id.replace("{name}", exhibit)

    def read_password(self) -> str | None:
        """The password, from the config or from ``password_file`` (first line, at connect time,
        so a rotated password needs no config reload)."""
        if self.password is not None:
            return self.password
        if self.password_file is None:
            return None
        text = Path(self.password_file).read_text(encoding="utf-8")
        return text.splitlines()[0] if text else ""


def topic_problem(topic: str) -> str | None:
    """What makes ``topic`` unusable as a prefix to publish under, or ``None``.

    >>> topic_problem("museum/+/x")
    'has a wildcard (+ or #), which only subscribers may use'
    """
    if not topic:
        return "is empty"
    if "+" in topic or "#" in topic:
        return "has a wildcard (+ or #), which only subscribers may use"
    if "\x00" in topic:
        return "has a NUL character"
    if topic.startswith("/") or topic.endswith("/"):
        return "starts or ends with /, which makes an empty topic level"
    if "//" in topic:
        return "has an empty level (//)"
    if topic.startswith("$"):
        return "starts with $, which brokers keep for themselves ($SYS)"
    if len(topic.encode("utf-8")) > 200:
        return "is longer than 200 bytes"
    return None


def _host_ok(host: str) -> bool:
    """A bare host name or IP address (no scheme, port, path or spaces)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return host.strip() == host and not any(ch in host for ch in "/: @[]") and host.isprintable()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _file(
    table: Mapping[str, Any], path: str, key: str, c: Checker, base_dir: Path, what: str
) -> str | None:
    """A file the config names: relative to the config's folder, must be a readable file."""
    if key not in table:
        return None
    raw = c.string(table, path, key)
    if raw is None:
        return None
    file = Path(raw).expanduser()
    if not file.is_absolute():
        file = base_dir / file
    if not file.is_file():
        c.error(
            join(path, key),
            f"no such file ({file})",
            raw,
            f"the path of {what}, absolute or relative to the config's folder",
        )
        return None
    if not os.access(file, os.R_OK):
        c.error(
            join(path, key),
            f"cannot be read by this user ({file})",
            raw,
            "a file the exhibit's service user may read (check its owner and mode)",
        )
        return None
    return str(file)


def _tls(raw: Any, path: str, c: Checker, base_dir: Path) -> TlsConfig | None:
    if raw is False:
        return None
    if raw is True:
        return TlsConfig()
    if not isinstance(raw, Mapping):
        c.error(path, "not a table or a boolean", raw, 'true, or a table with ca_file = "ca.crt"')
        return None
    c.unknown_keys(raw, path, TLS_KEYS)
    ca = _file(raw, path, "ca_file", c, base_dir, "the CA certificate (PEM) of the broker")
    cert = _file(raw, path, "cert_file", c, base_dir, "this exhibit's client certificate (PEM)")
    key = _file(raw, path, "key_file", c, base_dir, "the private key of the client certificate")
    if ("cert_file" in raw) != ("key_file" in raw):
        missing = "key_file" if "cert_file" in raw else "cert_file"
        c.error(
            join(path, missing),
            "missing",
            show_got=False,
            expected="cert_file and key_file together (a client certificate needs its key)",
        )
    _check_pem(ca, cert, key, path, c)
    return TlsConfig(ca_file=ca, cert_file=cert, key_file=key)


def _check_pem(ca: str | None, cert: str | None, key: str | None, path: str, c: Checker) -> None:
    """Load the CA and the client certificate as the connection will, so a file that is not
    PEM, or a key that does not belong to its certificate, is found by ``exhibit check``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None:
        try:
            context.load_verify_locations(cafile=ca)
        except (ssl.SSLError, OSError, ValueError) as exc:
            c.error(
                join(path, "ca_file"),
                f"not a CA certificate in PEM form ({exc})",
                ca,
                "the broker's CA certificate, a file starting with -----BEGIN CERTIFICATE-----",
            )
    if cert is not None and key is not None:
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError, ValueError) as exc:
            c.error(
                join(path, "key_file"),
                f"the certificate and key cannot be used together ({exc})",
                key,
                "the PEM private key (unencrypted) that belongs to cert_file",
            )


def parse_telemetry(
    table: Any,
    path: str,
    checker: Checker,
    *,
    base_dir: str | Path = ".",
    exhibit_name: str = "exhibit",
) -> TelemetryConfig:
    """Validate the ``[telemetry]`` table at ``path``, collecting problems in ``checker``.

    A present, non-empty table turns telemetry on (``enabled = false`` turns it off again);
    ``host`` is then required.
    """
    c = checker
    d = TelemetryConfig()
    if not isinstance(table, Mapping):
        c.error(path, "not a table", table, f"a [{path}] table")
        return d
    if not table:
        return d
    c.unknown_keys(table, path, TELEMETRY_KEYS)
    base = Path(base_dir)
    enabled = c.boolean(table, path, "enabled", True)
    host = c.string(table, path, "host")
    if host is not None and not _host_ok(host):
        hint = host.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip()
        c.error(
            join(path, "host"),
            "not a host name or address",
            host,
            'a name or an IP address only, e.g. "broker.museum.lan"; the port goes in port',
            f'"{hint}"' if hint and hint != host else None,
        )
        host = None  # said once: not looked up in DNS as well
    tls = _tls(table["tls"], join(path, "tls"), c, base) if "tls" in table else None
    port = c.integer(
        table, path, "port", TLS_PORT if tls is not None else PLAIN_PORT, minimum=1, maximum=65535
    )
    username = c.string(table, path, "username", "") or None
    password = c.string(table, path, "password", "") or None
    password_file = _file(table, path, "password_file", c, base, "a file holding the password")
    if password is not None and "password_file" in table:
        c.error(
            join(path, "password"),
            "given together with password_file",
            show_got=False,
            expected="one of them (password_file keeps the secret out of the config)",
        )
    if (password is not None or "password_file" in table) and username is None:
        c.error(
            join(path, "username"),
            "missing",
            show_got=False,
            expected="a username: the broker checks a password only with one",
        )
    if password_file is not None:
        mode = Path(password_file).stat().st_mode
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            c.warnings.append(
                f"{join(path, 'password_file')}: {password_file} can be read by any user "
                "(chmod 600 it)"
            )
    client_id = c.string(table, path, "client_id", d.client_id) or d.client_id
    if len(client_id.replace("{name}", exhibit_name).encode("utf-8")) > 128:
        c.error(join(path, "client_id"), "longer than 128 bytes", client_id, "a shorter id")
    topic = c.string(table, path, "topic", d.topic) or d.topic
    problem = topic_problem(topic.replace("{name}", exhibit_name))
    if problem is not None:
        c.error(
            join(path, "topic"),
            f"not a topic to publish under: {problem}",
            topic,
            'levels separated by /, e.g. "museum/exhibits/{name}" ({name} is [exhibit] name)',
        )
    else:
        leftover = topic.replace("{name}", "")
        if "{" in leftover or "}" in leftover:
            c.error(
                join(path, "topic"),
                "has a placeholder other than {name}",
                topic,
                '"museum/exhibits/{name}"',
            )
    qos = c.integer(table, path, "qos", d.qos, minimum=0, maximum=2)
    health = c.number(
        table,
        path,
        "health_interval_s",
        d.health_interval_s,
        minimum=0.05,
        unit="seconds",
    )
    keepalive = c.integer(table, path, "keepalive_s", d.keepalive_s, minimum=5, maximum=65535)
    buffer_messages = c.integer(
        table, path, "buffer_messages", d.buffer_messages, minimum=1, maximum=1_000_000
    )
    buffer_bytes = c.integer(
        table, path, "buffer_bytes", d.buffer_bytes, minimum=1024, maximum=256_000_000
    )
    retry_min = c.number(
        table, path, "retry_min_s", d.retry_min_s, minimum=0.05, maximum=3600, unit="seconds"
    )
    retry_max = c.number(
        table, path, "retry_max_s", d.retry_max_s, minimum=0.05, maximum=86400, unit="seconds"
    )
    if retry_max < retry_min:
        c.error(
            join(path, "retry_max_s"),
            "below retry_min_s",
            table.get("retry_max_s", retry_max),
            f"a value >= retry_min_s ({retry_min:g})",
        )
    commands = c.boolean(table, path, "commands", d.commands)
    if (
        enabled
        and commands
        and host
        and username is None
        and tls is None
        and not _is_loopback(host)
    ):
        c.warnings.append(
            f"{join(path, 'commands')}: {show(True)} with no username and no TLS: anyone who can "
            f"reach {host}:{port} may pause or reset the exhibit"
        )
    return TelemetryConfig(
        enabled=enabled and host is not None,
        host=host or "",
        port=port,
        tls=tls,
        username=username,
        password=password,
        password_file=password_file,
        client_id=client_id,
        topic=topic,
        health_interval_s=health,
        keepalive_s=keepalive,
        qos=qos,
        buffer_messages=buffer_messages,
        buffer_bytes=buffer_bytes,
        retry_min_s=retry_min,
        retry_max_s=retry_max,
        commands=commands,
    )
