"""GPIO sensors: ``[sensors]`` validation, readings and their recording form, and the bank on
gpiozero's MockFactory.

The tests act on the world through gpiozero's mock pins -- ``drive_high()``/``drive_low()`` for
a PIR, a button, a mat, a light barrier; a ``MockTriggerPin`` wired to an echo pin for the
ultrasonic sensor, as gpiozero's own test suite does -- and assert the readings the frame loop
would get. Readings are stamped by an injected clock; waits are bounded polls.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory, MockTriggerPin

from exhibit.config.checker import Checker
from exhibit.cues.gpio_out import parse_outputs
from exhibit.sensors.config import SensorConfig, SensorsConfig, parse_sensors
from exhibit.sensors.gpio_in import (
    NO_ECHO_S,
    SensorBank,
    SensorError,
    format_sensor_table,
    make_pin_factory,
    resolve_pin_factory_name,
    run_sensors_view,
)
from exhibit.sensors.readings import (
    ReadingQueue,
    SensorReading,
    decode_reading,
    encode_reading,
)

SPEED_OF_SOUND_M_S = 343.26  # gpiozero's figure


class FakeClock:
    """The frames' clock, set by the test."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def wait_until(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    """Poll ``condition`` every 5 ms until it holds or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


class Collector:
    """Polls a bank and keeps everything it returned."""

    def __init__(self, bank: SensorBank) -> None:
        self.bank = bank
        self.readings: list[SensorReading] = []

    def poll(self) -> list[SensorReading]:
        self.readings += self.bank.poll()
        return self.readings

    def of(self, sensor: str, kind: str | None = None) -> list[SensorReading]:
        self.poll()
        return [r for r in self.readings if r.sensor == sensor and (kind is None or r.kind == kind)]

    def wait_for(self, sensor: str, kind: str, count: int = 1, timeout_s: float = 3.0) -> bool:
        return wait_until(lambda: len(self.of(sensor, kind)) >= count, timeout_s)


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    factory = MockFactory()
    try:
        yield factory
    finally:
        factory.close()


def _config(*sensors: SensorConfig, pin_factory: str | None = None) -> SensorsConfig:
    return SensorsConfig({s.name: s for s in sensors}, pin_factory)


# -- [sensors] --------------------------------------------------------------------------------

EXAMPLE = {
    "pin_factory": "mock",
    "pir": {"type": "motion", "pin": 4},
    "start": {"type": "button", "pin": 17, "bounce_s": 0.05, "hold_s": 1.0},
    "mat": {"type": "mat", "pin": 22},
    "range": {"type": "distance", "trigger_pin": 23, "echo_pin": 24, "max_distance_m": 3.0},
    "gate": {"type": "light_barrier", "pin": 5},
}


