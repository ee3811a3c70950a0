"""``exhibit calibrate sensors CONFIG``: walk through every configured sensor, one at a time.

A technician on site wants to know, sensor by sensor, whether the wiring works: the tool says
what to do ("wave in front of the PIR 'door' (GPIO4) now"), watches that sensor's readings for
up to ``timeout_s``, and says what it saw and whether that is a pass ("saw motion after
1.2 s") or a fail with the likely cause ("the PIR on pin 4 never changed: check its wiring").

The readings come from the very edge the exhibit runs on, :class:`~exhibit.sensors.feed.
SensorFeed`: gpiozero devices on the configured pin factory (a ``MockFactory`` in tests) and the
serial bridge (``firmware_bridge``; the simulator behind a pty in tests), so a pass here means
the running exhibit will see the same sensor. What counts as a pass is a pure function of the
readings (:func:`judge`), so it is tested without any waiting:

- motion, light barrier: the state changed at least once;
- button, mat, bridge input: pressed and released again;
- distance (GPIO or the bridge's): readings spanning at least ``min_span_m`` (a hand moved
  from near to far), reported as "saw 0.42-1.80 m".

Exit status: 0 every check passed, 1 some failed, 2 nothing could be checked (no pin factory,
an unknown ``--only`` name).

Example:
    >>> from exhibit.sensors.readings import SensorReading
    >>> check = Check("door", "motion", "GPIO4", pin_text="pin 4")
    >>> verdict = judge(check, [SensorReading(1.2, "door", "active", True)], False, 0.0, 1.5)
    >>> verdict.passed, verdict.saw
    (True, 'motion at 1.2 s')
    >>> judge(check, [], False, 0.0, 15.0).advice
    'the PIR on pin 4 never changed in 15 s: check its wiring (signal to GPIO4, 5 V, ground) and that nothing blocks its view'
"""  # noqa: E501

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TextIO

from exhibit.config.checker import suggest
from exhibit.config.schema import BRIDGE_INPUTS, Config
from exhibit.sensors.readings import ACTIVE, DISTANCE, ERROR, SensorReading

DEFAULT_TIMEOUT_S = 20.0
"""How long each sensor is watched for what the technician does."""
DEFAULT_MIN_SPAN_M = 0.3
"""A distance check passes once its readings span this much (a hand moved near to far)."""
POLL_S = 0.05

NOUNS = {
    "motion": "PIR",
    "button": "button",
    "mat": "mat",
    "light_barrier": "light barrier",
    "distance": "distance sensor",
}
ACTS = {
    "motion": "wave in front of the PIR {q} ({where}) now",
    "button": "press and release the button {q} ({where}) now",
    "mat": "step onto the mat {q} ({where}) and off it again now",
    "light_barrier": "walk through the light barrier {q} ({where}) now",
    "distance": "move a hand from near to far in front of the distance sensor {q} ({where}) now",
}
STATE_WORDS = {
    "motion": ("motion", "quiet"),
    "button": ("pressed", "released"),
    "mat": ("stood on", "free"),
    "light_barrier": ("broken", "clear"),
}
WIRING = {
    "motion": "check its wiring (signal to {pin}, 5 V, ground) and that nothing blocks its view",
    "button": "check its wiring ({pin} and ground)",
    "mat": "check its wiring ({pin} and ground)",
    "light_barrier": "check its wiring ({pin}, power, ground) and that the beam is aligned",
}


@dataclass(frozen=True)
class Check:
    """One thing to check: ``name`` as the readings name it (``pir``, ``bridge``,
    ``bridge_input0``), its ``kind`` (a sensor type), ``where`` it is (``GPIO4``, ``bridge
    input 0 on /dev/...``), ``pin_text`` for messages (``pin 4``), whether it is on the serial
    ``bridge``, ``max_distance_m`` (a reading at or beyond it means nothing in range) and
    ``active_high`` (to say which way round a stuck input reads)."""

    name: str
    kind: str
    where: str
    pin_text: str = ""
    bridge: bool = False
    max_distance_m: float = 3.0
    active_high: bool | None = None

    @property
    def noun(self) -> str:
        if self.bridge and self.kind == "button":
            return "bridge input"
        if self.bridge:
            return "bridge's distance sensor"
        return NOUNS.get(self.kind, self.kind)

    def prompt(self) -> str:
        """What the technician is asked to do."""
        if self.bridge and self.kind == "button":
            return f"press and release {self.where} now"
        if self.bridge:
            return f"move a hand from near to far in front of the {self.where} now"
        return ACTS[self.kind].format(q=f"'{self.name}'", where=self.where)


