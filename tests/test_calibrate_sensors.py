"""``exhibit calibrate sensors``: the walk-through against gpiozero's mock pins, driven from a
thread as a technician would act when prompted, and against the reference firmware behind a
pty (the simulator's distance script, its inputs pressed from the host side)."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockTriggerPin

from calibration.sensors_check import (
    Check,
    add_command,
    judge,
    plan_checks,
    run_sensor_checks,
    summary,
)
from exhibit.config.load import loads
from exhibit.config.schema import Config
from exhibit.sensors.readings import SensorReading
from firmware_bridge.sim import Segment, Simulator, VisitorScript

SHOW = '[show]\ninitial = "idle"\n[show.states.idle]\n'
SPEED_OF_SOUND_M_S = 343.26  # gpiozero's figure


def echo_s(distance_m: float) -> float:
    return 2.0 * distance_m / SPEED_OF_SOUND_M_S


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    pins = MockFactory()
    try:
        yield pins
    finally:
        pins.close()


def config(sensors: str, extra: str = "") -> Config:
    return loads(SHOW + sensors + extra)


def later(delay_s: float, *acts: Callable[[], None]) -> None:
    """Do ``acts`` on a thread after ``delay_s``, each 0.3 s after the previous one (longer
    than gpiozero's sampling of a motion sensor, 10 Hz)."""

    def run() -> None:
        time.sleep(delay_s)
        for act in acts:
            act()
            time.sleep(0.3)

    threading.Thread(target=run, daemon=True).start()


def test_every_kind_of_gpio_sensor_passes_when_the_technician_acts(factory: MockFactory) -> None:
    cfg = config(
        """
[sensors.door]
type = "motion"
pin = 4
[sensors.start]
type = "button"
pin = 17
[sensors.mat]
type = "mat"
pin = 22
[sensors.gate]
type = "light_barrier"
pin = 5
[sensors.range]
type = "distance"
trigger_pin = 23
echo_pin = 24
sample_s = 0.06
"""
    )
    echo = factory.pin(24)
    trigger = factory.pin(23, pin_class=MockTriggerPin, echo_pin=echo, echo_time=echo_s(0.5))
    pin = factory.pin

    def slide_hand() -> None:
        for distance_m in (0.5, 0.8, 1.1, 1.4):
            trigger.echo_time = echo_s(distance_m)
            time.sleep(0.4)

    acts: dict[str, tuple[Callable[[], None], ...]] = {
        "door": (pin(4).drive_high, pin(4).drive_low),
        "start": (pin(17).drive_low, pin(17).drive_high),  # to ground: pull-up, low = pressed
        "mat": (pin(22).drive_low, pin(22).drive_high),
        "gate": (pin(5).drive_low, pin(5).drive_high),
        "range": (slide_hand,),
    }
    prompted: list[str] = []

    def act(check: Check) -> None:
        prompted.append(check.name)
        later(0.2, *acts[check.name])

    out = io.StringIO()
    results = run_sensor_checks(cfg, out=out, timeout_s=6.0, pin_factory=factory, on_prompt=act)
    text = out.getvalue()
    assert prompted == ["door", "start", "mat", "gate", "range"]
    assert "[1/5] wave in front of the PIR 'door' (GPIO4) now (up to 6 s)" in text
    assert "press and release the button 'start' (GPIO17) now" in text
    assert [(r.name, r.passed) for r in results] == [
        ("door", True),
        ("start", True),
        ("mat", True),
        ("gate", True),
        ("range", True),
    ], text
    by_name = {r.name: r for r in results}
    assert by_name["door"].saw.startswith("motion at 0.")
    assert (
        by_name["start"].saw.startswith("pressed at 0.") and "released at" in by_name["start"].saw
    )
    assert by_name["gate"].saw.startswith("broken at")
    low, high = by_name["range"].saw.split()[1].rstrip("m").split("-")
    assert float(low) == pytest.approx(0.5, abs=0.15)
    assert float(high) >= 0.8
    assert all(r.elapsed_s < 5.0 for r in results)  # each stopped waiting once it passed
    assert summary(results) == "5 of 5 sensor check(s) passed"


def test_a_pir_that_never_changes_fails_with_the_pin_and_the_fix(factory: MockFactory) -> None:
    cfg = config('[sensors.door]\ntype = "motion"\npin = 4\n')
    out = io.StringIO()
    results = run_sensor_checks(cfg, out=out, timeout_s=0.4, pin_factory=factory)
    assert len(results) == 1 and not results[0].passed
    assert results[0].saw == "quiet all the time"
    assert re.match(
        r"the PIR on pin 4 never changed in [\d.]+ s: check its wiring", results[0].advice
    ), results[0].advice
    assert "FAIL door (motion, GPIO4): quiet all the time" in out.getvalue()


def test_a_button_stuck_low_says_which_way_round_it_reads() -> None:
    start = Check("start", "button", "GPIO17", "pin 17", active_high=False)
    verdict = judge(start, [], True, 0.0, 20.0)  # read pressed before the prompt, and since
    assert verdict.saw == "pressed all the time"
    assert verdict.advice == (
        "the button on pin 17 never changed in 20 s: check its wiring (GPIO17 and ground); "
        "it read active the whole time: if it is wired the other way round, set "
        "active_high = true"
    )


def test_a_button_pressed_and_never_released_is_called_stuck(factory: MockFactory) -> None:
    cfg = config('[sensors.start]\ntype = "button"\npin = 17\n')
    results = run_sensor_checks(
        cfg,
        out=io.StringIO(),
        timeout_s=0.6,
        pin_factory=factory,
        on_prompt=lambda c: later(0.1, factory.pin(17).drive_low),
    )
    assert not results[0].passed
    assert re.search(
        r"was pressed at [\d.]+ s but never released in [\d.]+ s: is it stuck\?$", results[0].advice
    ), results[0].advice


def test_a_pin_held_by_something_else_fails_at_once(factory: MockFactory) -> None:
    from gpiozero import LED

    other = LED(4, pin_factory=factory)
    try:
        cfg = config('[sensors.door]\ntype = "motion"\npin = 4\n')
        results = run_sensor_checks(cfg, out=io.StringIO(), timeout_s=5.0, pin_factory=factory)
    finally:
        other.close()
    assert not results[0].passed and results[0].elapsed_s < 1.0
    assert results[0].advice.startswith("the PIR on pin 4 cannot be opened: GPIOPinInUse")


def test_distance_judged_from_readings() -> None:
    rng = Check("range", "distance", "GPIO23/24", "pins 23 (trigger) and 24 (echo)")

    def r(*values: float) -> list[SensorReading]:
        return [SensorReading(0.1 * i, "range", "distance", v) for i, v in enumerate(values)]

    assert judge(rng, r(0.42, 0.9, 1.8), None, 0.0, 1.0).saw == "saw 0.42-1.80 m (3 readings)"
    still = judge(rng, r(1.2, 1.21), None, 0.0, 10.0)
    assert not still.passed and "saw only 1.20-1.21 m in 10 s" in still.advice
    far = judge(rng, r(3.0, 3.0), None, 0.0, 10.0)
    assert far.saw == "nothing in range (2 readings, 2 with nothing in range)"
    silent = judge(rng, [SensorReading(1.0, "range", "error", "no echo for 1 s")], None, 0.0, 10.0)
    assert silent.saw == "no readings (no echo for 1 s)"
    errors = [SensorReading(1.0, "range", "error", "no echo for 1 s")]
    assert judge(rng, errors, 1.2, 0.0, 5.0).saw == "no readings (no echo for 1 s)"
    moved = judge(rng, r(1.5), 1.1, 0.0, 1.0)  # the reading before the prompt counts
    assert moved.passed and moved.saw == "saw 1.10-1.50 m (2 readings)"
    assert "trigger and echo wires" in silent.advice


def test_only_and_unknown_names(factory: MockFactory) -> None:
    cfg = config(
        '[sensors.door]\ntype = "motion"\npin = 4\n'
        '[sensors.gate]\ntype = "light_barrier"\npin = 5\n'
    )
    results = run_sensor_checks(
        cfg, out=io.StringIO(), timeout_s=0.1, only=["gate"], pin_factory=factory
    )
    assert [r.name for r in results] == ["gate"]
    with pytest.raises(ValueError, match=r'--only dor: no such sensor; .* did you mean "door"'):
        run_sensor_checks(cfg, out=io.StringIO(), only=["dor"], pin_factory=factory)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_the_bridge_against_the_firmware_simulator(tmp_path: Path) -> None:
    walk = VisitorScript((Segment(0.4, 2000.0, 600.0), Segment(0.4, 600.0, 600.0)), noise_mm=0.0)
    with Simulator(link_path=str(tmp_path / "usb-exhibit-pico-if00"), script=walk) as sim:
        cfg = config("", f'[bridge]\ndevice = "{sim.device_path}"\n')
        assert [c.name for c in plan_checks(cfg)] == [
            "bridge",
            "bridge_input0",
            "bridge_input1",
            "bridge_input2",
        ]

        def act(check: Check) -> None:
            if check.name == "bridge_input1":
                later(0.2, lambda: sim.press(1), lambda: sim.release(1))

        out = io.StringIO()
        results = run_sensor_checks(
            cfg,
            out=out,
            timeout_s=3.0,
            only=["bridge", "bridge_input1", "bridge_input2"],
            on_prompt=act,
        )
    text = out.getvalue()
    assert [(r.name, r.passed) for r in results] == [
        ("bridge", True),
        ("bridge_input1", True),
        ("bridge_input2", False),
    ], text
    low, high = (float(v) for v in results[0].saw.split()[1].rstrip("m").split("-"))
    assert low >= 0.6 and high <= 2.0 and high - low >= 0.3, results[0].saw
    assert results[1].saw.startswith("pressed at") and "released at" in results[1].saw
    assert re.match(r"bridge input 2 never changed in [\d.]+ s", results[2].advice)
    assert "press and release input 1 on the bridge" in text


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="exhibit calibrate")
    add_command(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_json_and_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")  # the bank opens (and closes) its own
    path = tmp_path / "exhibit.toml"
    path.write_text(SHOW + '[sensors.door]\ntype = "motion"\npin = 4\n', encoding="utf-8")
    assert run_cli(["sensors", str(path), "--timeout", "0.2", "--json"]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["results"][0]["name"] == "door" and doc["results"][0]["passed"] is False
    assert "wave in front of the PIR 'door' (GPIO4) now" in captured.err
    assert "0 of 1 sensor check(s) passed; failed: door" in captured.err
    assert run_cli(["sensors", str(path), "--only", "doors"]) == 2
    assert 'did you mean "door"?' in capsys.readouterr().err
    empty = tmp_path / "none.toml"
    empty.write_text(SHOW, encoding="utf-8")
    assert run_cli(["sensors", str(empty)]) == 0
    assert "nothing to check" in capsys.readouterr().out
