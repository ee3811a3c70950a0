"""``exhibit telemetry check CONFIG``: can this exhibit reach its broker, as configured?

A technician's question on site, answered once, without publishing anything: it connects with
the config's host, port, TLS and credentials under a client id of its own (``...-check``, so a
running exhibit is not thrown off the broker), and, with ``commands = true``, subscribes to the
command topic. What it cannot see is the broker's ACL: Mosquitto 2.0 acknowledges a publish and
a subscription it will not honour (the publish is dropped, nothing is delivered), so a user
without the rights connects fine here; the broker's log, or a dashboard, tells.

Example (nothing listens on port 9 here):
    >>> from exhibit.telemetry.config import TelemetryConfig
    >>> result = check_broker(TelemetryConfig(enabled=True, host="127.0.0.1", port=9), "demo")
    >>> result.ok, result.problem.startswith("cannot reach 127.0.0.1:9")
    (False, True)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from exhibit.telemetry.config import TelemetryConfig

AUTH_CODES = (4, 5, 134, 135)  # bad user name or password / not authorized (3.1.1 and 5)


@dataclass
class BrokerCheck:
    """What one connection attempt found."""

    ok: bool = False
    problem: str = ""
    connect_ms: float | None = None
    subscribed: bool | None = None  # None: commands are off, nothing was asked
    lines: list[str] = field(default_factory=list)


def _reach_fix(exc: BaseException) -> str:
    """The likely fix for a broker that could not be reached, as a parenthesis ("" if unsure).

    >>> _reach_fix(ConnectionRefusedError(111, "Connection refused"))[:30]
    ' (nothing listens there: is th'
    """
    import socket

    if isinstance(exc, ConnectionRefusedError):
        return (
            " (nothing listens there: is the broker running, and are [telemetry] host and port"
            " right? Mosquitto listens on 1883, or 8883 with TLS)"
        )
    if isinstance(exc, socket.gaierror):
        return " (the name does not resolve: check [telemetry] host, DNS or /etc/hosts)"
    if isinstance(exc, TimeoutError):
        return " (no answer: a firewall between here and the broker, or the wrong address?)"
    return ""


def check_broker(config: TelemetryConfig, exhibit: str, timeout_s: float = 5.0) -> BrokerCheck:
    """Connect once as the config says; never publishes."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from exhibit.telemetry.mqtt import Topics, tls_context

    result = BrokerCheck()
    topics = Topics(config.topic_for(exhibit))
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=config.client_id_for(exhibit) + "-check",
        clean_session=True,
        protocol=paho.MQTTv311,
    )
    client.connect_timeout = timeout_s
    connected = threading.Event()
    subacked = threading.Event()
    answer: dict[str, Any] = {}

    def on_connect(c: Any, u: Any, flags: Any, reason: Any, props: Any) -> None:
        answer["reason"] = reason
        connected.set()

    def on_subscribe(c: Any, u: Any, mid: int, codes: Any, props: Any) -> None:
        answer["codes"] = list(codes)
        subacked.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    where = f"{config.host}:{config.port}"
    context = None
    try:
        if config.tls is not None:
            context = tls_context(config.tls)
            client.tls_set_context(context)
        if config.username is not None:
            client.username_pw_set(config.username, config.read_password())
    except (OSError, ValueError) as exc:
        result.problem = f"the TLS or password files cannot be used: {exc}"
        return result
    started = time.monotonic()
    try:
        client.connect(config.host, config.port, keepalive=config.keepalive_s)
    except (OSError, ValueError) as exc:
        if context is not None and context.last is not None:
            context.last.close()  # paho leaves a failed handshake's socket open
        result.problem = f"cannot reach {where}: {exc}{_reach_fix(exc)}"
        return result
    try:
        deadline = time.monotonic() + timeout_s
        while not connected.is_set() and time.monotonic() < deadline:
            client.loop(timeout=0.05)
        reason = answer.get("reason")
        if reason is None:
            result.problem = f"{where} gave no answer to CONNECT within {timeout_s:g} s"
            return result
        if reason.is_failure:
            hint = ""
            if reason.value in AUTH_CODES:
                hint = " (check username and password or password_file in [telemetry])"
            result.problem = f"{where} refused the connection: {reason}{hint}"
            return result
        result.ok = True
        result.connect_ms = (time.monotonic() - started) * 1000.0
        tls = "TLS, broker verified" if config.tls is not None else "no TLS"
        user = f"user {config.username}" if config.username else "anonymous"
        result.lines.append(f"connected to {where} ({tls}, {user}) in {result.connect_ms:.0f} ms")
        result.lines.append(
            f"publishes to {topics.prefix}/{{status,health,sessions,faults,cmd/result}}"
        )
        if config.commands:
            client.subscribe(topics.cmd, qos=1)
            deadline = time.monotonic() + timeout_s
            while not subacked.is_set() and time.monotonic() < deadline:
                client.loop(timeout=0.05)
            codes = answer.get("codes", [])
            result.subscribed = bool(codes) and not any(c.is_failure for c in codes)
            if result.subscribed:
                result.lines.append(
                    f"commands: subscribed to {topics.cmd} (the broker's ACL decides what "
                    "reaches it)"
                )
            else:
                result.ok = False
                result.problem = f"the broker refused the subscription to {topics.cmd}"
        else:
            result.lines.append("commands: off (commands = false)")
        return result
    finally:
        with contextlib.suppress(Exception):
            client.disconnect()
            client.loop(timeout=0.05)


def cmd_telemetry_check(args: argparse.Namespace) -> int:
    from exhibit.config.load import load

    config = load(args.config)
    telemetry = config.telemetry
    if not telemetry.enabled:
        print(f"{args.config}: no [telemetry] (or enabled = false): nothing to check")
        return 2
    result = check_broker(telemetry, config.name, args.timeout)
    for line in result.lines:
        print(line)
    if not result.ok:
        print(f"FAIL: {result.problem}", file=sys.stderr)
        return 1
    print("OK")
    return 0


def add_telemetry_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``telemetry check`` to the main parser's subcommands."""
    p = sub.add_parser("telemetry", help="fleet telemetry over MQTT (docs/telemetry.md)")
    tsub = p.add_subparsers(dest="telemetry_command", required=True)
    c = tsub.add_parser(
        "check",
        help="connect once to the [telemetry] broker as configured; publish nothing",
    )
    c.add_argument("config")
    c.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the broker")
    c.set_defaults(func=cmd_telemetry_check)