@dataclass(frozen=True)
class Verdict:
    """What :func:`judge` concluded: ``passed``; ``done`` (no need to wait longer); ``saw``
    (what the readings showed, for the technician); ``advice`` (the likely cause, on a fail)."""

    passed: bool
    done: bool
    saw: str
    advice: str = ""


@dataclass(frozen=True)
class CheckResult:
    """One sensor's outcome, as printed and as ``--json`` gives it."""

    name: str
    kind: str
    where: str
    passed: bool
    saw: str
    advice: str
    elapsed_s: float
    readings: int


def plan_checks(config: Config) -> list[Check]:
    """Every check for ``config``: its GPIO sensors in config order, then the serial bridge's
    distance sensor and inputs (``bridge``, ``bridge_input0``...), when a bridge is configured.

    Example:
        >>> from exhibit.config.load import loads
        >>> cfg = loads('[show]\\ninitial = "a"\\n[show.states.a]\\n'
        ...             '[sensors.door]\\ntype = "motion"\\npin = 4\\n')
        >>> [(c.name, c.kind, c.where) for c in plan_checks(cfg)]
        [('door', 'motion', 'GPIO4')]
    """
    checks: list[Check] = []
    for name, sensor in config.sensors.sensors.items():
        if sensor.type == "distance":
            pin_text = f"pins {sensor.trigger_pin} (trigger) and {sensor.echo_pin} (echo)"
        else:
            pin_text = f"pin {sensor.pin}"
        checks.append(
            Check(
                name,
                sensor.type,
                sensor.describe_pins(),
                pin_text,
                max_distance_m=sensor.max_distance_m,
                active_high=sensor.active_high if sensor.type != "distance" else None,
            )
        )
    device = config.bridge.device
    if device is not None:
        from exhibit.sensors.feed import NOTHING_IN_RANGE_M

        checks.append(
            Check(
                "bridge",
                "distance",
                f"bridge's distance sensor ({device})",
                device,
                bridge=True,
                max_distance_m=NOTHING_IN_RANGE_M,
            )
        )
        for i in range(BRIDGE_INPUTS):
            checks.append(
                Check(
                    f"bridge_input{i}",
                    "button",
                    f"input {i} on the bridge ({device})",
                    f"input {i}",
                    bridge=True,
                )
            )
    return checks


def _seconds(t_s: float, start_s: float) -> str:
    return f"{max(0.0, t_s - start_s):.1f} s"


