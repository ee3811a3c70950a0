"""``exhibit calibrate cues CONFIG``: send every cue target a harmless test cue; say what came back.

Before opening day a technician wants to know that each receiver is there: the projector's
media server, the sound desk, the amplifier's relay, the lamp. The tool goes through the
config's targets, its sounds and its GPIO outputs, one after another:

- **OSC targets** get one harmless message through the exhibit's own ``OscSender`` (the same
  sockets, framing, passcode and handshakes the show uses). QLab is asked ``/version``, which it
  answers: the tool reads the reply (replies are turned on for the test even if the config does
  not read them) and reports its status and the round-trip time. A SuperCollider server
  (``scsynth``, UDP) is asked ``/status`` and its ``/status.reply`` read the same way. Other
  receivers get ``/exhibit/calibrate/ping "exhibit calibrate cues"`` (``--address`` changes
  it), which none of them acts on; UDP gives no answer, so a UDP test cue is sent twice, a
  moment apart, because a closed port on a reachable host answers the first datagram with an
  ICMP "port unreachable" that makes the second fail ("connection refused": nothing listens
  there). TCP reports whether
  the connection was made and the message written.
- **Sounds** (``[sounds]``) are played for ``--sound-s`` seconds each through ``pygame.mixer``
  and stopped: the report says whether the file decoded and whether the mixer took it.
- **GPIO outputs** (``[outputs]``) blink three times, so someone at the lamp or relay sees it.

Results: ``sent`` (it left; nobody said it arrived), ``replied`` (with status and round trip),
``failed`` (with the reason and a likely fix). Exit 0 when nothing failed, 1 otherwise.

Example:
    >>> probe_cue("sound", "qlab").address, probe_cue("projector", None).args
    ('/version', ('exhibit calibrate cues',))
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, TextIO

from exhibit.config.checker import suggest
from exhibit.config.schema import Config
from exhibit.cues.osc.profiles import PROFILES
from exhibit.cues.osc.replies import QLabReply
from exhibit.cues.osc.targets import TargetSpec, as_spec
from exhibit.events import Cue

DEFAULT_ADDRESS = "/exhibit/calibrate/ping"
"""What receivers without a profile that answers are sent (none of them acts on it)."""
PING_TEXT = "exhibit calibrate cues"
DEFAULT_TIMEOUT_S = 2.0
"""How long to wait for a reply or a TCP connection."""
UDP_GAP_S = 0.2
"""Between the two datagrams of a UDP test: time for an ICMP "port unreachable" to come back."""
DEFAULT_SOUND_S = 0.5
BLINKS = 3

Outcome = Literal["sent", "replied", "failed"]


@dataclass(frozen=True)
class CueCheck:
    """One receiver's outcome: ``name`` (a target, ``sound:NAME`` or ``output:NAME``), what it
    is (``what``: ``"qlab udp://10.0.0.5:53000"``), the ``outcome``, a line of ``detail``,
    ``advice`` on a failure, and ``round_trip_ms`` when it replied."""

    name: str
    what: str
    outcome: Outcome
    detail: str
    advice: str = ""
    round_trip_ms: float | None = None


def probe_cue(target: str, profile: str | None, address: str = DEFAULT_ADDRESS) -> Cue:
    """The harmless test message for a target of ``profile``: QLab's ``/version`` (it
    answers), scsynth's ``/status`` (it answers; only QLab's replies are read), else
    ``address`` with one string."""
    if profile == "qlab":
        return Cue(target, "/version", (), "calibrate: qlab version")
    if profile == "scsynth":
        return Cue(target, "/status", (), "calibrate: scsynth status")
    return Cue(target, address, (PING_TEXT,), "calibrate: ping")


def _describe(spec: TargetSpec) -> str:
    kind = spec.profile or "osc"
    return f"{kind} {spec.url}"


def _with_replies(spec: TargetSpec) -> TargetSpec:
    """``spec`` reading replies, where its profile gives any we understand."""
    profile = PROFILES.get(spec.profile or "")
    if profile is None or not profile.replies or spec.replies:
        return spec
    port = profile.reply_port if spec.protocol == "udp" else None
    return replace(spec, replies=True, reply_port=port)


def check_targets(
    targets: dict[str, TargetSpec],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    address: str = DEFAULT_ADDRESS,
    clock: Callable[[], float] = time.monotonic,
) -> list[CueCheck]:
    """Send each target its test cue (see the module docstring); one result per target."""
    from exhibit.cues.osc.sender import OscSender

    if not targets:
        return []
    specs = {name: _with_replies(as_spec(t)) for name, t in targets.items()}
    replies: dict[str, list[tuple[float, QLabReply]]] = {name: [] for name in specs}
    lock = threading.Lock()

    def on_reply(target: str, reply: QLabReply) -> None:
        with lock:
            replies[target].append((clock(), reply))

    results: list[CueCheck] = []
    asked = {n: s for n, s in specs.items() if s.profile == "scsynth" and s.protocol == "udp"}
    specs = {n: s for n, s in specs.items() if n not in asked}
    for spec in asked.values():
        results.append(ask_scsynth(spec, timeout_s=timeout_s, clock=clock))
    if not specs:
        return results
    order = list(targets)
    sender = OscSender(
        specs,
        clock=clock,
        on_reply=on_reply,
        retry_s=timeout_s,
        connect_timeout_s=timeout_s,
        reconnect_max_s=timeout_s,
    )
    with sender:
        for name, spec in specs.items():
            cue = probe_cue(name, spec.profile, address)
            sent_s = clock()
            ok = sender.send(cue)
            results.append(
                _await_target(sender, spec, cue, ok, sent_s, timeout_s, replies, lock, clock)
            )
    return sorted(results, key=lambda r: order.index(r.name))  # in the config's order


def ask_scsynth(
    spec: TargetSpec,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    clock: Callable[[], float] = time.monotonic,
) -> CueCheck:
    """Ask a SuperCollider server (UDP) ``/status`` and read its ``/status.reply`` from the
    same socket (scsynth answers to the sender's address): the round trip, the number of
    synths and the average CPU load it reports."""
    from exhibit.cues.osc.decode import decode_packet
    from exhibit.cues.osc.encode import encode_message
    from exhibit.cues.osc.links import describe_error

    what = _describe(spec)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((spec.host, spec.port))
            sent_s = clock()
            sock.send(encode_message("/status", []))
            while (left_s := sent_s + timeout_s - clock()) > 0:
                sock.settimeout(left_s)
                try:
                    messages = decode_packet(sock.recv(65536))
                except ValueError:
                    continue  # not OSC: not the answer
                for message in messages:
                    if message.address == "/status.reply":
                        rtt_ms = round((clock() - sent_s) * 1000.0, 2)
                        values = list(message.args)
                        load = ""
                        if len(values) >= 6:
                            synths, cpu = values[2], values[5]
                            if isinstance(synths, int) and isinstance(cpu, int | float):
                                load = f" ({synths} synths, average CPU {cpu:.1f} %)"
                        detail = f"replied /status.reply{load} in {rtt_ms:.1f} ms"
                        return CueCheck(spec.name, what, "replied", detail, round_trip_ms=rtt_ms)
        except TimeoutError:
            pass
        except OSError as exc:
            error = describe_error(exc)
            return CueCheck(spec.name, what, "failed", f"/status: {error}", _fix(spec, error))
    return CueCheck(
        spec.name,
        what,
        "failed",
        f"no /status.reply to /status in {timeout_s:g} s",
        f"is scsynth running and listening on UDP {spec.port} (scsynth -u {spec.port}), "
        "and does a firewall let its answers back?",
    )


def _await_target(
    sender: Any,
    spec: TargetSpec,
    cue: Cue,
    ok: bool,
    sent_s: float,
    timeout_s: float,
    replies: dict[str, list[tuple[float, QLabReply]]],
    lock: threading.Lock,
    clock: Callable[[], float],
) -> CueCheck:
    name, what = spec.name, _describe(spec)
    where = f"{spec.host}:{spec.port}"
    message = f"{cue.address}" + (f" {cue.args[0]!r}" if cue.args else "")
    if spec.protocol == "udp" and not spec.replies:
        if ok:
            time.sleep(UDP_GAP_S)
            ok = sender.send(cue)
        if ok:
            return CueCheck(
                name,
                what,
                "sent",
                f"sent {message} twice over UDP, no error (UDP gives no receipt: look or "
                "listen at the receiver)",
            )
        error = sender.stats()[name].last_error or "send failed"
        return CueCheck(name, what, "failed", f"UDP send failed: {error}", _fix(spec, error))
    deadline = sent_s + timeout_s
    while clock() < deadline:
        stats = sender.stats()[name]
        with lock:
            got = [(t, r) for t, r in replies[name] if r.address == cue.address]
        if got:
            t_s, reply = got[0]
            rtt_ms = round((t_s - sent_s) * 1000.0, 2)
            detail = f"replied {reply.status or 'no status'!r} to {cue.address}"
            if reply.data not in (None, ""):
                detail += f" (data {reply.data!r})"
            detail += f" in {rtt_ms:.1f} ms"
            return CueCheck(name, what, "replied", detail, round_trip_ms=rtt_ms)
        if not spec.replies and stats.sent > 0:
            return CueCheck(name, what, "sent", f"connected and wrote {message} over TCP")
        time.sleep(0.01)
    stats = sender.stats()[name]
    if stats.sent > 0:  # written, no reply
        return CueCheck(
            name,
            what,
            "sent",
            f"sent {message}, no reply in {timeout_s:g} s",
            "the receiver got the message but did not answer: for QLab, is OSC access "
            "allowed for this machine (Workspace Settings > Network), and is the passcode right?",
        )
    error = stats.last_error or f"not connected to {where} in {timeout_s:g} s"
    return CueCheck(name, what, "failed", f"not sent: {error}", _fix(spec, error))


def _fix(spec: TargetSpec, error: str) -> str:
    where = f"{spec.host}:{spec.port}"
    lowered = error.lower()
    if "refused" in lowered:
        return (
            f"nothing listens on {where} ({spec.protocol.upper()}): is the receiver running, "
            f"and is its OSC input set to port {spec.port}?"
        )
    if "resolve" in lowered or "name" in lowered:
        return f"the host name {spec.host!r} does not resolve: use its IP address or fix DNS"
    return (
        f"{where} cannot be reached: is the receiver on, on this network, and the address in "
        f"targets.{spec.name} right?"
    )


def check_sounds(
    config: Config, *, play_s: float = DEFAULT_SOUND_S, only: Sequence[str] | None = None
) -> list[CueCheck]:
    """Play each sound (``only``: these names) for ``play_s`` seconds and stop it."""
    from exhibit.cues.sound.cue import SoundCue
    from exhibit.cues.sound.player import SoundPlayer

    names = [n for n in config.sounds.sounds if only is None or n in only]
    if not names:
        return []
    results: list[CueCheck] = []
    with SoundPlayer(config.sounds) as player:
        for name in names:
            sound = config.sounds.sounds[name]
            what = f"sound {sound.file.name}"
            if not player.available:
                error = player.stats().last_error or "no audio device"
                results.append(
                    CueCheck(
                        f"sound:{name}",
                        what,
                        "failed",
                        f"not played: {error}",
                        "no audio device could be opened: is the sound card or HDMI audio "
                        "connected and selected (SDL_AUDIODRIVER, ALSA default device)?",
                    )
                )
                continue
            ok = player.apply(SoundCue("play", name, name="calibrate"))
            if ok:
                time.sleep(play_s)
                player.apply(SoundCue("stop", name, fade_ms=50, name="calibrate"))
                length = f", {sound.length_s:.2f} s long" if sound.length_s else ""
                results.append(
                    CueCheck(
                        f"sound:{name}",
                        what,
                        "sent",
                        f"decoded OK{length}; played {play_s:g} s at volume {sound.volume:g}",
                    )
                )
            else:
                error = player.stats().last_error or "the mixer did not take it"
                results.append(
                    CueCheck(
                        f"sound:{name}",
                        what,
                        "failed",
                        f"not played: {error}",
                        f"check that {sound.file} is a sound file pygame can decode "
                        "(WAV, OGG, FLAC, MP3)",
                    )
                )
    return results


def check_outputs(
    config: Config,
    *,
    only: Sequence[str] | None = None,
    pin_factory: Any = None,
    blink_s: float = 0.2,
) -> list[CueCheck]:
    """Blink each GPIO output (``only``: these names) ``BLINKS`` times, then turn it off."""
    from exhibit.cues.gpio_out import OutputBank, OutputCue

    outputs = {n: o for n, o in config.outputs.items() if only is None or n in only}
    if not outputs:
        return []
    results: list[CueCheck] = []
    with OutputBank(outputs, pin_factory=pin_factory) as bank:
        for name, output in outputs.items():
            what = f"{output.type} GPIO{output.pin}"
            cue = OutputCue(name, "blink", on_s=blink_s, off_s=blink_s, n=BLINKS)
            if bank.apply(cue):
                time.sleep(2 * blink_s * BLINKS + 0.05)
                results.append(
                    CueCheck(
                        f"output:{name}",
                        what,
                        "sent",
                        f"blinked {BLINKS} times ({blink_s:g} s on, {blink_s:g} s off): did "
                        "it light up or click?",
                    )
                )
            else:
                error = bank.stats()[name].last_error or "not open"
                fix = (
                    f"is GPIO{output.pin} free (not used by another program) and is the "
                    "pin factory right for this board (GPIOZERO_PIN_FACTORY)?"
                )
                if "PinPWMUnsupported" in error:  # gpiozero's mock pins cannot dim by default
                    fix = (
                        f"this pin factory cannot dim GPIO{output.pin}: on the Pi use lgpio; "
                        "off the Pi, GPIOZERO_PIN_FACTORY=mock needs "
                        "GPIOZERO_MOCK_PIN_CLASS=mockpwmpin"
                    )
                results.append(
                    CueCheck(f"output:{name}", what, "failed", f"not driven: {error}", fix)
                )
    return results


def all_names(config: Config) -> list[str]:
    """Every name ``--only`` takes: targets, ``sound:NAME`` and ``output:NAME``."""
    return (
        list(config.targets)
        + [f"sound:{n}" for n in config.sounds.sounds]
        + [f"output:{n}" for n in config.outputs]
    )


def run_cue_checks(
    config: Config,
    *,
    out: TextIO,
    only: Sequence[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    address: str = DEFAULT_ADDRESS,
    sound_s: float = DEFAULT_SOUND_S,
    pin_factory: Any = None,
) -> list[CueCheck]:
    """Every check of ``config`` (``only``: these names), each printed to ``out`` as it ends.

    Raises ``ValueError`` for an ``only`` name the config does not have.
    """
    names = all_names(config)
    bad = [n for n in only if n not in names]
    if bad:
        hints = [suggest(n, names) for n in bad]
        raise ValueError(
            "; ".join(
                f"--only {n}: not a target, sound:NAME or output:NAME of the config; expected "
                f"one of {', '.join(names) or 'none'}" + (f'; did you mean "{h}"?' if h else "")
                for n, h in zip(bad, hints, strict=True)
            )
        )
    wanted = set(only)

    def picked(prefix: str, keys: Sequence[str]) -> list[str] | None:
        if not wanted:
            return None
        return [k for k in keys if f"{prefix}{k}" in wanted]

    results: list[CueCheck] = []
    targets = {n: t for n, t in config.targets.items() if not wanted or n in wanted}
    steps: list[Callable[[], list[CueCheck]]] = [
        lambda: check_targets(targets, timeout_s=timeout_s, address=address),
        lambda: check_sounds(
            config, play_s=sound_s, only=picked("sound:", list(config.sounds.sounds))
        ),
        lambda: check_outputs(
            config, only=picked("output:", list(config.outputs)), pin_factory=pin_factory
        ),
    ]
    for step in steps:
        for result in step():
            results.append(result)
            print_check(out, result)
    return results


def print_check(out: TextIO, result: CueCheck) -> None:
    word = {"sent": "SENT", "replied": "OK  ", "failed": "FAIL"}[result.outcome]
    line = f"{word} {result.name} ({result.what}): {result.detail}"
    if result.advice:
        line += f"\n     {result.advice}"
    out.write(line + "\n")
    out.flush()


def cmd_calibrate_cues(args: argparse.Namespace) -> int:
    """``exhibit calibrate cues CONFIG``: exit 0 nothing failed, 1 something failed, 2 bad
    ``--only``."""
    from exhibit.config.load import load

    config = load(args.config, resolve_hosts=False)
    talk = sys.stderr if args.json else sys.stdout
    try:
        results = run_cue_checks(
            config,
            out=talk,
            only=args.only,
            timeout_s=args.timeout,
            address=args.address,
            sound_s=args.sound_s,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [r.name for r in results if r.outcome == "failed"]
    if not results:
        print(f"{args.config}: no targets, sounds or outputs: nothing to test", file=talk)
    else:
        line = f"{len(results) - len(failed)} of {len(results)} cue check(s) without failure"
        print(line + (f"; failed: {', '.join(failed)}" if failed else ""), file=talk)
    if args.json:
        print(json.dumps({"results": [asdict(r) for r in results]}, indent=1))
    return 1 if failed else 0


def add_command(calibrate_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cues`` to ``exhibit calibrate``'s subcommands.

    Example:
        >>> parser = argparse.ArgumentParser(prog="exhibit calibrate")
        >>> add_command(parser.add_subparsers(dest="what", required=True))
        >>> parser.parse_args(["cues", "x.toml", "--only", "sound:bell"]).only
        ['sound:bell']
    """
    p = calibrate_sub.add_parser(
        "cues",
        help="send every OSC target a harmless test cue, play each sound, blink each output",
        description=(
            "Per OSC target: sent / replied (QLab, with round trip) / failed, with the reason; "
            "each [sounds] entry is played briefly; each [outputs] entry blinks three times. "
            "Exit 0 nothing failed, 1 something failed."
        ),
    )
    p.add_argument("config")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="test only this target, sound:NAME or output:NAME (repeatable)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help="seconds to wait for a reply or a TCP connection",
    )
    p.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=f"OSC address of the test message for receivers without replies ({DEFAULT_ADDRESS})",
    )
    p.add_argument(
        "--sound-s", type=float, default=DEFAULT_SOUND_S, help="seconds each sound plays"
    )
    p.add_argument("--json", action="store_true", help="results as JSON on stdout")
    p.set_defaults(func=cmd_calibrate_cues)


__all__ = [
    "CueCheck",
    "add_command",
    "all_names",
    "ask_scsynth",
    "check_outputs",
    "check_sounds",
    "check_targets",
    "cmd_calibrate_cues",
    "probe_cue",
    "run_cue_checks",
]
