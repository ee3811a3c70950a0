"""GPIO outputs: config validation, output cues, and the bank on gpiozero's MockFactory.

What we check is what the hardware would see: the mock pins' states (``pin.state``, and the
history ``pin.states`` gpiozero's mock pins keep). Fades, blinks and pulses run on gpiozero's
own background threads, so the tests wait for them with a bounded poll.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gpiozero import LED, Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from exhibit.config.checker import Checker
from exhibit.cues.gpio_out import (
    OutputBank,
    OutputConfig,
    OutputCue,
    OutputSink,
    OutputStats,
    is_output_cue_table,
    parse_output_cue,
    parse_outputs,
)
from exhibit.errors import CueError
from exhibit.events import Cue, cue_event

OUTPUTS = {
    "lamp": OutputConfig("lamp", "led", 17),
    "spot": OutputConfig("spot", "pwm_led", 18, frequency_hz=200),
    "relay": OutputConfig("relay", "relay", 27, active_high=False),
}


def wait_until(condition: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    """Poll ``condition`` every 5 ms until it holds or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    factory = MockFactory(pin_class=MockPWMPin)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def bank(factory: MockFactory) -> Iterator[OutputBank]:
    with OutputBank(OUTPUTS, pin_factory=factory) as bank:
        yield bank


# -- [outputs] ------------------------------------------------------------------------------


def test_outputs_parse_into_configs() -> None:
    c = Checker()
    outputs = parse_outputs(
        {
            "lamp": {"type": "led", "pin": 17},
            "spot": {"type": "pwm_led", "pin": 18, "frequency_hz": 200},
            "relay": {"type": "relay", "pin": 27, "active_high": False},
        },
        "outputs",
        c,
    )
    assert c.problems == []
    assert outputs == OUTPUTS


def test_output_errors_name_the_key_and_the_likely_fix() -> None:
    c = Checker()
    outputs = parse_outputs(
        {
            "a": {"type": "led", "pin": 1},
            "b": {"type": "led", "pin": 28},
            "c": {"type": "led", "pin": "GPIO22"},
            "d": {"type": "led", "pin": True},
            "lamp": {"type": "led", "pin": 17},
            "lamp2": {"type": "led", "pin": 17},
            "e": {"type": "pwmled", "pin": 5},
            "f": {"pin": 6},
            "g": {"type": "relay"},
            "h": {"type": "led", "pin": 12, "frequency_hz": 100},
            "i": {"type": "relay", "pin": 13, "active_low": True},
            "j": {"type": "relay", "pin": 4},  # a sensor has it
            "bad name": {"type": "led", "pin": 16},
            "k": "led",
        },
        "outputs",
        c,
        used_pins={4: "sensors.pir.pin"},
    )
    pins = "expected a BCM pin number from 2 to 27, e.g. 17 for GPIO17"
    assert c.problems == [
        f"outputs.a.pin: not a GPIO pin of the header (got 1); {pins}",
        f"outputs.b.pin: not a GPIO pin of the header (got 28); {pins}",
        f'outputs.c.pin: not a pin number (got "GPIO22"); {pins}; did you mean 22?',
        f"outputs.d.pin: not a pin number (got true); {pins}",
        "outputs.lamp2.pin: pin 17 is already used by outputs.lamp (got 17); expected a pin no "
        "other device uses",
        'outputs.e.type: not one of the choices (got "pwmled"); expected one of "led", '
        '"pwm_led", "relay"; did you mean "pwm_led"?',
        'outputs.f.type: missing; expected one of "led", "pwm_led", "relay"',
        f"outputs.g.pin: missing; {pins}",
        'outputs.h.frequency_hz: only used by "pwm_led" outputs (this one is a "led") (got '
        '100); expected type = "pwm_led", or no frequency_hz',
        "outputs.i.active_low: unknown key; expected one of active_high, frequency_hz, pin, "
        'type; did you mean "active_high"?',
        "outputs.j.pin: pin 4 is already used by sensors.pir.pin (got 4); expected a pin no "
        "other device uses",
        "outputs.bad name: not a usable output name; expected letters, digits, _ and - only",
        'outputs.k: not an output (got "led"); expected a table such as { type = "led", pin = 17 }',
    ]
    assert sorted(outputs) == ["lamp"]