def judge(
    check: Check,
    readings: Sequence[SensorReading],
    initial: bool | float | None,
    start_s: float,
    now_s: float,
    *,
    min_span_m: float = DEFAULT_MIN_SPAN_M,
) -> Verdict:
    """Whether ``readings`` (this sensor's, since the check began at ``start_s``) pass
    ``check``; ``initial`` is the sensor's state before it began (``None``: not known).

    Pure: the runner calls it after every poll and stops waiting once ``done``; at the
    timeout, the verdict as it stands is the result.

    Example:
        >>> from exhibit.sensors.readings import SensorReading as R
        >>> rng = Check("range", "distance", "GPIO23/24", "pins 23 and 24")
        >>> judge(rng, [R(1.0, "range", "distance", v) for v in (0.42, 1.1, 1.8)],
        ...       None, 0.0, 2.0).saw
        'saw 0.42-1.80 m (3 readings)'
        >>> start = Check("start", "button", "GPIO17", "pin 17")
        >>> v = judge(start, [R(1.0, "start", "active", True)], False, 0.0, 20.0)
        >>> v.passed, v.advice
        (False, 'the button on pin 17 was pressed at 1.0 s but never released in 20 s: is it stuck?')
    """  # noqa: E501
    elapsed = f"{round(max(0.0, now_s - start_s), 1):g} s"
    errors = [r for r in readings if r.kind == ERROR]
    opened_error = next((r for r in errors if "cannot be opened" in str(r.value)), None)
    if opened_error is not None:
        return Verdict(
            False,
            True,
            f"error: {opened_error.value}",
            f"the {check.noun} on {check.pin_text} {opened_error.value}: is another program "
            "or another sensor using the pin? Is the pin factory right for this board?",
        )
    if check.kind == "distance":
        return _judge_distance(check, readings, initial, errors, elapsed, min_span_m)
    states = [r for r in readings if r.kind == ACTIVE and isinstance(r.value, bool)]
    on_word, off_word = STATE_WORDS.get(check.kind, ("pressed", "released"))
    changes: list[SensorReading] = []
    last: object = initial
    for r in states:
        if r.value != last:
            changes.append(r)
            last = r.value
    saw = ", ".join(
        f"{on_word if r.value else off_word} at {_seconds(r.t_s, start_s)}" for r in changes[:6]
    )
    if len(changes) > 6:
        saw += f", ... ({len(changes)} changes)"
    wiring = WIRING.get(check.kind, "check its wiring ({pin})").format(
        pin=check.where if not check.bridge else check.pin_text
    )
    if check.bridge:
        wiring = "check the pad or button on the microcontroller's input"
    who = (
        f"the {check.noun} on {check.pin_text}" if not check.bridge else f"bridge {check.pin_text}"
    )
    if check.kind in ("motion", "light_barrier"):
        if changes:
            return Verdict(True, True, saw)
        return Verdict(
            False,
            False,
            _still(initial, on_word, off_word),
            _never(who, elapsed, wiring, initial, check),
        )
    pressed = next((i for i, r in enumerate(changes) if r.value is True), None)
    if pressed is not None and any(r.value is False for r in changes[pressed + 1 :]):
        return Verdict(True, True, saw)
    if pressed is not None:
        at = _seconds(changes[pressed].t_s, start_s)
        return Verdict(
            False,
            False,
            saw,
            f"{who} was {on_word} at {at} but never {off_word} in {elapsed}: is it stuck?",
        )
    if changes:  # released only: it read pressed at the start
        return Verdict(False, False, saw, f"{who} read {on_word} at the start: was it held?")
    return Verdict(
        False,
        False,
        _still(initial, on_word, off_word),
        _never(who, elapsed, wiring, initial, check),
    )


def _still(initial: bool | float | None, on_word: str, off_word: str) -> str:
    if initial is None:
        return "no readings"
    return f"{on_word if initial else off_word} all the time"


def _never(who: str, elapsed: str, wiring: str, initial: bool | float | None, check: Check) -> str:
    text = f"{who} never changed in {elapsed}: {wiring}"
    if initial is True and check.active_high is not None:
        other = "false" if check.active_high else "true"
        text += (
            f"; it read active the whole time: if it is wired the other way round, set "
            f"active_high = {other}"
        )
    return text