def test_the_example_config_parses_with_defaults_per_type() -> None:
    c = Checker()
    cfg = parse_sensors(EXAMPLE, "sensors", c, {})
    assert c.problems == []
    assert cfg.pin_factory == "mock"
    assert cfg.sensors["pir"] == SensorConfig("pir", "motion", pin=4, path="sensors.pir")
    start = cfg.sensors["start"]
    assert (start.active_high, start.bounce_s, start.hold_s) == (False, 0.05, 1.0)
    mat = cfg.sensors["mat"]
    assert (mat.type, mat.active_high, mat.bounce_s, mat.hold_s) == ("mat", False, 0.1, 0.5)
    rng = cfg.sensors["range"]
    assert (rng.trigger_pin, rng.echo_pin, rng.max_distance_m, rng.pin) == (23, 24, 3.0, None)
    assert cfg.sensors["gate"].active_high is False
    assert cfg.pins() == {
        4: "sensors.pir.pin",
        17: "sensors.start.pin",
        22: "sensors.mat.pin",
        23: "sensors.range.trigger_pin",
        24: "sensors.range.echo_pin",
        5: "sensors.gate.pin",
    }
    assert cfg.types()["range"] == "distance"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        (
            {"start": {"type": "buton", "pin": 17}},
            'sensors.start.type: unknown sensor type (got "buton"); expected one of "motion", '
            '"button", "mat", "distance", "light_barrier"; did you mean "button"?',
        ),
        (
            {"pir": {"type": "pir", "pin": 4}},
            'sensors.pir.type: unknown sensor type (got "pir"); expected one of "motion", '
            '"button", "mat", "distance", "light_barrier"; did you mean "motion"?',
        ),
        (
            {"pir": {"pin": 4}},
            'sensors.pir.type: missing; expected one of "motion", "button", "mat", "distance", '
            '"light_barrier"',
        ),
        (
            {"start": {"type": "button", "pin": 17, "bounce": 0.05}},
            "sensors.start.bounce: unknown key; expected one of active_high, bounce_s, echo_pin, "
            "hold_s, max_distance_m, min_change_m, pin, queue_len, sample_s, trigger_pin, type; "
            'did you mean "bounce_s"?',
        ),
        (
            {"pir": {"type": "motion", "pin": 4, "hold_s": 1}},
            'sensors.pir.hold_s: not used by a "motion" sensor; expected one of pin, active_high',
        ),
        (
            {"pir": {"type": "motion", "pin": 28}},
            "sensors.pir.pin: no such GPIO pin on the header (got 28); expected a BCM pin number "
            "from 2 to 27, e.g. 17 for GPIO17",
        ),
        (
            {"pir": {"type": "motion", "pin": 40}},
            "sensors.pir.pin: no such GPIO pin on the header (got 40); expected a BCM pin number "
            "from 2 to 27, e.g. 17 for GPIO17; did you mean 21 (header pin 40 is GPIO21)?",
        ),
        (
            {"pir": {"type": "motion", "pin": 0}},
            "sensors.pir.pin: no such GPIO pin on the header (got 0); expected a BCM pin number "
            "from 2 to 27, e.g. 17 for GPIO17",
        ),
        (
            {"pir": {"type": "motion", "pin": "GPIO4"}},
            'sensors.pir.pin: not a pin number (got "GPIO4"); expected a BCM pin number from 2 '
            "to 27, e.g. 17 for GPIO17; did you mean 4?",
        ),
        (
            {"pir": {"type": "motion"}},
            "sensors.pir.pin: missing; expected a BCM pin number from 2 to 27, e.g. 17 for GPIO17",
        ),
        (
            {"pir": {"type": "motion", "pin": 2}},
            "sensors.pir.pin: GPIO2 has a fixed pull-up resistor (I2C), so an active-high sensor "
            "cannot use it (got 2); expected another pin, or active_high = false for a sensor "
            "that pulls the pin low",
        ),
        (
            {"range": {"type": "distance", "trigger_pin": 23, "echo_pin": 23}},
            "sensors.range.echo_pin: pin 23 is already used by sensors.range.trigger_pin (got 23); "
            "expected a pin no other device uses",
        ),
        (
            {"range": {"type": "distance", "trigger_pin": 23, "echo_pin": 24, "min_change_m": 3}},
            "sensors.range.min_change_m: not smaller than max_distance_m (got 3); expected a "
            "value < 3",
        ),
        (
            {"pin_factory": "mok"},
            'sensors.pin_factory: not a gpiozero pin factory (got "mok"); expected one of '
            '"lgpio", "rpigpio", "pigpio", "native", "mock"; did you mean "mock"?',
        ),
        (
            {"pin_factroy": "mock"},
            'sensors.pin_factroy: not a sensor table (got "mock"); expected a table such as '
            '[sensors.pir] with type = "motion" and pin = 4, or the setting pin_factory; did '
            'you mean "pin_factory"?',
        ),
        (
            {"camera": {"type": "motion", "pin": 4}},
            'sensors.camera: "camera" is reserved for the fusion\'s own source; expected another '
            'name, e.g. "camera_1"',
        ),
        (
            {"start": {"type": "button", "pin": 17, "hold_s": 0}},
            "sensors.start.hold_s: out of range (got 0); expected a value > 0 and <= 60",
        ),
    ],
)
def test_sensor_errors_name_the_key_and_the_likely_fix(
    table: dict[str, object], problem: str
) -> None:
    c = Checker()
    cfg = parse_sensors(table, "sensors", c, {})
    assert c.problems == [problem]
    assert cfg.sensors == {}  # an invalid sensor is left out


def test_a_pin_used_by_two_sensors_names_both() -> None:
    c = Checker()
    table = {"pir": {"type": "motion", "pin": 4}, "gate": {"type": "light_barrier", "pin": 4}}
    cfg = parse_sensors(table, "sensors", c, {})
    assert c.problems == [
        "sensors.gate.pin: pin 4 is already used by sensors.pir.pin (got 4); expected a pin no "
        "other device uses"
    ]
    assert list(cfg.sensors) == ["pir"]


