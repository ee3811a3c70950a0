"""GPIO outputs (lamps, dimmable spots, relays) driven by cues, through gpiozero.

The designer names each output once::

    [outputs]
    lamp = { type = "led", pin = 17 }
    spot = { type = "pwm_led", pin = 18, frequency_hz = 200 }
    relay = { type = "relay", pin = 27, active_high = false }

and cues act on them by name::

    [cues]
    spot_up = { output = "spot", action = "fade", value = 0.8, duration_s = 1.5 }
    lamp_on = { output = "lamp" }                          # action = "on"
    attract = { output = "lamp", action = "blink", on_s = 0.5, off_s = 0.5 }
    breathe = { output = "spot", action = "pulse", fade_in_s = 1, fade_out_s = 1 }

Pins are BCM numbers (``GPIO17`` is ``17``), 2 to 27; a pin used twice, an unknown type or
output, a fade on an output that cannot dim: all are caught when the config loads.

At run time ``OutputBank`` owns the gpiozero devices, built on the pin factory gpiozero picks
from ``GPIOZERO_PIN_FACTORY`` (``lgpio`` on a Pi 5, ``mock`` off the Pi) or on an explicit
one (tests pass ``MockFactory(pin_class=MockPWMPin)``). Fades, blinks and pulses run on
gpiozero's own background threads; a new cue for an output cancels whatever it was doing.
A device that cannot be opened is reported once and its cues are counted and skipped; the show
goes on. ``close`` turns every output off before releasing it.

Like sound cues, output cues ride through the show as ordinary ``events.Cue``: target
``"output:NAME"``, address ``"/ACTION"``, and the action's numbers as args (see ``OutputCue``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from gpiozero import LED, PWMLED, DigitalOutputDevice

from exhibit.closing import Closing
from exhibit.config.checker import Checker, join, suggest
from exhibit.cues.local import LocalCueSink
from exhibit.errors import CueError
from exhibit.events import Cue

OutputType = Literal["led", "pwm_led", "relay"]
OUTPUT_TYPES: tuple[OutputType, ...] = ("led", "pwm_led", "relay")
OutputAction = Literal["on", "off", "fade", "blink", "pulse"]
OUTPUT_ACTIONS: tuple[OutputAction, ...] = ("on", "off", "fade", "blink", "pulse")
OUTPUT_TARGET_PREFIX = "output:"
"""Targets of output cues start with this; the rest is the output's name."""
BCM_PINS = range(2, 28)
"""The GPIO pins on the 40-pin header, by BCM number (0 and 1 are the HAT EEPROM's)."""

