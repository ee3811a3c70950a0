"""GPIO sensors as gpiozero devices, turned into timestamped ``SensorReading`` records.

``SensorBank`` is the edge: it opens one gpiozero device per configured sensor --
``MotionSensor`` (motion), ``Button`` (button, mat), ``DigitalInputDevice`` (light barrier),
``DistanceSensor`` (distance) -- on the configured pin factory, and turns their callbacks into
readings on a bounded, thread-safe queue, stamped by an injected monotonic clock (the frames'
clock, so readings and frames share one time line). The frame loop takes them with ``poll()``.

- Binary sensors give an ``active`` reading when opened (their state then) and at every change;
  buttons and mats also a ``held`` reading once per press after ``hold_s``.
- Debouncing is ours, the same on every pin factory: a change within ``bounce_s`` of the last
  accepted one is bounce and is counted; when the lockout ends, the pin is read again, so the
  final state is never lost. (gpiozero's ``bounce_time`` is left unset: its mock pins ignore it,
  and each driver hands it to a library that debounces in its own way.)
- A distance sensor is sampled every ``sample_s`` (gpiozero measures every 60 ms and keeps a
  median of ``queue_len``); a reading goes out when it moved by ``min_change_m``, and at least
  once a second. No echo for ``NO_ECHO_S`` gives an ``error`` reading ("no echo"); the next
  measurement recovers it.
- A device that fails to open is logged, counted and reported as an ``error`` reading; the rest
  run. Nothing here raises into the show once the bank is open.

The pin factory: ``GPIOZERO_PIN_FACTORY`` wins when it is set (so ``GPIOZERO_PIN_FACTORY=mock``
runs any exhibit off the Pi, as for the outputs), else ``[sensors] pin_factory``, else the first
of lgpio, rpigpio, pigpio, native that loads. Tests pass a ``MockFactory`` directly.

Example:
    >>> from gpiozero.pins.mock import MockFactory
    >>> from exhibit.sensors.config import SensorConfig, SensorsConfig
    >>> factory = MockFactory()
    >>> config = SensorsConfig({"pir": SensorConfig("pir", "motion", pin=4)})
    >>> with SensorBank(config, pin_factory=factory, clock=lambda: 1.0) as bank:
    ...     [(r.sensor, r.kind, r.value) for r in bank.poll()]
    [('pir', 'active', False)]
    >>> factory.close()
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, TextIO

from exhibit.closing import Closing
from exhibit.config.checker import suggest
from exhibit.errors import ExhibitError
from exhibit.sensors.config import PIN_FACTORIES, SensorConfig, SensorsConfig
from exhibit.sensors.readings import (
    ACTIVE,
    DISTANCE,
    ERROR,
    HELD,
    ReadingQueue,
    ReadingValue,
    SensorReading,
)

ENV_PIN_FACTORY = "GPIOZERO_PIN_FACTORY"
DEFAULT_FACTORY_ORDER = ("lgpio", "rpigpio", "pigpio", "native")
"""gpiozero's own order of preference when nothing names a pin factory."""
NO_ECHO_S = 1.0
"""A distance sensor without an echo for this long reports an ``error`` reading."""
HEARTBEAT_S = 1.0
"""A distance sensor reports at least this often, changed or not (a sign of life)."""

Clock = Callable[[], float]


class SensorError(ExhibitError):
    """The sensors cannot start: no usable pin factory (individual devices never raise)."""


# -- pin factory -----------------------------------------------------------------------------


def resolve_pin_factory_name(
    configured: str | None, environ: Mapping[str, str] | None = None
) -> tuple[str | None, str]:
    """Which pin factory to load and why: ``(name or None, "GPIOZERO_PIN_FACTORY" | "config" |
    "default")``. The environment variable wins when set and non-empty.

    Example:
        >>> resolve_pin_factory_name("lgpio", {"GPIOZERO_PIN_FACTORY": "mock"})
        ('mock', 'GPIOZERO_PIN_FACTORY')
        >>> resolve_pin_factory_name("lgpio", {})
        ('lgpio', 'config')
    """
    env = (environ if environ is not None else os.environ).get(ENV_PIN_FACTORY, "").strip()
    if env:
        return env.lower(), ENV_PIN_FACTORY
    if configured:
        return configured.lower(), "config"
    return None, "default"


