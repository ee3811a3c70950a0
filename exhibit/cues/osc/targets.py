"""A cue target as the sender needs it (``TargetSpec``), and its validation from config.

A ``[targets]`` entry is a URL string or a table::

    [targets]
    projector = "udp://10.0.0.20:7000"
    sound = { url = "tcp://10.0.0.5", profile = "qlab", passcode = "1234", replies = true }
    synth = { url = "tcp://127.0.0.1:57110", profile = "scsynth" }

``parse_target`` reads one entry through a ``Checker``: every problem is reported with its key
path, the bad value, the accepted form and the closest known key or profile, and ``None`` is
returned when no target can be built. Advice that is not an error (a profile whose maker
documents UDP only, used over TCP) goes to ``checker.warnings``.

Example:
    >>> from exhibit.config.checker import Checker
    >>> c = Checker()
    >>> spec = parse_target({"url": "tcp://10.0.0.5", "profile": "qlab"}, "targets.sound", c)
    >>> (spec.protocol, spec.port, spec.framing, c.problems)
    ('tcp', 53000, 'slip', [])
    >>> parse_target({"url": "udp://h:1", "profle": "qlab"}, "targets.x", c)
    TargetSpec(name='x', url='udp://h:1', host='h', port=1, protocol='udp', framing='slip', profile=None, passcode=None, replies=False, reply_port=None, reply_timeout_s=1.0)
    >>> c.problems[0]
    'targets.x.profle: unknown key; expected one of framing, passcode, profile, replies, reply_port, reply_timeout_s, url; did you mean "profile"?'
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from exhibit.config.checker import Checker, join
from exhibit.cues.osc.framing import FRAMINGS, Framing
from exhibit.cues.osc.profiles import PROFILES
from exhibit.cues.osc.url import ALL_PROTOCOLS, parse_target_url

TARGET_KEYS = ("url", "profile", "framing", "passcode", "replies", "reply_port", "reply_timeout_s")
DEFAULT_REPLY_TIMEOUT_S = 1.0


class TargetLike(Protocol):
    """What every target description has (``TargetConfig`` from the schema, or ``TargetSpec``)."""

    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def protocol(self) -> str: ...


@dataclass(frozen=True)
class TargetSpec:
    """One OSC receiver: where it is, how to reach it, and what it is.

    ``framing`` applies to TCP only (``"slip"``: OSC 1.1; ``"length"``: OSC 1.0). ``profile``
    names an entry of ``exhibit.cues.osc.profiles.PROFILES``. ``passcode`` is sent in QLab's
    ``/connect``. ``replies``: read the receiver's replies and count the ones that do not come
    within ``reply_timeout_s``; over UDP they are awaited on local port ``reply_port`` (0: any
    free port; the receiver must reply to the sender's port then).
    """

    name: str
    url: str
    host: str
    port: int
    protocol: Literal["udp", "tcp"] = "udp"
    framing: Framing = "slip"
    profile: str | None = None
    passcode: str | None = None
    replies: bool = False
    reply_port: int | None = None
    reply_timeout_s: float = DEFAULT_REPLY_TIMEOUT_S


def as_spec(target: TargetLike) -> TargetSpec:
    """``target`` as a ``TargetSpec`` (a schema ``TargetConfig`` is plain UDP, no profile)."""
    if isinstance(target, TargetSpec):
        return target
    protocol = target.protocol
    if protocol not in ("udp", "tcp"):
        raise ValueError(f"target {target.name!r}: protocol {protocol!r} is not supported")
    return TargetSpec(
        name=target.name,
        url=target.url,
        host=target.host,
        port=target.port,
        protocol="tcp" if protocol == "tcp" else "udp",
    )


def _url_expected(default_port: int | None) -> str:
    example = '"udp://10.0.0.20:7000" or "tcp://10.0.0.5:53000"'
    if default_port is not None:
        return f'"udp://host[:port]" or "tcp://host[:port]" (the profile gives port {default_port})'
    return f'"udp://host:port" or "tcp://host:port", e.g. {example}'


def parse_target(
    table: Any, path: str, checker: Checker, *, name: str | None = None
) -> TargetSpec | None:
    """Validate one ``[targets]`` entry at ``path`` (``"targets.sound"``); ``None`` if unusable.

    ``name`` defaults to the last component of ``path``.
    """
    c = checker
    target_name = name if name is not None else path.rsplit(".", 1)[-1]
    if isinstance(table, str):
        table = {"url": table}
    if not isinstance(table, Mapping):
        c.error(path, "not a target", table, 'a URL string or a table with url = "udp://host:port"')
        return None
    t: Mapping[str, Any] = table
    c.unknown_keys(t, path, TARGET_KEYS)

    profile = None
    if "profile" in t:
        chosen = c.choice(t, path, "profile", "", sorted(PROFILES))
        profile = PROFILES.get(chosen)

    url = c.string(t, path, "url")
    if url is None:
        return None
    default_port = profile.default_port if profile is not None else None
    try:
        protocol, host, port = parse_target_url(url, ALL_PROTOCOLS, default_port)
    except ValueError as exc:
        c.error(join(path, "url"), str(exc), show_got=False, expected=_url_expected(default_port))
        return None

    if profile is not None and protocol not in profile.protocols:
        c.warnings.append(
            f"{join(path, 'url')}: {profile.title} is documented to receive OSC over "
            f"{' and '.join(p.upper() for p in profile.protocols)} only (got {protocol}://); "
            "check that the receiver accepts it"
        )

    framing: Framing = profile.framing if profile is not None else "slip"
    if "framing" in t:
        if protocol != "tcp":
            c.error(
                join(path, "framing"),
                "framing applies to tcp:// targets only",
                t["framing"],
                "no framing key, or a tcp:// URL",
            )
        else:
            framing = (
                "length" if c.choice(t, path, "framing", framing, FRAMINGS) == "length" else "slip"
            )

    passcode = None
    if "passcode" in t:
        value = t["passcode"]
        if profile is None or not profile.passcode:
            with_passcode = ", ".join(f'"{p.name}"' for p in PROFILES.values() if p.passcode)
            c.error(
                join(path, "passcode"),
                "passcode is only sent to receivers that ask for one",
                show_got=False,
                expected=f"profile = {with_passcode}",
            )
        elif (
            not isinstance(value, str)
            or not value
            or len(value) > 64
            or not value.isprintable()
            or "\x00" in value
        ):
            c.error(join(path, "passcode"), "not a passcode", value, 'a string such as "1234"')
        else:
            passcode = value

    replies = c.boolean(t, path, "replies", False)
    if replies and (profile is None or not profile.replies):
        with_replies = ", ".join(f'"{p.name}"' for p in PROFILES.values() if p.replies)
        c.error(
            join(path, "replies"),
            "replies can only be read from receivers whose replies we understand",
            show_got=False,
            expected=f"profile = {with_replies}",
        )
        replies = False

    reply_port = None
    if "reply_port" in t:
        if not (replies and protocol == "udp"):
            c.error(
                join(path, "reply_port"),
                "reply_port applies to udp:// targets with replies = true only",
                t["reply_port"],
                "no reply_port key (TCP replies come back on the connection)",
            )
        else:
            reply_port = c.integer(t, path, "reply_port", 0, minimum=0, maximum=65535)
    elif replies and protocol == "udp" and profile is not None:
        reply_port = profile.reply_port

    reply_timeout_s = DEFAULT_REPLY_TIMEOUT_S
    if "reply_timeout_s" in t:
        if not replies:
            c.error(
                join(path, "reply_timeout_s"),
                "reply_timeout_s applies with replies = true only",
                t["reply_timeout_s"],
                "replies = true, or no reply_timeout_s key",
            )
        else:
            reply_timeout_s = c.number(
                t,
                path,
                "reply_timeout_s",
                DEFAULT_REPLY_TIMEOUT_S,
                minimum=0.0,
                maximum=60.0,
                exclusive_minimum=True,
                unit="seconds",
            )

    return TargetSpec(
        name=target_name,
        url=url,
        host=host,
        port=port,
        protocol="tcp" if protocol == "tcp" else "udp",
        framing=framing,
        profile=profile.name if profile is not None else None,
        passcode=passcode,
        replies=replies,
        reply_port=reply_port,
        reply_timeout_s=reply_timeout_s,
    )