def test_a_pin_used_by_an_output_names_both_either_way_round() -> None:
    c = Checker()
    outputs = parse_outputs({"lamp": {"type": "led", "pin": 17}}, "outputs", c)
    used = {o.pin: f"outputs.{name}.pin" for name, o in outputs.items()}
    parse_sensors({"start": {"type": "button", "pin": 17}}, "sensors", c, used)
    assert c.problems == [
        "sensors.start.pin: pin 17 is already used by outputs.lamp.pin (got 17); expected a pin "
        "no other device uses"
    ]
    # ... and the other way round: sensors first, their pins handed to the outputs.
    c = Checker()
    sensors = parse_sensors({"start": {"type": "button", "pin": 17}}, "sensors", c, {})
    parse_outputs({"lamp": {"type": "led", "pin": 17}}, "outputs", c, sensors.pins())
    assert c.problems == [
        "outputs.lamp.pin: pin 17 is already used by sensors.start.pin (got 17); expected a pin "
        "no other device uses"
    ]


def test_every_error_of_a_bad_section_is_collected_at_once() -> None:
    c = Checker()
    table = {
        "pin_factory": 3,
        "pir": {"type": "motion", "pin": 99, "active_high": "yes"},
        "bad name": {"type": "button", "pin": 6},
        "range": {"type": "distance", "trigger_pin": 23, "max_distance_m": -1},
        "mat": "22",
    }
    cfg = parse_sensors(table, "sensors", c, {})
    paths = [p.split(":")[0] for p in c.problems]
    assert paths == [
        "sensors.pin_factory",
        "sensors.pir.pin",
        "sensors.pir.active_high",
        "sensors.bad name",
        "sensors.range.echo_pin",
        "sensors.range.max_distance_m",
        "sensors.mat",
    ]
    assert cfg.sensors == {}


# -- readings -------------------------------------------------------------------------------


def test_readings_round_trip_through_their_recording_form() -> None:
    readings = [
        SensorReading(0.1234567, "pir", "active", True),
        SensorReading(2.0, "range", "distance", 1.23456789),
        SensorReading(3.5, "mat", "held", 0.5),
        SensorReading(4.0, "range", "error", "no echo for 1 s"),
    ]
    encoded = [encode_reading(r) for r in readings]
    assert encoded[0] == {"t": 0.123457, "s": "pir", "k": "active", "v": True}
    assert encoded[1]["v"] == 1.2346
    decoded = [decode_reading(e) for e in encoded]
    assert [encode_reading(d) for d in decoded] == encoded  # canonical: re-encoding is stable
    assert decoded[3] == readings[3]


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([1], "a sensor reading must be a JSON object, got list"),
        ({"t": 1, "s": "pir", "k": "active"}, "sensor reading keys: missing ['v']"),
        ({"t": 1, "s": "pir", "k": "active", "v": 1, "x": 0}, "sensor reading keys: unknown ['x']"),
        ({"t": "1", "s": "pir", "k": "active", "v": True}, "sensor reading t must be a number"),
        ({"t": 1, "s": "", "k": "active", "v": True}, "sensor reading s must be a sensor name"),
        ({"t": 1, "s": "pir", "k": "active", "v": 1}, "an 'active' reading's v must be true"),
        ({"t": 1, "s": "r", "k": "distance", "v": "far"}, "a 'distance' reading's v must be a"),
        ({"t": 1, "s": "r", "k": "distance", "v": None}, "sensor reading v must be a boolean"),
    ],
)
def test_bad_recorded_readings_say_what_is_wrong(obj: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("]", r"\]")):
        decode_reading(obj)


def test_the_queue_is_bounded_drops_the_oldest_and_counts_it() -> None:
    q = ReadingQueue(maxlen=3)
    for i in range(5):
        q.put(SensorReading(float(i), "pir", "active", i % 2 == 0))
    assert q.overflow == 2
    assert [r.t_s for r in q.drain()] == [2.0, 3.0, 4.0]
    assert q.drain() == []