def make_pin_factory(
    configured: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Any, str]:
    """A gpiozero pin factory and its name, chosen as ``resolve_pin_factory_name`` says.

    Raises ``SensorError`` naming what was asked for, why it did not load, and the way out
    (``pin_factory = "mock"`` runs without GPIO hardware).

    Example:
        >>> factory, name = make_pin_factory("mock", {})
        >>> name, type(factory).__name__
        ('mock', 'MockFactory')
        >>> factory.close()
    """
    name, origin = resolve_pin_factory_name(configured, environ)
    way_out = 'set [sensors] pin_factory = "mock" (or GPIOZERO_PIN_FACTORY=mock) to run without'
    way_out += " GPIO hardware"
    available = {ep.name: ep for ep in entry_points(group="gpiozero_pin_factories")}
    if name is not None:
        where = (
            f"{ENV_PIN_FACTORY}={name}" if origin == ENV_PIN_FACTORY else f'pin_factory = "{name}"'
        )
        if name not in available:
            hint = suggest(name, sorted(available) or PIN_FACTORIES)
            raise SensorError(
                f"sensors: {where}: no such gpiozero pin factory; expected one of "
                + ", ".join(sorted(available) or PIN_FACTORIES)
                + (f'; did you mean "{hint}"?' if hint else "")
            )
        try:
            return _load(available[name]), name
        except Exception as exc:
            raise SensorError(
                f"sensors: {where}: the {name} pin factory cannot be loaded "
                f"({_describe(exc)}){_install_hint(name)}; {way_out}"
            ) from exc
    reasons: list[str] = []
    for candidate in DEFAULT_FACTORY_ORDER:
        if candidate not in available:
            continue
        try:
            return _load(available[candidate]), candidate
        except Exception as exc:
            reasons.append(f"{candidate}: {_describe(exc)}")
    raise SensorError(
        "sensors: no GPIO pin factory could be loaded (" + "; ".join(reasons) + f"); {way_out}"
    )