# -- output cues ----------------------------------------------------------------------------


def parse_cue(table: dict[str, Any]) -> tuple[OutputCue | None, list[str]]:
    c = Checker()
    cue = parse_output_cue(table, "cues.x", c, OUTPUTS, name="x")
    return cue, c.problems


def test_output_cues_parse_for_every_action() -> None:
    assert parse_cue({"output": "lamp"}) == (OutputCue("lamp", "on", name="x"), [])
    assert parse_cue({"output": "spot", "action": "fade", "value": 0.8, "duration_s": 1.5}) == (
        OutputCue("spot", "fade", value=0.8, duration_s=1.5, name="x"),
        [],
    )
    assert parse_cue({"output": "relay", "action": "blink", "on_s": 0.2, "n": 3}) == (
        OutputCue("relay", "blink", on_s=0.2, n=3, name="x"),
        [],
    )
    assert parse_cue({"output": "spot", "action": "pulse", "fade_in_s": 2}) == (
        OutputCue("spot", "pulse", fade_in_s=2.0, name="x"),
        [],
    )
    assert parse_cue({"output": "spot", "value": 0.3}) == (
        OutputCue("spot", "on", value=0.3, name="x"),
        [],
    )
    assert is_output_cue_table({"output": "lamp"})
    assert not is_output_cue_table({"sound": "chime"})


def test_output_cue_errors_name_the_key_and_the_likely_fix() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"output": "lmap"},
            'cues.x.output: unknown output (got "lmap"); expected one of "lamp", "relay", '
            '"spot"; did you mean "lamp"?',
        ),
        (
            {"output": "lamp", "action": "fade", "value": 0.5},
            'cues.x.action: "fade" needs a dimmable output (got "fade"); expected a "pwm_led" '
            "output",
        ),
        (
            {"output": "relay", "action": "pulse"},
            'cues.x.action: "pulse" needs a dimmable output (got "pulse"); expected a "pwm_led" '
            "output",
        ),
        (
            {"output": "lamp", "value": 0.5},
            'cues.x.value: a "led" is either on or off (got 0.5); expected no value, or a '
            '"pwm_led" output for brightness',
        ),
        (
            {"output": "spot", "action": "fade"},
            "cues.x.value: missing; expected a brightness 0..1",
        ),
        (
            {"output": "lamp", "action": "blink", "duration_s": 2},
            'cues.x.duration_s: not used by action "blink"; expected one of on_s, off_s, n',
        ),
        (
            {"output": "lamp", "action": "blink", "n": 0},
            "cues.x.n: out of range (got 0); expected a value >= 1 and <= 100000",
        ),
        (
            {"output": "lamp", "action": "blink", "off_s": 0},
            "cues.x.off_s: out of range (got 0); expected a value > 0 and <= 3600",
        ),
        (
            {"output": "lamp", "action": "flash"},
            'cues.x.action: not one of the choices (got "flash"); expected one of "on", "off", '
            '"fade", "blink", "pulse"',
        ),
        (
            {"output": "spot", "action": "fade", "value": 1.2},
            "cues.x.value: out of range (got 1.2); expected a value >= 0 and <= 1",
        ),
        (
            {"output": "lamp", "action": "on", "duration": 1},
            "cues.x.duration: unknown key; expected one of action, duration_s, fade_in_s, "
            'fade_out_s, n, off_s, on_s, output, value; did you mean "duration_s"?',
        ),
    ]
    for table, problem in cases:
        cue, problems = parse_cue(table)
        assert cue is None, table
        assert problems == [problem], table


def test_output_cues_ride_in_an_ordinary_cue_and_back() -> None:
    cues = [
        OutputCue("spot", "on", value=0.5, name="dim"),
        OutputCue("lamp", "off"),
        OutputCue("spot", "fade", value=0.8, duration_s=1.5),
        OutputCue("lamp", "blink", on_s=0.2, off_s=0.3, n=3),
        OutputCue("spot", "pulse", fade_in_s=2.0, fade_out_s=1.0),
    ]
    for cue in cues:
        assert OutputCue.from_cue(cue.to_cue()) == cue
    assert cues[2].to_cue() == Cue("output:spot", "/fade", (0.8, 1.5))
    assert OutputCue.from_cue(Cue("projector", "/scene", ("attract",))) is None
    with pytest.raises(CueError, match="malformed output cue"):
        OutputCue.from_cue(Cue("output:spot", "/fade", (0.8,)))