def test_the_queue_takes_readings_from_many_threads() -> None:
    q = ReadingQueue(maxlen=10_000)

    def put(n: int) -> None:
        for i in range(1000):
            q.put(SensorReading(float(i), f"s{n}", "active", True))

    threads = [threading.Thread(target=put, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(q.drain()) == 4000
    assert q.overflow == 0


# -- the bank on MockFactory ------------------------------------------------------------------


def test_pir_motion_is_read_with_the_injected_clock(factory: MockFactory) -> None:
    clock = FakeClock(10.0)
    with SensorBank(
        _config(SensorConfig("pir", "motion", pin=4)), pin_factory=factory, clock=clock
    ) as bank:
        seen = Collector(bank)
        assert [(r.t_s, r.kind, r.value) for r in seen.of("pir")] == [(10.0, "active", False)]
        clock.now = 12.5
        factory.pin(4).drive_high()  # someone moves in front of the PIR
        assert seen.wait_for("pir", "active", 2)
        clock.now = 20.0
        factory.pin(4).drive_low()
        assert seen.wait_for("pir", "active", 3)
        assert [(r.t_s, r.value) for r in seen.of("pir")] == [
            (10.0, False),
            (12.5, True),
            (20.0, False),
        ]
        assert bank.stats()["pir"].state is False


def test_a_bouncy_press_and_release_give_one_reading_each(factory: MockFactory) -> None:
    clock = FakeClock(0.0)
    start = SensorConfig("start", "button", pin=17, active_high=False, bounce_s=0.2, hold_s=30)
    with SensorBank(_config(start), pin_factory=factory, clock=clock) as bank:
        seen = Collector(bank)
        pin = factory.pin(17)
        clock.now = 1.0
        pin.drive_low()  # pressed: reported at once ...
        pin.drive_high()  # ... and the contacts bounce
        pin.drive_low()
        pin.drive_high()
        pin.drive_low()
        assert [(r.t_s, r.value) for r in seen.of("start", "active")] == [
            (0.0, False),
            (1.0, True),
        ]
        time.sleep(0.3)  # the lockout ends with the button still down: nothing more
        clock.now = 2.0
        assert len(seen.of("start", "active")) == 2
        pin.drive_high()  # released, with bounce
        pin.drive_low()
        pin.drive_high()
        assert [r.value for r in seen.of("start", "active")] == [False, True, False]
        assert bank.stats()["start"].bounces >= 2


def test_the_final_state_after_a_bounce_is_never_lost(factory: MockFactory) -> None:
    clock = FakeClock(0.0)
    gate = SensorConfig("gate", "light_barrier", pin=5, active_high=False, bounce_s=0.1)
    with SensorBank(_config(gate), pin_factory=factory, clock=clock) as bank:
        seen = Collector(bank)
        pin = factory.pin(5)
        clock.now = 1.0
        pin.drive_low()  # beam broken: accepted
        clock.now = 1.05
        pin.drive_high()  # restored within the lockout: held back ...
        assert [r.value for r in seen.of("gate", "active")] == [False, True]
        clock.now = 1.2
        assert seen.wait_for("gate", "active", 3)  # ... and reported when the lockout ends
        last = seen.of("gate", "active")[-1]
        assert (last.t_s, last.value) == (1.2, False)


def test_a_button_held_gives_a_held_reading_after_hold_s(factory: MockFactory) -> None:
    start = SensorConfig("start", "button", pin=17, active_high=False, bounce_s=0.0, hold_s=0.2)
    with SensorBank(_config(start), pin_factory=factory, clock=time.monotonic) as bank:
        seen = Collector(bank)
        pin = factory.pin(17)
        pin.drive_low()
        pin.drive_high()  # a short press: no hold
        time.sleep(0.35)
        assert seen.of("start", "held") == []
        pin.drive_low()
        assert seen.wait_for("start", "held")
        pressed = seen.of("start", "active")[-1]
        held = seen.of("start", "held")[0]
        assert pressed.value is True
        assert held.value == 0.2
        assert held.t_s - pressed.t_s >= 0.19
        time.sleep(0.3)
        assert len(seen.of("start", "held")) == 1  # once per press


def test_a_mat_stood_on_is_active_then_held_then_free(factory: MockFactory) -> None:
    mat = SensorConfig("mat", "mat", pin=22, active_high=False, bounce_s=0.1, hold_s=0.15)
    with SensorBank(_config(mat), pin_factory=factory, clock=time.monotonic) as bank:
        seen = Collector(bank)
        factory.pin(22).drive_low()  # a visitor steps on the mat and stays
        assert seen.wait_for("mat", "held")
        time.sleep(0.12)
        factory.pin(22).drive_high()  # and steps off
        assert seen.wait_for("mat", "active", 3)
        assert [(r.kind, r.value) for r in seen.of("mat")] == [
            ("active", False),
            ("active", True),
            ("held", 0.15),
            ("active", False),
        ]


def test_a_light_barrier_broken_and_restored(factory: MockFactory) -> None:
    clock = FakeClock(5.0)
    gate = SensorConfig("gate", "light_barrier", pin=5, active_high=False, bounce_s=0.01)
    with SensorBank(_config(gate), pin_factory=factory, clock=clock) as bank:
        seen = Collector(bank)
        clock.now = 6.0
        factory.pin(5).drive_low()  # someone walks through the beam
        clock.now = 6.4
        factory.pin(5).drive_high()
        assert [(r.t_s, r.value) for r in seen.of("gate")] == [
            (5.0, False),
            (6.0, True),
            (6.4, False),
        ]
        assert format_sensor_table(bank, 7.0).splitlines()[1].split()[:5] == [
            "gate",
            "light_barrier",
            "GPIO5",
            "clear",
            "0.6",
        ]


def _echo_time_s(distance_m: float) -> float:
    return 2.0 * distance_m / SPEED_OF_SOUND_M_S


def test_the_ultrasonic_distance_follows_the_echo_and_reports_no_echo(
    factory: MockFactory,
) -> None:
    # gpiozero's own tests wire a MockTriggerPin to the echo pin: when the trigger fires, a
    # thread drives the echo pin high for echo_time (drive_high/drive_low on a real thread),
    # so the measured time carries some scheduling jitter; hence the tolerances.
    echo = factory.pin(24)
    trigger = factory.pin(23, pin_class=MockTriggerPin, echo_pin=echo, echo_time=_echo_time_s(1.0))
    rng = SensorConfig(
        "range", "distance", trigger_pin=23, echo_pin=24, max_distance_m=3.0, sample_s=0.06
    )
    with SensorBank(_config(rng), pin_factory=factory, clock=time.monotonic) as bank:
        seen = Collector(bank)
        assert seen.wait_for("range", "distance")
        first = seen.of("range", "distance")[0]
        assert isinstance(first.value, float)
        assert first.value == pytest.approx(1.0, abs=0.3)

        trigger.echo_time = _echo_time_s(2.5)  # the visitor steps back
        assert wait_until(
            lambda: any(
                isinstance(r.value, float) and r.value > 2.0 for r in seen.of("range", "distance")
            )
        )
        trigger.echo_time = 0.3  # longer than any echo: the sensor hears nothing
        assert seen.wait_for("range", "error", timeout_s=NO_ECHO_S + 2.0)
        assert seen.of("range", "error")[0].value == "no echo for 1 s"
        trigger.echo_time = _echo_time_s(1.0)
        count = len(seen.of("range", "distance"))
        assert seen.wait_for("range", "distance", count + 1)  # back: readings resume
        assert bank.stats()["range"].errors == 1


def test_a_device_that_fails_to_open_is_reported_and_the_rest_run(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    other = LED(17, pin_factory=factory)  # something else holds GPIO17
    try:
        config = _config(
            SensorConfig("start", "button", pin=17, active_high=False),
            SensorConfig("pir", "motion", pin=4),
        )
        with caplog.at_level(logging.WARNING, logger="exhibit.sensors.gpio_in"):
            bank = SensorBank(config, pin_factory=factory, clock=FakeClock(1.0))
        with bank:
            assert bank.failed_to_open == 1
            assert "sensor 'start' (button on GPIO17) cannot be opened: GPIOPinInUse" in caplog.text
            seen = Collector(bank)
            error = seen.of("start")
            assert [(r.kind, r.t_s) for r in error] == [("error", 1.0)]
            assert str(error[0].value).startswith("cannot be opened: GPIOPinInUse")
            stats = bank.stats()
            assert stats["start"].open is False
            assert stats["pir"].open is True
            factory.pin(4).drive_high()
            assert seen.wait_for("pir", "active", 2)  # the PIR still works
            table = format_sensor_table(bank, 2.0)
            assert "cannot be opened: GPIOPinInUse" in table
    finally:
        other.close()


def test_overflow_is_counted_when_nobody_polls(factory: MockFactory) -> None:
    gate = SensorConfig("gate", "light_barrier", pin=5, active_high=False, bounce_s=0.0)
    with SensorBank(_config(gate), pin_factory=factory, clock=FakeClock(), queue_size=4) as bank:
        for _ in range(5):
            factory.pin(5).drive_low()
            factory.pin(5).drive_high()
        assert bank.overflow == 7  # 1 initial + 10 edges into 4 places
        assert [r.value for r in bank.poll()] == [True, False, True, False]


# -- pin factories ----------------------------------------------------------------------------


def test_the_environment_wins_over_the_config() -> None:
    assert resolve_pin_factory_name("lgpio", {"GPIOZERO_PIN_FACTORY": "Mock"}) == (
        "mock",
        "GPIOZERO_PIN_FACTORY",
    )
    assert resolve_pin_factory_name("lgpio", {"GPIOZERO_PIN_FACTORY": " "}) == ("lgpio", "config")
    assert resolve_pin_factory_name(None, {}) == (None, "default")
    config = _config(SensorConfig("pir", "motion", pin=4), pin_factory="pigpio")
    with SensorBank(config, environ={"GPIOZERO_PIN_FACTORY": "mock"}) as bank:
        assert bank.pin_factory_name == "mock"
        assert bank.stats()["pir"].open


def test_a_pin_factory_that_cannot_load_says_why_and_the_way_out() -> None:
    if importlib.util.find_spec("pigpio") is not None:
        pytest.skip("pigpio is installed here")
    config = _config(SensorConfig("pir", "motion", pin=4), pin_factory="pigpio")
    with pytest.raises(SensorError) as info:
        SensorBank(config, environ={})
    message = str(info.value)
    assert message.startswith('sensors: pin_factory = "pigpio": the pigpio pin factory cannot be')
    assert "No module named 'pigpio'" in message
    assert "it needs the pigpio module and a running pigpiod daemon" in message
    assert message.endswith(
        'set [sensors] pin_factory = "mock" (or GPIOZERO_PIN_FACTORY=mock) to run without GPIO '
        "hardware"
    )


def test_an_unknown_pin_factory_in_the_environment_gets_a_did_you_mean() -> None:
    with pytest.raises(
        SensorError,
        match=r"GPIOZERO_PIN_FACTORY=mok: no such gpiozero pin "
        r'factory; expected one of .*; did you mean "mock"\?',
    ):
        make_pin_factory(None, {"GPIOZERO_PIN_FACTORY": "mok"})


def test_no_pin_factory_at_all_lists_every_reason() -> None:
    try:
        factory, name = make_pin_factory(None, {})
    except SensorError as exc:
        message = str(exc)
        assert message.startswith("sensors: no GPIO pin factory could be loaded (lgpio: ")
        assert "native: " in message
        assert 'pin_factory = "mock"' in message
    else:  # on a Raspberry Pi one loads
        factory.close()
        pytest.skip(f"the {name} pin factory loads here")


# -- exhibit sensors CONFIG -------------------------------------------------------------------


def test_the_live_view_refreshes_until_stopped(factory: MockFactory) -> None:
    stop = threading.Event()
    out = io.StringIO()
    config = _config(
        SensorConfig("pir", "motion", pin=4),
        SensorConfig("start", "button", pin=17, active_high=False, bounce_s=0.0),
    )
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(
            run_sensors_view(config, out, stop, refresh_s=0.05, pin_factory=factory)
        )
    )
    thread.start()
    try:
        assert wait_until(lambda: "released" in out.getvalue())
        factory.pin(17).drive_low()
        assert wait_until(lambda: "pressed" in out.getvalue())
    finally:
        stop.set()
        thread.join(timeout=5)
    assert result == [0]
    text = out.getvalue()
    assert text.count("sensors on pin factory MockFactory") >= 2
    assert "sensor  type    pins    state" in text


def test_the_live_view_reports_a_missing_pin_factory() -> None:
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    config = _config(SensorConfig("pir", "motion", pin=4), pin_factory="mock")
    code = run_sensors_view(config, out, stop, environ={"GPIOZERO_PIN_FACTORY": "nope"})
    assert code == 2
    assert out.getvalue().startswith("sensors: GPIOZERO_PIN_FACTORY=nope: no such gpiozero pin")