OUTPUT_KEYS = ("type", "pin", "active_high", "frequency_hz")
CUE_KEYS = (
    "output",
    "action",
    "value",
    "duration_s",
    "on_s",
    "off_s",
    "fade_in_s",
    "fade_out_s",
    "n",
)
_ACTION_KEYS: dict[OutputAction, tuple[str, ...]] = {
    "on": ("value",),
    "off": (),
    "fade": ("value", "duration_s"),
    "blink": ("on_s", "off_s", "n"),
    "pulse": ("fade_in_s", "fade_out_s", "n"),
}
_DIMMING_ACTIONS: tuple[OutputAction, ...] = ("fade", "pulse")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_PIN_TEXT = re.compile(r"^\s*(?:GPIO|BCM)?\s*(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class OutputConfig:
    """One entry of ``[outputs]``. ``pin`` is a BCM number; ``active_high = false`` for
    hardware that is on when the pin is low (most relay boards); ``frequency_hz`` is the PWM
    frequency of a ``pwm_led``."""

    name: str
    type: OutputType
    pin: int
    active_high: bool = True
    frequency_hz: float = 100.0


@dataclass(frozen=True, slots=True)
class OutputCue:
    """What to do with one output.

    - ``on``: fully on, or at brightness ``value`` (0..1) for a ``pwm_led``.
    - ``off``.
    - ``fade`` (``pwm_led``): from where it is to ``value`` over ``duration_s``.
    - ``blink``: ``on_s`` on, ``off_s`` off, ``n`` times (0: until the next cue).
    - ``pulse`` (``pwm_led``): fade in over ``fade_in_s``, out over ``fade_out_s``, ``n``
      times (0: until the next cue).

    Carried as ``Cue("output:NAME", "/ACTION", args)`` with args ``(value,)`` for on, ``()``
    for off, ``(value, duration_s)`` for fade, ``(on_s, off_s, n)`` for blink and
    ``(fade_in_s, fade_out_s, n)`` for pulse.

    Example:
        >>> OutputCue("spot", "fade", value=0.8, duration_s=1.5).to_cue()
        Cue(target='output:spot', address='/fade', args=(0.8, 1.5), name='')
    """

    output: str
    action: OutputAction
    value: float = 1.0
    duration_s: float = 1.0
    on_s: float = 0.5
    off_s: float = 0.5
    fade_in_s: float = 1.0
    fade_out_s: float = 1.0
    n: int = 0
    name: str = ""

    def to_cue(self) -> Cue:
        """The ``events.Cue`` that carries this output cue through the show and the logs."""
        args: tuple[float | int, ...]
        if self.action == "on":
            args = (float(self.value),)
        elif self.action == "off":
            args = ()
        elif self.action == "fade":
            args = (float(self.value), float(self.duration_s))
        elif self.action == "blink":
            args = (float(self.on_s), float(self.off_s), int(self.n))
        else:
            args = (float(self.fade_in_s), float(self.fade_out_s), int(self.n))
        return Cue(OUTPUT_TARGET_PREFIX + self.output, "/" + self.action, args, self.name)

    @classmethod
    def from_cue(cls, cue: Cue) -> OutputCue | None:
        """The output cue ``cue`` carries; ``None`` if it is not one. Raises ``CueError`` if
        the target says output but the rest is malformed."""
        if not is_output_cue(cue):
            return None
        output = cue.target[len(OUTPUT_TARGET_PREFIX) :]
        action = cue.address[1:] if cue.address.startswith("/") else ""
        args = cue.args
        numbers = all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)
        arity = {"on": 1, "off": 0, "fade": 2, "blink": 3, "pulse": 3}.get(action)
        if not output or arity is None or len(args) != arity or not numbers:
            raise CueError(
                f"malformed output cue {cue.name or cue.address!r}: target {cue.target!r}, "
                f"address {cue.address!r}, args {list(args)!r}"
            )
        values = [float(cast(float, a)) for a in args]
        name = cue.name
        if action == "on":
            return cls(output, "on", value=values[0], name=name)
        if action == "off":
            return cls(output, "off", name=name)
        if action == "fade":
            return cls(output, "fade", value=values[0], duration_s=values[1], name=name)
        if action == "blink":
            return cls(
                output, "blink", on_s=values[0], off_s=values[1], n=int(values[2]), name=name
            )
        return cls(
            output, "pulse", fade_in_s=values[0], fade_out_s=values[1], n=int(values[2]), name=name
        )


def is_output_cue(cue: Cue) -> bool:
    """Whether ``cue`` is an output cue (its target starts with ``"output:"``)."""
    return cue.target.startswith(OUTPUT_TARGET_PREFIX)


def is_output_cue_table(table: Mapping[str, Any]) -> bool:
    """Whether a cue table from the config is an output cue: it has an ``output`` key."""
    return "output" in table


# -- config -----------------------------------------------------------------------------------


def parse_outputs(
    table: Mapping[str, Any],
    path: str,
    checker: Checker,
    used_pins: Mapping[int, str] | None = None,
) -> dict[str, OutputConfig]:
    """The ``[outputs]`` table at ``path`` (usually ``"outputs"``). ``used_pins`` maps pins
    that other sections already use (sensors) to their key paths, so a clash with them is
    caught too.

    Example:
        >>> c = Checker()
        >>> outputs = parse_outputs({"lamp": {"type": "led", "pin": 17}}, "outputs", c)
        >>> outputs["lamp"]
        OutputConfig(name='lamp', type='led', pin=17, active_high=True, frequency_hz=100.0)
    """
    c = checker
    taken: dict[int, str] = dict(used_pins or {})
    outputs: dict[str, OutputConfig] = {}
    for name, value in table.items():
        where = join(path, name)
        if not _NAME.match(name):
            c.error(
                where,
                "not a usable output name",
                show_got=False,
                expected="letters, digits, _ and - only",
            )
            continue
        if not isinstance(value, dict):
            c.error(where, "not an output", value, 'a table such as { type = "led", pin = 17 }')
            continue
        before = len(c.problems)
        kind: OutputType | None = None
        if "type" not in value:
            c.error(
                join(where, "type"),
                "missing",
                show_got=False,
                expected="one of " + ", ".join(f'"{t}"' for t in OUTPUT_TYPES),
            )
        else:
            kind = cast(OutputType, c.choice(value, where, "type", "led", OUTPUT_TYPES))
        pin = _pin(c, value, where, taken)
        active_high = c.boolean(value, where, "active_high", True)
        frequency_hz = 100.0
        if "frequency_hz" in value and kind is not None and kind != "pwm_led":
            c.error(
                join(where, "frequency_hz"),
                f'only used by "pwm_led" outputs (this one is a "{kind}")',
                value["frequency_hz"],
                'type = "pwm_led", or no frequency_hz',
            )
        else:
            frequency_hz = c.number(
                value,
                where,
                "frequency_hz",
                100.0,
                minimum=0,
                maximum=10000,
                exclusive_minimum=True,
                unit="hertz",
            )
        c.unknown_keys(value, where, OUTPUT_KEYS)
        if len(c.problems) > before or kind is None or pin is None:
            continue
        outputs[name] = OutputConfig(name, kind, pin, active_high, frequency_hz)
    return outputs