# -- the bank on MockFactory ----------------------------------------------------------------


def test_on_and_off_drive_the_pins(bank: OutputBank, factory: MockFactory) -> None:
    lamp, spot, relay = factory.pin(17), factory.pin(18), factory.pin(27)
    # all off at start; the relay is active low, so off is high (mock PWM pins hold floats)
    assert (lamp.state, spot.state, relay.state) == (0.0, 0.0, 1.0)
    assert spot.frequency == 200
    assert bank.apply(OutputCue("lamp", "on"))
    assert bank.apply(OutputCue("spot", "on", value=0.3))
    assert bank.apply(OutputCue("relay", "on"))
    assert (lamp.state, spot.state, relay.state) == (1.0, 0.3, 0.0)
    assert bank.value("spot") == 0.3
    for name in OUTPUTS:
        bank.apply(OutputCue(name, "off"))
    assert (lamp.state, spot.state, relay.state) == (0.0, 0.0, 1.0)
    assert bank.stats()["lamp"] == OutputStats(open=True, applied=2)


def test_fade_reaches_its_value_through_rising_steps(
    bank: OutputBank, factory: MockFactory
) -> None:
    spot = factory.pin(18)
    bank.apply(OutputCue("spot", "on", value=0.2))
    spot.clear_states()
    bank.apply(OutputCue("spot", "fade", value=0.8, duration_s=0.2))
    assert wait_until(lambda: spot.state == 0.8)
    values = [s.state for s in spot.states]
    assert values[0] == 0.2
    assert values == sorted(values)  # rising all the way
    assert len(values) > 5  # in steps, not a jump


def test_a_new_cue_cancels_a_fade_in_progress(bank: OutputBank, factory: MockFactory) -> None:
    spot = factory.pin(18)
    bank.apply(OutputCue("spot", "fade", value=1.0, duration_s=5.0))
    assert wait_until(lambda: spot.state > 0.0)
    bank.apply(OutputCue("spot", "off"))
    assert spot.state == 0.0
    time.sleep(0.1)  # long enough for several fade steps, had it gone on
    assert spot.state == 0.0


def test_blink_n_times_then_off(bank: OutputBank, factory: MockFactory) -> None:
    lamp = factory.pin(17)
    lamp.clear_states()
    bank.apply(OutputCue("lamp", "blink", on_s=0.02, off_s=0.02, n=3))
    assert wait_until(lambda: len(lamp.states) >= 7)
    time.sleep(0.06)
    assert [s.state for s in lamp.states] == [False, True, False, True, False, True, False]


def test_pulse_rises_to_full_and_falls_back(bank: OutputBank, factory: MockFactory) -> None:
    spot = factory.pin(18)
    spot.clear_states()
    bank.apply(OutputCue("spot", "pulse", fade_in_s=0.1, fade_out_s=0.1, n=1))
    assert wait_until(lambda: len(spot.states) > 2 and spot.states[-1].state == 0.0)
    values = [s.state for s in spot.states]
    assert max(values) == 1.0
    peak = values.index(1.0)
    assert values[: peak + 1] == sorted(values[: peak + 1])
    assert values[peak:] == sorted(values[peak:], reverse=True)


def test_close_turns_everything_off_even_mid_blink_and_fade() -> None:
    # Plain mock pins keep their last driven state when released (as a real pin's wiring
    # does); mock PWM pins drop to 0 on release, which would hide a relay left on.
    factory = MockFactory()
    try:
        bank = OutputBank({n: OUTPUTS[n] for n in ("lamp", "relay")}, pin_factory=factory)
        bank.apply(OutputCue("lamp", "blink", on_s=0.01, off_s=0.01))
        bank.apply(OutputCue("relay", "on"))
        lamp, relay = factory.pin(17), factory.pin(27)
        assert wait_until(lambda: len(lamp.states) > 4)  # blinking
        assert relay.state is False  # active low: on
        bank.close()
        time.sleep(0.05)  # a blink that went on would show by now
        assert (lamp.state, relay.state) == (False, True)
        assert (lamp.function, relay.function) == ("input", "input")  # released
        assert bank.apply(OutputCue("lamp", "on")) is False
        assert bank.stats()["lamp"].skipped == 1
        assert bank.value("lamp") is None
        bank.close()  # twice is harmless
    finally:
        factory.close()