def _judge_distance(
    check: Check,
    readings: Sequence[SensorReading],
    initial: bool | float | None,
    errors: Sequence[SensorReading],
    elapsed: str,
    min_span_m: float,
) -> Verdict:
    # The reading before the prompt counts: a sensor reports only changes (and once a second),
    # so a hand that starts where the last reading was shows up as the reading before it.
    fresh = [float(r.value) for r in readings if r.kind == DISTANCE and isinstance(r.value, float)]
    before = [initial] if isinstance(initial, float) and not isinstance(initial, bool) else []
    values = before + fresh if fresh or not errors else []  # silent since: no echo now
    in_range = [v for v in values if v < check.max_distance_m - 1e-3]
    nothing = len(values) - len(in_range)
    if check.bridge:
        who, wiring = (
            "the bridge's distance sensor",
            "check the sensor's cable on the microcontroller",
        )
    else:
        who = f"the distance sensor on {check.pin_text}"
        wiring = (
            "check the trigger and echo wires (swapped?), 5 V and ground, and the echo's "
            "5 V -> 3.3 V divider"
        )
    if not values:
        why = f" ({errors[-1].value})" if errors else ""
        return Verdict(
            False, False, "no readings" + why, f"{who} gave no reading in {elapsed}{why}: {wiring}"
        )
    tail = (
        f" ({len(values)} readings"
        + (f", {nothing} with nothing in range" if nothing else "")
        + ")"
    )
    if not in_range:
        return Verdict(
            False,
            False,
            "nothing in range" + tail,
            f"{who} saw nothing within {check.max_distance_m:g} m in {elapsed}: is it pointing "
            "at the visitors' area, and is a hand in front of it?",
        )
    low, high = min(in_range), max(in_range)
    saw = f"saw {low:.2f}-{high:.2f} m" + tail
    if high - low >= min_span_m:
        return Verdict(True, True, saw)
    return Verdict(
        False,
        False,
        saw,
        f"{who} saw only {low:.2f}-{high:.2f} m in {elapsed} (less than {min_span_m:g} m of "
        "movement): move a hand from near to far in front of it; if it did move, the sensor "
        "sees something else (a wall, a cable)",
    )


def _unknown_names(checks: Sequence[Check], only: Sequence[str]) -> list[str]:
    names = [c.name for c in checks]
    problems = []
    for name in only:
        if name not in names:
            hint = suggest(name, names)
            problems.append(
                f"--only {name}: no such sensor; expected one of {', '.join(names) or 'none'}"
                + (f'; did you mean "{hint}"?' if hint else "")
            )
    return problems


