"""Device strings as the config writes them: a device path or a pyserial URL.

``check_device_url`` says what is wrong with one, in the words the config checker uses
(``what``, ``expected``, ``did_you_mean``), or returns None. Accepted forms, after pyserial's
URL handlers (``serial_for_url``):

* an absolute device path: ``/dev/serial/by-id/usb-...`` (stable across replugs: use this on the
  Pi), ``/dev/ttyACM0``, a pty such as ``/dev/pts/5`` (the simulator); ``COM3`` on Windows;
* ``loop://`` (tests), ``socket://host:port``, ``rfc2217://host:port``,
  ``spy://<device or URL>?file=/tmp/spy.txt`` (hexdump the traffic), ``hwgrep://<regexp>``,
  ``alt://<device>?class=PosixPollSerial``.

Example:
    >>> check_device_url("socket://localhost:7000") is None
    True
    >>> p = check_device_url("sockt://localhost:7000")
    >>> p.what, p.did_you_mean
    ('unknown URL scheme "sockt"', 'socket')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from exhibit.config.checker import suggest

SCHEMES = ("loop", "socket", "rfc2217", "spy", "hwgrep", "alt")
EXPECTED = (
    'a device path such as "/dev/serial/by-id/usb-..." or a pyserial URL '
    "(loop://, socket://host:port, rfc2217://host:port, spy://<device>, hwgrep://<regexp>)"
)
LOGGING_LEVELS = ("debug", "info", "warning", "error")
OPTIONS = {
    "loop": ("logging",),
    "socket": ("logging",),
    "rfc2217": ("ign_set_control", "poll_modem", "timeout", "logging"),
    "spy": ("file", "color", "raw", "all"),
    "hwgrep": ("skip_busy", "n"),
    "alt": ("class",),
}
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)
_WINDOWS_PORT = re.compile(r"^COM[1-9][0-9]*$", re.IGNORECASE)


@dataclass(frozen=True)
class UrlProblem:
    """Why a device string cannot work, in the config checker's terms."""

    what: str
    expected: str = EXPECTED
    did_you_mean: str | None = None

    def __str__(self) -> str:
        text = f"{self.what}; expected {self.expected}"
        if self.did_you_mean:
            text += f"; did you mean {self.did_you_mean}?"
        return text


def check_device_url(url: object) -> UrlProblem | None:
    """None when ``url`` is a usable device path or pyserial URL, else what is wrong."""
    if not isinstance(url, str) or not url.strip():
        return UrlProblem("not a non-empty string")
    if url != url.strip():
        return UrlProblem("has leading or trailing spaces")
    match = _URL.match(url)
    if match is None:
        if url.startswith("/") or _WINDOWS_PORT.match(url):
            return None
        if ":" in url and "://" not in url:
            return UrlProblem("not a URL (no //)", did_you_mean=_fix_slashes(url))
        return UrlProblem("not an absolute device path")
    scheme = match["scheme"].lower()
    rest = match["rest"]
    if scheme not in SCHEMES:
        hint = suggest(scheme, SCHEMES)
        return UrlProblem(f'unknown URL scheme "{match["scheme"]}"', did_you_mean=hint)
    target, _, query = rest.partition("?")
    problem = _check_options(scheme, query)
    if problem is not None:
        return problem
    if scheme == "loop":
        if target:
            return UrlProblem("loop:// takes no host or path", expected="loop://")
        return None
    if scheme in ("socket", "rfc2217"):
        return _check_host_port(scheme, url)
    if scheme == "hwgrep":
        if not target:
            return UrlProblem("hwgrep:// needs a regular expression", expected="hwgrep://<regexp>")
        try:
            re.compile(target)
        except re.error as exc:
            return UrlProblem(f"not a regular expression ({exc})", expected="hwgrep://<regexp>")
        return None
    # spy:// and alt:// wrap another port
    if not target:
        return UrlProblem(f"{scheme}:// needs the port it wraps", expected=f"{scheme}://<device>")
    inner = check_device_url(target)
    if inner is not None:
        return UrlProblem(f"{scheme}:// wraps a bad port: {inner.what}", expected=inner.expected)
    return None


def device_path_of(url: str) -> str | None:
    """The file-system path a device string opens (through spy:// and alt://), if any."""
    match = _URL.match(url)
    if match is None:
        return url if url.startswith("/") else None
    scheme = match["scheme"].lower()
    if scheme in ("spy", "alt"):
        return device_path_of(match["rest"].partition("?")[0])
    return None


def _fix_slashes(url: str) -> str | None:
    scheme, _, rest = url.partition(":")
    hint = scheme.lower() if scheme.lower() in SCHEMES else suggest(scheme.lower(), SCHEMES)
    return f'"{hint}://{rest.lstrip("/")}"' if hint else None


def _check_options(scheme: str, query: str) -> UrlProblem | None:
    if not query:
        return None
    known = OPTIONS[scheme]
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in known:
            hint = suggest(key, known)
            return UrlProblem(
                f'unknown {scheme}:// option "{key}"',
                expected="one of " + ", ".join(known),
                did_you_mean=f'"{hint}"' if hint else None,
            )
        if key == "logging" and value not in LOGGING_LEVELS:
            return UrlProblem(
                f'logging level "{value}"', expected="one of " + ", ".join(LOGGING_LEVELS)
            )
    return None


def _check_host_port(scheme: str, url: str) -> UrlProblem | None:
    expected = f"{scheme}://host:port"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return UrlProblem(f"bad port ({exc})", expected=expected)
    if not parts.hostname:
        return UrlProblem(f"{scheme}:// needs a host", expected=expected)
    if port is None:
        return UrlProblem(f"{scheme}:// needs a port", expected=expected)
    if not 1 <= port <= 65535:
        return UrlProblem(f"port {port} out of range", expected="a port 1..65535")
    if parts.path not in ("", "/"):
        return UrlProblem(f"{scheme}:// takes no path", expected=expected)
    return None
