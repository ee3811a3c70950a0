"""Target URLs (``udp://host:port``, ``tcp://host:port``) as written in the designer's config.

``parse_target_url`` raises ``ValueError`` with the precise reason; the config validator prefixes
it with the key's path. By default only ``udp`` is accepted (what ``OscSender`` could send before
TCP existed, so an older loader never takes a ``tcp://`` URL for UDP); ``exhibit.cues.osc.targets``
passes ``accepted=("udp", "tcp")``. A profile's ``default_port`` fills in a missing port.

Example:
    >>> parse_target_url("udp://projector.local:9000")
    ('udp', 'projector.local', 9000)
    >>> parse_target_url("udp://[::1]:7000")
    ('udp', '::1', 7000)
    >>> parse_target_url("tcp://10.0.0.5", accepted=("udp", "tcp"), default_port=53000)
    ('tcp', '10.0.0.5', 53000)
"""

from __future__ import annotations

import ipaddress
import re
import socket

ACCEPTED_PROTOCOLS: tuple[str, ...] = ("udp",)
ALL_PROTOCOLS: tuple[str, ...] = ("udp", "tcp")

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.DOTALL)
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _check_hostname(host: str, url: str) -> None:
    """Raise ``ValueError`` unless ``host`` is an IPv4 address or a DNS host name."""
    if len(host) > 253:
        raise ValueError(f"host name is longer than 253 characters (got {url!r})")
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if all(label.isdigit() for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError as exc:
            raise ValueError(f"invalid IPv4 address {host!r} (got {url!r})") from exc
        return
    for label in labels:
        if not _HOST_LABEL.fullmatch(label):
            raise ValueError(
                f"invalid host {host!r} (got {url!r}); expected a host name "
                "(letters, digits, '-' and '.'), an IPv4 address, or an IPv6 address in "
                "brackets such as [::1]"
            )


def parse_target_url(
    url: str,
    accepted: tuple[str, ...] = ACCEPTED_PROTOCOLS,
    default_port: int | None = None,
) -> tuple[str, str, int]:
    """Split ``udp://host:port`` into ``(protocol, host, port)``.

    The protocol is returned in lower case and must be one of ``accepted``; an IPv6 host is
    written in brackets in the URL and returned without them. The port must be 1..65535; when the
    URL has none, ``default_port`` is used if given. Raises ``ValueError`` naming what is wrong.
    """
    form = " or ".join(f"{p}://host:port" for p in accepted)
    scheme = accepted[0]
    if not isinstance(url, str):
        raise ValueError(f"target URL must be a string (got {url!r}); expected {form}")
    match = _URL.fullmatch(url.strip())
    if match is None:
        raise ValueError(f"not a URL (got {url!r}); expected {form}")
    protocol = match["scheme"].lower()
    if protocol not in accepted:
        raise ValueError(
            f"unsupported protocol {match['scheme']!r} (got {url!r}); accepted protocols: "
            f"{', '.join(accepted)} (as in {form})"
        )
    scheme = protocol
    rest = match["rest"]
    for char, what in (("/", "a path"), ("?", "a query"), ("#", "a fragment"), ("@", "a user")):
        if char in rest:
            raise ValueError(f"target URL must not contain {what} (got {url!r}); expected {form}")

    if rest.startswith("["):
        end = rest.find("]")
        if end == -1:
            raise ValueError(
                f"unclosed '[' in IPv6 host (got {url!r}); expected {scheme}://[::1]:port"
            )
        host, after = rest[1:end], rest[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise ValueError(f"invalid IPv6 address {host!r} (got {url!r})") from exc
        if after and not after.startswith(":"):
            raise ValueError(f"missing port (got {url!r}); expected {scheme}://[host]:port")
        if not after and default_port is None:
            raise ValueError(f"missing port (got {url!r}); expected {scheme}://[host]:port")
        port_text = after[1:] if after else str(default_port)
    else:
        if rest.count(":") > 1:
            raise ValueError(
                f"an IPv6 host must be written in brackets (got {url!r}); "
                f"expected {scheme}://[::1]:port"
            )
        host, sep, port_text = rest.partition(":")
        if not host:
            raise ValueError(f"missing host (got {url!r}); expected {form}")
        if not sep:
            if default_port is None:
                raise ValueError(f"missing port (got {url!r}); expected {form}")
            port_text = str(default_port)
        _check_hostname(host, url)

    if not port_text:
        raise ValueError(f"missing port (got {url!r}); expected {form}")
    if not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"port {port_text!r} is not a number (got {url!r}); expected 1..65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range (got {url!r}); expected 1..65535")
    return protocol, host, port


def resolves(host: str) -> bool:
    """Whether ``host`` resolves to at least one UDP address now (used by ``exhibit check``)."""
    try:
        return bool(socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM))
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        return False