def _load(entry_point: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return entry_point.load()()


def _install_hint(name: str) -> str:
    return {
        "lgpio": "; on Raspberry Pi OS: sudo apt install python3-lgpio",
        "rpigpio": "; on Raspberry Pi OS: sudo apt install python3-rpi.gpio (not on a Pi 5)",
        "pigpio": "; it needs the pigpio module and a running pigpiod daemon",
        "native": "; it only runs on a Raspberry Pi",
    }.get(name, "")


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- the bank --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorStats:
    """One sensor's live record: ``open`` false if its device could not be opened; ``state``
    the last reported value (bool, or metres; ``None`` before the first); ``changed_s`` when it
    last changed (the bank's clock); ``readings`` put on the queue; ``bounces`` edges dropped
    as contact bounce; ``errors`` error readings; ``last_error`` why."""

    open: bool
    state: bool | float | None = None
    changed_s: float | None = None
    readings: int = 0
    bounces: int = 0
    errors: int = 0
    last_error: str | None = None


class _Sensor:
    """Book-keeping for one device; every field is guarded by the bank's lock."""

    def __init__(self, config: SensorConfig) -> None:
        self.config = config
        self.device: Any = None
        self.state: bool | float | None = None
        self.changed_s: float | None = None
        self.accepted_s: float | None = None  # last accepted edge (debounce)
        self.timer: threading.Timer | None = None
        self.readings = 0
        self.bounces = 0
        self.errors = 0
        self.last_error: str | None = None
        # distance sensors
        self.emitted_s: float | None = None
        self.next_sample_s = 0.0
        self.echoes_seen = 0
        self.last_echo_s: float | None = None
        self.waiting_since_s: float | None = None
        self.no_echo = False


class SensorBank(Closing):
    """The config's sensors as gpiozero devices, read into ``SensorReading`` records.

    ``clock``: monotonic seconds for the readings' ``t_s`` (use the camera frames' clock).
    ``pin_factory``: a gpiozero pin factory object (tests pass a ``MockFactory``); ``None``
    chooses one from ``GPIOZERO_PIN_FACTORY`` in ``environ``, then ``config.pin_factory``
    (``SensorError`` if none loads). ``queue_size``: readings waiting for ``poll`` before the
    oldest are dropped (counted in ``overflow``).

    Example:
        >>> from gpiozero.pins.mock import MockFactory
        >>> from exhibit.sensors.config import SensorConfig, SensorsConfig
        >>> factory = MockFactory()
        >>> config = SensorsConfig({"gate": SensorConfig("gate", "light_barrier", pin=5,
        ...                                                active_high=False, bounce_s=0)})
        >>> with SensorBank(config, pin_factory=factory, clock=lambda: 2.5) as bank:
        ...     factory.pin(5).drive_low()  # someone walks through the beam
        ...     [(r.t_s, r.kind, r.value) for r in bank.poll()]
        [(2.5, 'active', False), (2.5, 'active', True)]
        >>> factory.close()
    """

    def __init__(
        self,
        config: SensorsConfig,
        *,
        clock: Clock = time.monotonic,
        pin_factory: Any = None,
        environ: Mapping[str, str] | None = None,
        queue_size: int = 1024,
        logger: logging.Logger | None = None,
    ) -> None:
        self._log = logger if logger is not None else logging.getLogger(__name__)
        self._clock = clock
        self._queue = ReadingQueue(queue_size)
        self._lock = threading.RLock()
        self._closed = False
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        if pin_factory is None and config.sensors:
            pin_factory, self.pin_factory_name = make_pin_factory(config.pin_factory, environ)
            self._owns_factory = True
            if config.pin_factory and config.pin_factory != self.pin_factory_name:
                self._log.info(
                    "sensors: %s=%s overrides pin_factory = %r from the config",
                    ENV_PIN_FACTORY,
                    self.pin_factory_name,
                    config.pin_factory,
                )
        else:
            self.pin_factory_name = type(pin_factory).__name__ if pin_factory else "none"
            self._owns_factory = False
        self.pin_factory = pin_factory
        self.failed_to_open = 0
        self._sensors = {name: _Sensor(cfg) for name, cfg in config.sensors.items()}
        for sensor in self._sensors.values():
            self._open(sensor)
        if any(
            s.config.type == "distance" and s.device is not None for s in self._sensors.values()
        ):
            self._sampler = threading.Thread(
                target=self._sample_distances, name="exhibit-distance-sensors", daemon=True
            )
            self._sampler.start()

    # -- opening ---------------------------------------------------------------------------

    def _open(self, sensor: _Sensor) -> None:
        cfg = sensor.config
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                sensor.device = _make_device(cfg, self.pin_factory)
            for warning in caught:  # e.g. gpiozero's advice to use pigpio for distance sensors
                self._log.info("sensor %r: %s", cfg.name, warning.message)
        except Exception as exc:  # gpiozero, lgpio and OS errors alike: report, go on
            self.failed_to_open += 1
            reason = f"cannot be opened: {_describe(exc)}"
            self._log.warning(
                "sensor %r (%s on %s) %s; the others still run",
                cfg.name,
                cfg.type,
                cfg.describe_pins(),
                reason,
            )
            self._error(sensor, reason)
            return
        device = sensor.device
        if cfg.type == "distance":
            return  # its first reading comes from the sampler
        with self._lock:  # callbacks from gpiozero's threads wait until the first state is out
            now = self._clock()
            sensor.state = bool(device.is_active)
            sensor.changed_s = now
            self._emit(sensor, now, ACTIVE, sensor.state)
            device.when_activated = lambda: self._edge(sensor, True)
            device.when_deactivated = lambda: self._edge(sensor, False)
            if cfg.type in ("button", "mat"):
                device.when_held = lambda: self._held(sensor)
            if bool(device.is_active) != sensor.state:  # it changed before the callbacks were set
                self._accept(sensor, self._clock(), not sensor.state)

    # -- readings --------------------------------------------------------------------------

    def _emit(self, sensor: _Sensor, t_s: float, kind: str, value: ReadingValue) -> None:
        sensor.readings += 1
        self._queue.put(SensorReading(t_s, sensor.config.name, kind, value))

    def _error(self, sensor: _Sensor, reason: str) -> None:
        with self._lock:
            sensor.errors += 1
            sensor.last_error = reason
            self._emit(sensor, self._clock(), ERROR, reason)

    def _edge(self, sensor: _Sensor, active: bool) -> None:
        """A gpiozero callback (its thread, or the caller of a mock pin's ``drive_*``)."""
        with self._lock:
            if self._closed:
                return
            now = self._clock()
            if active == sensor.state:
                return
            bounce_s = sensor.config.bounce_s
            if (
                bounce_s > 0
                and sensor.accepted_s is not None
                and now - sensor.accepted_s < bounce_s
            ):
                sensor.bounces += 1
                if sensor.timer is None:
                    sensor.timer = threading.Timer(
                        bounce_s - (now - sensor.accepted_s), self._settle, (sensor,)
                    )
                    sensor.timer.daemon = True
                    sensor.timer.start()
                return
            self._accept(sensor, now, active)

    def _accept(self, sensor: _Sensor, now: float, active: bool) -> None:
        sensor.state = active
        sensor.changed_s = now
        sensor.accepted_s = now
        self._emit(sensor, now, ACTIVE, active)

    def _settle(self, sensor: _Sensor) -> None:
        """End of a bounce lockout: report the pin's level if it differs from the last report."""
        with self._lock:
            sensor.timer = None
            if self._closed or sensor.device is None:
                return
            try:
                level = bool(sensor.device.is_active)
            except Exception as exc:
                self._error(sensor, f"cannot be read: {_describe(exc)}")
                return
            if level != sensor.state:
                self._accept(sensor, self._clock(), level)

    def _held(self, sensor: _Sensor) -> None:
        with self._lock:
            if self._closed or sensor.state is not True:
                return
            self._emit(sensor, self._clock(), HELD, float(sensor.config.hold_s))

    def _sample_distances(self) -> None:
        distance_sensors = [
            s for s in self._sensors.values() if s.config.type == "distance" and s.device
        ]
        period_s = min(s.config.sample_s for s in distance_sensors)
        while not self._stop.wait(min(period_s, 0.05)):
            for sensor in distance_sensors:
                try:
                    self._sample(sensor)
                except Exception as exc:  # a closed device, a driver error: report, go on
                    if not self._closed:
                        self._error(sensor, f"cannot be read: {_describe(exc)}")

    def _sample(self, sensor: _Sensor) -> None:
        now = self._clock()
        if now < sensor.next_sample_s:
            return
        cfg = sensor.config
        sensor.next_sample_s = now + cfg.sample_s
        device = sensor.device
        echoes = int(device.echoes)
        with self._lock:
            if self._closed:
                return
            if echoes > sensor.echoes_seen:
                sensor.echoes_seen = echoes
                sensor.last_echo_s = now
            if sensor.last_echo_s is None:  # no echo yet since the device opened
                if sensor.waiting_since_s is None:
                    sensor.waiting_since_s = now
                silent_s = now - sensor.waiting_since_s
            else:
                silent_s = now - sensor.last_echo_s
            if sensor.last_echo_s is None or silent_s >= NO_ECHO_S:
                if silent_s >= NO_ECHO_S and not sensor.no_echo:
                    sensor.no_echo = True
                    self._error(sensor, f"no echo for {NO_ECHO_S:g} s")
                return
        distance_m = round(float(device.distance), 4)
        with self._lock:
            if self._closed:
                return
            sensor.no_echo = False
            last = sensor.state
            moved = not isinstance(last, float) or abs(distance_m - last) >= cfg.min_change_m
            quiet = sensor.emitted_s is None or now - sensor.emitted_s >= HEARTBEAT_S
            if moved or quiet or sensor.last_error is not None:
                if moved:
                    sensor.state = distance_m
                    sensor.changed_s = now
                sensor.last_error = None
                sensor.emitted_s = now
                self._emit(sensor, now, DISTANCE, distance_m)

    # -- the frame loop's side ---------------------------------------------------------------

    def poll(self) -> list[SensorReading]:
        """Every reading since the last poll, in arrival order (never blocks)."""
        return self._queue.drain()

    @property
    def overflow(self) -> int:
        """Readings dropped because nobody polled in time."""
        return self._queue.overflow

    def stats(self) -> dict[str, SensorStats]:
        """Every sensor's live record, by name."""
        with self._lock:
            return {
                name: SensorStats(
                    open=s.device is not None and not self._closed,
                    state=s.state,
                    changed_s=s.changed_s,
                    readings=s.readings,
                    bounces=s.bounces,
                    errors=s.errors,
                    last_error=s.last_error,
                )
                for name, s in self._sensors.items()
            }

    def configs(self) -> dict[str, SensorConfig]:
        return {name: s.config for name, s in self._sensors.items()}

    def close(self) -> None:
        """Stop sampling and release every pin. Closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            timers = [s.timer for s in self._sensors.values() if s.timer is not None]
        for timer in timers:
            timer.cancel()
        if self._sampler is not None:
            self._sampler.join(timeout=2.0)
        for sensor in self._sensors.values():
            if sensor.device is None:
                continue
            try:
                sensor.device.close()
            except Exception as exc:
                self._log.warning("sensor %r could not be closed: %s", sensor.config.name, exc)
        if self._owns_factory and self.pin_factory is not None:
            try:
                self.pin_factory.close()
            except Exception as exc:
                self._log.warning("sensors: the pin factory could not be closed: %s", exc)


def _make_device(cfg: SensorConfig, pin_factory: Any) -> Any:
    from gpiozero import Button, DigitalInputDevice, MotionSensor

    pull_up = not cfg.active_high
    if cfg.type == "motion":
        return MotionSensor(cfg.pin, pull_up=pull_up, pin_factory=pin_factory)
    if cfg.type in ("button", "mat"):
        return Button(
            cfg.pin,
            pull_up=pull_up,
            bounce_time=None,
            hold_time=cfg.hold_s,
            hold_repeat=False,
            pin_factory=pin_factory,
        )
    if cfg.type == "light_barrier":
        return DigitalInputDevice(
            cfg.pin, pull_up=pull_up, bounce_time=None, pin_factory=pin_factory
        )
    return _distance_sensor_class()(
        echo=cfg.echo_pin,
        trigger=cfg.trigger_pin,
        queue_len=cfg.queue_len,
        max_distance=cfg.max_distance_m,
        threshold_distance=cfg.max_distance_m / 2,
        partial=True,
        pin_factory=pin_factory,
    )


@functools.cache
def _distance_sensor_class() -> type[Any]:
    """gpiozero's ``DistanceSensor``, counting the echoes it measured.

    gpiozero keeps the last good measurements in its median queue when echoes stop, so the
    distance alone cannot tell a dead sensor from a still scene; the count can. Its no-echo
    warning is caught here when warnings are errors (as under pytest), where it would otherwise
    kill gpiozero's sampling thread.
    """
    from gpiozero import DistanceSensor
    from gpiozero.exc import DistanceSensorNoEcho

    class CountingDistanceSensor(DistanceSensor):  # type: ignore[misc]
        echoes = 0

        def _read(self) -> float | None:
            try:
                value: float | None = super()._read()
            except DistanceSensorNoEcho:
                value = None
            if value is not None:
                self.echoes += 1
            return value

    return CountingDistanceSensor


# -- exhibit sensors CONFIG -----------------------------------------------------------------

_STATE_WORDS: dict[str, tuple[str, str]] = {
    "motion": ("motion", "quiet"),
    "button": ("pressed", "released"),
    "mat": ("stood on", "free"),
    "light_barrier": ("broken", "clear"),
}


def format_sensor_table(
    bank: SensorBank, now_s: float, configs: Mapping[str, SensorConfig] | None = None
) -> str:
    """The live table ``exhibit sensors`` prints: one row per sensor.

    Example:
        >>> from gpiozero.pins.mock import MockFactory
        >>> from exhibit.sensors.config import SensorConfig, SensorsConfig
        >>> factory = MockFactory()
        >>> cfg = SensorsConfig({"start": SensorConfig("start", "button", pin=17,
        ...                                              active_high=False)})
        >>> with SensorBank(cfg, pin_factory=factory, clock=lambda: 0.0) as bank:
        ...     print(format_sensor_table(bank, 3.0))  # doctest: +NORMALIZE_WHITESPACE
        sensor  type    pins    state     changed  readings  bounces  problem
        start   button  GPIO17  released  3.0 s    1         0
        >>> factory.close()
    """
    configs = configs if configs is not None else bank.configs()
    rows = [["sensor", "type", "pins", "state", "changed", "readings", "bounces", "problem"]]
    for name, stats in bank.stats().items():
        cfg = configs[name]
        if isinstance(stats.state, bool):
            on, off = _STATE_WORDS.get(cfg.type, ("active", "inactive"))
            state = on if stats.state else off
        elif isinstance(stats.state, float):
            state = f"{stats.state:.2f} m"
        else:
            state = "-"
        changed = "-" if stats.changed_s is None else f"{max(0.0, now_s - stats.changed_s):.1f} s"
        problem = stats.last_error or ""
        if not stats.open:
            state, changed = "-", "-"
        rows.append(
            [
                name,
                cfg.type,
                cfg.describe_pins(),
                state,
                changed,
                str(stats.readings),
                str(stats.bounces),
                problem,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def run_sensors_view(
    config: SensorsConfig,
    out: TextIO,
    stop: threading.Event,
    refresh_s: float = 0.5,
    *,
    pin_factory: Any = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock = time.monotonic,
) -> int:
    """``exhibit sensors CONFIG``: print every sensor's live state, refreshed every
    ``refresh_s`` until ``stop`` is set (at least once). On a terminal the table is redrawn in
    place; otherwise tables follow one another. Returns the exit status: 0 when every sensor
    opened, 1 when some did not, 2 when no pin factory loaded (the message goes to ``out``).

    Example:
        >>> import io, threading
        >>> from gpiozero.pins.mock import MockFactory
        >>> from exhibit.sensors.config import SensorConfig, SensorsConfig
        >>> stop = threading.Event(); stop.set()
        >>> out = io.StringIO()
        >>> cfg = SensorsConfig({"pir": SensorConfig("pir", "motion", pin=4)})
        >>> factory = MockFactory()
        >>> run_sensors_view(cfg, out, stop, pin_factory=factory, clock=lambda: 0.0)
        0
        >>> factory.close()
        >>> "pir     motion  GPIO4  quiet" in out.getvalue()
        True
    """
    if not config.sensors:
        out.write("no sensors in the config: add a [sensors.NAME] table\n")
        out.flush()
        return 0
    try:
        bank = SensorBank(config, clock=clock, pin_factory=pin_factory, environ=environ)
    except SensorError as exc:
        out.write(f"{exc}\n")
        out.flush()
        return 2
    redraw = bool(getattr(out, "isatty", lambda: False)())
    start_s = clock()
    with bank:
        while True:
            bank.poll()  # the view shows states; the readings themselves are not kept
            now = clock()
            head = (
                f"sensors on pin factory {bank.pin_factory_name}, {now - start_s:.1f} s, "
                f"queue overflow {bank.overflow}"
            )
            text = head + "\n" + format_sensor_table(bank, now) + "\n"
            if redraw:
                text = "\x1b[H\x1b[J" + text
            else:
                text += "\n"
            out.write(text)
            out.flush()
            if stop.wait(refresh_s):
                break
        return 1 if bank.failed_to_open else 0


__all__ = [
    "DEFAULT_FACTORY_ORDER",
    "ENV_PIN_FACTORY",
    "HEARTBEAT_S",
    "NO_ECHO_S",
    "SensorBank",
    "SensorError",
    "SensorStats",
    "format_sensor_table",
    "make_pin_factory",
    "resolve_pin_factory_name",
    "run_sensors_view",
]