def _pin(c: Checker, value: Mapping[str, Any], where: str, taken: dict[int, str]) -> int | None:
    at = join(where, "pin")
    expected = "a BCM pin number from 2 to 27, e.g. 17 for GPIO17"
    if "pin" not in value:
        c.error(at, "missing", show_got=False, expected=expected)
        return None
    pin = value["pin"]
    if isinstance(pin, str):
        match = _PIN_TEXT.match(pin)
        hint = match.group(1) if match and int(match.group(1)) in BCM_PINS else None
        c.error(at, "not a pin number", pin, expected, hint)
        return None
    if isinstance(pin, bool) or not isinstance(pin, int):
        c.error(at, "not a pin number", pin, expected)
        return None
    if pin not in BCM_PINS:
        c.error(at, "not a GPIO pin of the header", pin, expected)
        return None
    if pin in taken:
        c.error(
            at,
            f"pin {pin} is already used by {taken[pin]}",
            pin,
            "a pin no other device uses",
        )
        return None
    taken[pin] = where
    return pin


def parse_output_cue(
    table: Mapping[str, Any],
    path: str,
    checker: Checker,
    outputs: Mapping[str, OutputConfig],
    name: str = "",
) -> OutputCue | None:
    """An output cue from its table at key path ``path``; ``None`` (with the problems in
    ``checker``) if it is invalid.

    Example:
        >>> c = Checker()
        >>> lamp = {"lamp": OutputConfig("lamp", "led", 17)}
        >>> parse_output_cue({"output": "lamp", "action": "fade", "value": 0.5}, "cues.x", c, lamp)
        >>> c.problems[0]
        'cues.x.action: "fade" needs a dimmable output (got "fade"); expected a "pwm_led" output'
    """
    c = checker
    before = len(c.problems)
    output = _output_name(c, table, path, outputs)
    action = cast(OutputAction, c.choice(table, path, "action", "on", OUTPUT_ACTIONS))
    config = outputs.get(output) if output is not None else None
    dims = config is not None and config.type == "pwm_led"
    if config is not None and not dims and action in _DIMMING_ACTIONS:
        c.error(
            join(path, "action"),
            f'"{action}" needs a dimmable output',
            action,
            'a "pwm_led" output',
        )
    used = _ACTION_KEYS[action]
    for key in table:
        if key in CUE_KEYS and key not in ("output", "action", *used):
            c.error(
                join(path, key),
                f'not used by action "{action}"',
                show_got=False,
                expected="one of " + (", ".join(_ACTION_KEYS[action]) or "no other keys"),
            )
    c.unknown_keys(table, path, CUE_KEYS)
    value = 1.0
    if action == "fade" and "value" not in table:
        c.error(join(path, "value"), "missing", show_got=False, expected="a brightness 0..1")
    if "value" in used:
        value = c.number(table, path, "value", 1.0, minimum=0, maximum=1)
        if action == "on" and config is not None and not dims and value != 1.0:
            c.error(
                join(path, "value"),
                f'a "{config.type}" is either on or off',
                table.get("value"),
                'no value, or a "pwm_led" output for brightness',
            )

    def seconds(key: str, default: float) -> float:
        if key not in used:  # reported above as not used by this action
            return default
        return c.number(
            table,
            path,
            key,
            default,
            minimum=0,
            maximum=3600,
            exclusive_minimum=key in ("on_s", "off_s"),
            unit="seconds",
        )

    cue = OutputCue(
        output=output or "",
        action=action,
        value=value,
        duration_s=seconds("duration_s", 1.0),
        on_s=seconds("on_s", 0.5),
        off_s=seconds("off_s", 0.5),
        fade_in_s=seconds("fade_in_s", 1.0),
        fade_out_s=seconds("fade_out_s", 1.0),
        n=c.integer(table, path, "n", 0, minimum=1, maximum=100_000) if "n" in used else 0,
        name=name,
    )
    if len(c.problems) > before or output is None:
        return None
    return cue