def run_sensor_checks(
    config: Config,
    *,
    out: TextIO,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    only: Sequence[str] = (),
    min_span_m: float = DEFAULT_MIN_SPAN_M,
    pin_factory: Any = None,
    stop: threading.Event | None = None,
    on_prompt: Callable[[Check], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[CheckResult]:
    """Run the checks of ``config`` (``only``: these names) one after another, printing the
    prompts and the verdicts to ``out``; returns the results. ``on_prompt(check)`` is called
    right after each prompt (tests drive the pins from there; a GUI could show the prompt).

    Raises ``SensorError`` when no pin factory loads and ``ValueError`` for an unknown
    ``only`` name.
    """
    from exhibit.sensors.feed import SensorFeed

    checks = plan_checks(config)
    problems = _unknown_names(checks, only)
    if problems:
        raise ValueError("; ".join(problems))
    if only:
        checks = [c for c in checks if c.name in only]
    stop = stop if stop is not None else threading.Event()
    redraw = bool(getattr(out, "isatty", lambda: False)())
    results: list[CheckResult] = []
    state: dict[str, bool | float] = {}
    earlier: dict[str, list[SensorReading]] = {}  # errors before a check (cannot be opened)
    feed = SensorFeed(config, clock=clock, pin_factory=pin_factory)
    try:

        def take() -> list[SensorReading]:
            got = feed.poll()
            for r in got:
                if r.kind in (ACTIVE, DISTANCE) and not isinstance(r.value, str):
                    state[r.sensor] = r.value
                elif r.kind == ERROR:
                    earlier.setdefault(r.sensor, []).append(r)
            return got

        take()
        for number, check in enumerate(checks, 1):
            if stop.is_set():
                break
            start_s = clock()
            if check.bridge and feed.link is not None and not feed.link.wait_up(timeout_s):
                reason = feed.link.health().reason
                results.append(
                    CheckResult(
                        check.name,
                        check.kind,
                        check.where,
                        False,
                        f"link not up ({reason})",
                        f"the bridge at {check.pin_text} did not answer in {timeout_s:g} s "
                        f"({reason}): is the microcontroller plugged in and running the "
                        "exhibit firmware? Is [bridge] device the right port?",
                        clock() - start_s,
                        0,
                    )
                )
                _print_result(out, results[-1], number, len(checks))
                continue
            take()
            initial = state.get(check.name)
            out.write(f"[{number}/{len(checks)}] {check.prompt()} (up to {timeout_s:g} s)\n")
            out.flush()
            if on_prompt is not None:
                on_prompt(check)
            start_s = clock()
            mine: list[SensorReading] = earlier.pop(check.name, [])
            verdict = judge(check, mine, initial, start_s, start_s, min_span_m=min_span_m)
            while True:
                mine += [r for r in take() if r.sensor == check.name]
                now = clock()
                verdict = judge(check, mine, initial, start_s, now, min_span_m=min_span_m)
                if verdict.done or now - start_s >= timeout_s or stop.is_set():
                    break
                if redraw:
                    out.write(f"\r  waiting, {timeout_s - (now - start_s):4.1f} s left ")
                    out.flush()
                stop.wait(POLL_S)
            if redraw:
                out.write("\r" + " " * 40 + "\r")
            results.append(
                CheckResult(
                    check.name,
                    check.kind,
                    check.where,
                    verdict.passed,
                    verdict.saw,
                    verdict.advice,
                    round(clock() - start_s, 3),
                    len(mine),
                )
            )
            _print_result(out, results[-1], number, len(checks))
    finally:
        feed.close()
    return results


def _print_result(out: TextIO, result: CheckResult, number: int, total: int) -> None:
    word = "PASS" if result.passed else "FAIL"
    line = f"  {word} {result.name} ({result.kind}, {result.where}): {result.saw}"
    if not result.passed and result.advice:
        line += f"\n       {result.advice}"
    out.write(line + "\n")
    out.flush()


def summary(results: Sequence[CheckResult]) -> str:
    """One line: how many passed, and which failed."""
    failed = [r.name for r in results if not r.passed]
    text = f"{len(results) - len(failed)} of {len(results)} sensor check(s) passed"
    return text + (f"; failed: {', '.join(failed)}" if failed else "")


def cmd_calibrate_sensors(args: argparse.Namespace) -> int:
    """``exhibit calibrate sensors CONFIG``; see the module docstring for the exit status."""
    from exhibit.config.load import load
    from exhibit.sensors.gpio_in import SensorError

    config = load(args.config)
    talk = sys.stderr if args.json else sys.stdout
    if not plan_checks(config):
        print(
            f"{args.config}: no sensors and no [bridge] in the config: nothing to check",
            file=talk,
        )
        return 0
    try:
        results = run_sensor_checks(
            config,
            out=talk,
            timeout_s=args.timeout,
            only=args.only,
            min_span_m=args.min_span_m,
        )
    except (ValueError, SensorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(results), file=talk)
    if args.json:
        print(json.dumps({"results": [asdict(r) for r in results]}, indent=1))
    return 0 if results and all(r.passed for r in results) else 1


def add_command(calibrate_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sensors`` to ``exhibit calibrate``'s subcommands.

    Example:
        >>> parser = argparse.ArgumentParser(prog="exhibit calibrate")
        >>> add_command(parser.add_subparsers(dest="what", required=True))
        >>> args = parser.parse_args(["sensors", "x.toml", "--only", "door", "--timeout", "5"])
        >>> args.only, args.timeout
        (['door'], 5.0)
    """
    p = calibrate_sub.add_parser(
        "sensors",
        help="walk through every sensor: do what it says, get pass/fail with what it saw",
        description=(
            "For each configured sensor (GPIO and the serial bridge's), say what to do in front "
            "of it, watch it for up to --timeout seconds, and report pass/fail with what it "
            "saw. Exit 0 all passed, 1 some failed, 2 nothing could be checked."
        ),
    )
    p.add_argument("config")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds to watch each sensor (default {DEFAULT_TIMEOUT_S:g})",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="check only this sensor (repeatable; bridge, bridge_input0.. for the bridge)",
    )
    p.add_argument(
        "--min-span-m",
        type=float,
        default=DEFAULT_MIN_SPAN_M,
        help="a distance check passes once its readings span this many metres",
    )
    p.add_argument(
        "--json", action="store_true", help="results as JSON on stdout (prompts on stderr)"
    )
    p.set_defaults(func=cmd_calibrate_sensors)


__all__ = [
    "Check",
    "CheckResult",
    "Verdict",
    "add_command",
    "cmd_calibrate_sensors",
    "judge",
    "plan_checks",
    "run_sensor_checks",
    "summary",
]