def test_close_stops_a_fade_and_leaves_the_spot_dark(factory: MockFactory) -> None:
    bank = OutputBank(OUTPUTS, pin_factory=factory)
    bank.apply(OutputCue("spot", "fade", value=1.0, duration_s=5.0))
    spot = factory.pin(18)
    assert wait_until(lambda: spot.state > 0.0)
    bank.close()
    count = len(spot.states)
    time.sleep(0.05)
    assert spot.state == 0.0
    assert len(spot.states) == count  # nothing moved it after close


def test_a_device_that_fails_to_open_is_reported_counted_and_the_rest_work(
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = MockFactory()  # plain MockPin: no PWM, as on a pin factory without it
    try:
        with caplog.at_level(logging.WARNING, logger="exhibit.cues.gpio_out"):
            bank = OutputBank(OUTPUTS, pin_factory=factory)
        assert [r.getMessage() for r in caplog.records] == [
            "output 'spot' (pwm_led on GPIO18) cannot be opened: PinPWMUnsupported; its cues "
            "will be skipped"
        ]
        with bank:
            assert bank.apply(OutputCue("spot", "on", value=0.5)) is False
            assert bank.apply(OutputCue("lamp", "on")) is True
            assert factory.pin(17).state is True
            stats = bank.stats()
            assert stats["spot"].open is False
            assert stats["spot"].skipped == 1
            assert stats["spot"].last_error is not None
            assert bank.value("spot") is None
    finally:
        factory.close()


def test_a_pin_held_by_someone_else_is_reported_not_raised(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    other = LED(17, pin_factory=factory)
    try:
        with caplog.at_level(logging.WARNING, logger="exhibit.cues.gpio_out"):
            bank = OutputBank({"lamp": OUTPUTS["lamp"]}, pin_factory=factory)
        with bank:
            assert "GPIOPinInUse" in caplog.text
            assert bank.apply(OutputCue("lamp", "on")) is False
            assert bank.stats()["lamp"] == OutputStats(
                open=False, skipped=1, last_error=bank.stats()["lamp"].last_error
            )
    finally:
        other.close()


def test_device_errors_during_a_cue_are_counted_and_warned_once(
    bank: OutputBank, factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    spot = factory.pin(18)
    spot.function = "input"  # the pin was taken back from under us
    with caplog.at_level(logging.WARNING, logger="exhibit.cues.gpio_out"):
        assert bank.apply(OutputCue("spot", "on", value=0.5)) is False
        assert bank.apply(OutputCue("spot", "on", value=0.6)) is False
    assert bank.stats()["spot"].failed == 2
    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("output 'spot': on: PinSetInput")


def test_pin_factory_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = Device.pin_factory
    Device.pin_factory = None
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    try:
        with OutputBank({"lamp": OUTPUTS["lamp"]}) as bank:
            assert isinstance(Device.pin_factory, MockFactory)
            assert bank.apply(OutputCue("lamp", "on"))
            assert Device.pin_factory.pin(17).state is True
    finally:
        if Device.pin_factory is not None and Device.pin_factory is not saved:
            Device.pin_factory.close()
        Device.pin_factory = saved


def test_output_sink_drives_output_cues_and_ignores_the_rest(
    factory: MockFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sink = OutputSink(OutputBank(OUTPUTS, pin_factory=factory))
    sink.handle(cue_event(0.0, OutputCue("lamp", "on", name="lamp_on").to_cue()))
    sink.handle(cue_event(0.0, Cue("projector", "/scene", ("attract",))))
    sink.handle(cue_event(0.0, Cue("sound:chime", "/play", (1.0, 0))))
    with caplog.at_level(logging.WARNING, logger="exhibit.cues.gpio_out"):
        sink.handle(cue_event(0.0, Cue("output:lamp", "/explode", ())))
    assert factory.pin(17).state == 1
    assert sink.malformed == 1
    assert "malformed output cue" in caplog.text
    sink.close()
    assert factory.pin(17).state == 0