def _output_name(
    c: Checker, table: Mapping[str, Any], path: str, outputs: Mapping[str, OutputConfig]
) -> str | None:
    where = join(path, "output")
    names = ", ".join(f'"{n}"' for n in sorted(outputs)) or "none defined in [outputs]"
    if "output" not in table:
        c.error(where, "missing", show_got=False, expected=f"the name of an output: {names}")
        return None
    value = table["output"]
    if not isinstance(value, str) or value not in outputs:
        hint = suggest(value, outputs) if isinstance(value, str) else None
        c.error(where, "unknown output", value, f"one of {names}", f'"{hint}"' if hint else None)
        return None
    return value


# -- the edge ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutputStats:
    """One output's record: ``open`` is false if its device could not be created; ``applied``
    counts cues carried out, ``skipped`` cues that could not be (device not open, bank closed,
    action it cannot do), ``failed`` cues the device raised on; ``last_error`` says why."""

    open: bool
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    last_error: str | None = None


class _Output:
    def __init__(self, config: OutputConfig) -> None:
        self.config = config
        self.device: Any = None
        self.applied = 0
        self.skipped = 0
        self.failed = 0
        self.last_error: str | None = None
        self.warned = False


class OutputBank(Closing):
    """The config's outputs as gpiozero devices, driven by ``OutputCue``.

    ``pin_factory``: a gpiozero pin factory, or ``None`` for the one gpiozero picks from
    ``GPIOZERO_PIN_FACTORY``. ``fade_rate_hz``: value steps per second during a ``fade``.

    Example:
        >>> from gpiozero.pins.mock import MockFactory, MockPWMPin
        >>> factory = MockFactory(pin_class=MockPWMPin)
        >>> outputs = {"spot": OutputConfig("spot", "pwm_led", 18)}
        >>> with OutputBank(outputs, pin_factory=factory) as bank:
        ...     bank.apply(OutputCue("spot", "on", value=0.25))
        ...     factory.pin(18).state
        True
        0.25
        >>> factory.pin(18).state  # closing turned it off
        0.0
    """

    def __init__(
        self,
        outputs: Mapping[str, OutputConfig],
        *,
        pin_factory: Any = None,
        logger: logging.Logger | None = None,
        fade_rate_hz: float = 50.0,
    ) -> None:
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._fade_rate_hz = fade_rate_hz
        self._lock = threading.Lock()
        self._closed = False
        self._outputs = {name: _Output(config) for name, config in outputs.items()}
        for output in self._outputs.values():
            try:
                output.device = _open(output.config, pin_factory)
            except Exception as exc:  # gpiozero, lgpio and OS errors alike: report, go on
                output.last_error = f"cannot be opened: {_describe(exc)}"
                self._log.warning(
                    "output %r (%s on GPIO%d) %s; its cues will be skipped",
                    output.config.name,
                    output.config.type,
                    output.config.pin,
                    output.last_error,
                )

    def apply(self, cue: OutputCue) -> bool:
        """Carry out one cue; ``True`` if the device took it. Never raises."""
        with self._lock:
            output = self._outputs.get(cue.output)
            if output is None:
                self._log.warning("output cue %r names unknown output %r", cue.name, cue.output)
                return False
            device = output.device
            if self._closed or device is None:
                output.skipped += 1
                return False
            pwm = output.config.type == "pwm_led"
            if cue.action in _DIMMING_ACTIONS and not pwm:
                output.skipped += 1
                output.last_error = f"{cue.action!r} needs a pwm_led"
                return False
            try:
                self._drive(device, cue, pwm)
            except Exception as exc:  # a device error must not stop the show
                output.failed += 1
                output.last_error = f"{cue.action}: {_describe(exc)}"
                if not output.warned:
                    self._log.warning("output %r: %s", output.config.name, output.last_error)
                    output.warned = True
                return False
            output.applied += 1
            return True

    def _drive(self, device: Any, cue: OutputCue, pwm: bool) -> None:
        device.source = None  # stop a fade in progress
        n = cue.n if cue.n > 0 else None
        if cue.action == "on":
            if pwm:
                device.value = cue.value
            else:
                device.on()
        elif cue.action == "off":
            device.off()
        elif cue.action == "fade":
            start = float(device.value)
            if cue.duration_s <= 0:
                device.value = cue.value
            else:
                device.source_delay = 1.0 / self._fade_rate_hz
                device.source = _ramp(start, cue.value, cue.duration_s, self._fade_rate_hz)
        elif cue.action == "blink":
            device.blink(on_time=cue.on_s, off_time=cue.off_s, n=n, background=True)
        else:
            device.pulse(
                fade_in_time=cue.fade_in_s, fade_out_time=cue.fade_out_s, n=n, background=True
            )

    def value(self, name: str) -> float | None:
        """What an output is set to now (0..1), or ``None`` if it is not open."""
        with self._lock:
            output = self._outputs.get(name)
            if output is None or output.device is None or self._closed:
                return None
            return float(output.device.value)

    def stats(self) -> dict[str, OutputStats]:
        """Every output's record, by name."""
        with self._lock:
            return {
                name: OutputStats(
                    open=o.device is not None and not self._closed,
                    applied=o.applied,
                    skipped=o.skipped,
                    failed=o.failed,
                    last_error=o.last_error,
                )
                for name, o in self._outputs.items()
            }

    def close(self) -> None:
        """Turn every output off, then release its pin. Later cues are counted as skipped.
        Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for output in self._outputs.values():
                device = output.device
                if device is None:
                    continue
                try:
                    device.source = None
                    device.off()
                except Exception as exc:
                    self._log.warning(
                        "output %r could not be turned off: %s",
                        output.config.name,
                        _describe(exc),
                    )
                try:
                    device.close()
                except Exception as exc:
                    self._log.warning(
                        "output %r could not be closed: %s", output.config.name, _describe(exc)
                    )


def _open(config: OutputConfig, pin_factory: Any) -> Any:
    if config.type == "led":
        return LED(
            config.pin,
            active_high=config.active_high,
            initial_value=False,
            pin_factory=pin_factory,
        )
    if config.type == "pwm_led":
        return PWMLED(
            config.pin,
            active_high=config.active_high,
            initial_value=0,
            frequency=config.frequency_hz,
            pin_factory=pin_factory,
        )
    return DigitalOutputDevice(
        config.pin,
        active_high=config.active_high,
        initial_value=False,
        pin_factory=pin_factory,
    )


def _ramp(start: float, end: float, duration_s: float, rate_hz: float) -> Iterator[float]:
    """Values from just after ``start`` to exactly ``end`` in ``duration_s * rate_hz`` steps."""
    steps = max(1, round(duration_s * rate_hz))
    for i in range(1, steps + 1):
        yield end if i == steps else start + (end - start) * i / steps


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class OutputSink(LocalCueSink[OutputCue]):
    """The runtime ``Sink`` for output cues: every event whose cue targets ``output:...`` goes
    to the bank; everything else is ignored. A malformed output cue is logged and counted,
    never raised. ``close`` closes the bank, which turns every output off.

    Example:
        >>> from gpiozero.pins.mock import MockFactory
        >>> from exhibit.events import cue_event
        >>> factory = MockFactory()
        >>> sink = OutputSink(OutputBank({"lamp": OutputConfig("lamp", "led", 17)},
        ...                              pin_factory=factory))
        >>> sink.handle(cue_event(0.0, OutputCue("lamp", "on").to_cue()))
        >>> factory.pin(17).state
        True
        >>> sink.close()
    """

    def __init__(self, bank: OutputBank, logger: logging.Logger | None = None) -> None:
        super().__init__(bank, OutputCue.from_cue, logger)
        self.bank = bank


__all__ = [
    "BCM_PINS",
    "OUTPUT_ACTIONS",
    "OUTPUT_TARGET_PREFIX",
    "OUTPUT_TYPES",
    "OutputAction",
    "OutputBank",
    "OutputConfig",
    "OutputCue",
    "OutputSink",
    "OutputStats",
    "OutputType",
    "is_output_cue",
    "is_output_cue_table",
    "parse_output_cue",
    "parse_outputs",
]
