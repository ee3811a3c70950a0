"""Config validation: every error collected, each naming its path, the bad value, the expected
form and, where one is close, the likely fix."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exhibit.cli import main
from exhibit.config.load import load, loads
from exhibit.errors import ConfigError, ConfigSyntaxError

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "media" / "demo" / "exhibit.toml"

MINIMAL = """
[targets]
projector = { url = "udp://127.0.0.1:9000" }

[cues]
hello = { target = "projector", address = "/scene", args = ["hello", 1, 0.5, true] }

[show]
initial = "attract"

[show.states.attract]
on_enter = ["hello"]
transitions = [{ on = "presence.enter", to = "welcome" }]

[show.states.welcome]
transitions = [{ after = "30s", to = "attract" }, { on = "gesture.wave", to = "attract" }]
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        loads(text)
    return info.value.problems


def test_demo_config_is_valid() -> None:
    config = load(DEMO_CONFIG)
    assert config.show.initial == "attract"
    assert set(config.show.states) == {
        "attract",
        "welcome",
        "explain",
        "explain_detail",
        "deep_dive",
        "goodbye",
    }
    assert config.show.states["explain_detail"].level == "detail"
    assert config.warnings == ()


def test_minimal_config_values_and_types() -> None:
    config = loads(MINIMAL)
    cue = config.cues["hello"]
    assert cue.args == ("hello", 1, 0.5, True)
    assert [type(a) for a in cue.args] == [str, int, float, bool]
    welcome = config.show.states["welcome"]
    assert welcome.transitions[0].after_s == 30.0
    assert config.targets["projector"].port == 9000


def test_unknown_key_is_named_with_a_suggestion() -> None:
    text = MINIMAL + "\n[presence]\nenter_afer_s = 1.0\n"
    assert problems(text) == [
        "presence.enter_afer_s: unknown key; expected one of area, enter_after_s, "
        'leave_after_s, min_visibility, zone; did you mean "enter_after_s"?'
    ]


def test_unknown_top_level_section() -> None:
    (msg,) = problems(MINIMAL + "\n[gesture.wave]\nhand = 'left'\n")
    assert msg.startswith("gesture: unknown key; expected one of ")
    assert msg.endswith('did you mean "gestures"?')


def test_typo_in_destination_state_fails_at_load() -> None:
    text = MINIMAL.replace('to = "welcome"', 'to = "welcom"')
    assert problems(text) == [
        'show.states.attract.transitions[0].to: unknown state (got "welcom"); '
        'expected one of "attract", "welcome"; did you mean "welcome"?'
    ]


def test_unknown_event_cue_and_target_all_reported_at_once() -> None:
    text = (
        MINIMAL.replace('on = "gesture.wave"', 'on = "gesture.wav"')
        .replace('on_enter = ["hello"]', 'on_enter = ["helo"]')
        .replace(
            'target = "projector", address = "/scene"', 'target = "projecter", address = "/scene"'
        )
    )
    found = problems(text)
    assert found == [
        'cues.hello.target: unknown target (got "projecter"); expected one of "projector"; '
        'did you mean "projector"?',
        'show.states.attract.on_enter[0]: unknown cue (got "helo"); '
        "expected one of none defined in [cues]",
        'show.states.welcome.transitions[1].on: unknown event (got "gesture.wav"); '
        'expected one of "presence.enter", "presence.leave", "presence.arrive", '
        '"presence.depart", "presence.primary", "engagement.high", '
        '"engagement.low", "sensor.fault", "sensor.ok", "gesture.wave", '
        '"gesture.hands_up"; did you mean "gesture.wave"?',
    ]


def test_wrong_types_and_ranges() -> None:
    text = MINIMAL + (
        '\n[filter]\nbeta = "high"\nmin_cutoff_hz = 0\n'
        "\n[gestures.hands_up]\nhold_s = -1\n"
        '\n[gestures.wave]\nhand = "rigth"\n'
    )
    assert problems(text) == [
        "filter.min_cutoff_hz: out of range (got 0); expected a value > 0",
        'filter.beta: not a number (got "high"); expected a number',
        'gestures.wave.hand: not one of the choices (got "rigth"); '
        'expected one of "left", "right", "either"; did you mean "right"?',
        "gestures.hands_up.hold_s: out of range (got -1); expected a value >= 0",
    ]


def test_bad_target_url_and_address() -> None:
    text = MINIMAL.replace("udp://127.0.0.1:9000", "udp://127.0.0.1:99999").replace(
        'address = "/scene"', 'address = "scene"'
    )
    found = problems(text)
    assert found[0].startswith("targets.projector.url: ")
    assert "port 99999 is out of range" in found[0]
    assert 'expected "udp://host:port" or "tcp://host:port"' in found[0]
    assert 'cues.hello.target: unknown target (got "projector")' in found[1]
    assert found[2] == (
        'cues.hello.address: not an OSC address (got "scene"); '
        'expected an address starting with "/"'
    )


def test_transition_needs_on_or_after_and_duration_is_checked() -> None:
    text = MINIMAL.replace(
        '{ after = "30s", to = "attract" }', '{ after = "soon", to = "attract" }'
    )
    assert problems(text) == [
        'show.states.welcome.transitions[0].after: not a duration (got "soon"); '
        'expected a duration such as 30, "30s", "500ms" or "2min"'
    ]
    text = MINIMAL.replace('{ after = "30s", to = "attract" }', '{ to = "attract" }')
    assert problems(text) == [
        "show.states.welcome.transitions[0]: needs exactly one of on or after; "
        'expected on = "gesture.wave" or after = "30s"'
    ]


@pytest.mark.parametrize(
    ("value", "seconds"), [("500ms", 0.5), ("2min", 120.0), ("1.5s", 1.5), (12, 12.0)]
)
def test_durations(value: object, seconds: float) -> None:
    rendered = f'"{value}"' if isinstance(value, str) else str(value)
    text = MINIMAL.replace('after = "30s"', f"after = {rendered}")
    assert loads(text).show.states["welcome"].transitions[0].after_s == seconds


def test_stream_joint_typo() -> None:
    text = MINIMAL + '\n[stream]\ntarget = "projector"\njoints = ["nose", "left_wirst"]\n'
    assert problems(text) == [
        'stream.joints[1]: unknown joint (got "left_wirst"); expected a MediaPipe landmark name '
        'such as nose, left_wrist, right_hip; did you mean "left_wrist"?'
    ]


def test_missing_show() -> None:
    assert problems("[exhibit]\nname = 'x'\n") == [
        'show: missing; expected a [show] table with initial = "..." and [show.states.NAME] tables'
    ]


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(ConfigSyntaxError, match=r"line 3, column"):
        loads("[show]\ninitial = 'a'\nbroken = = 1\n")


def test_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL)
    assert main(["check", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace('to = "welcome"', 'to = "welcom"'))
    assert main(["check", str(bad)]) == 1
    assert 'did you mean "welcome"?' in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[show\n")
    assert main(["check", str(broken)]) == 2
    assert "line 1, column" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_check_reports_a_target_that_does_not_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(MINIMAL.replace("127.0.0.1", "no-such-host.invalid"))
    assert main(["check", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "targets.projector.url: host 'no-such-host.invalid' does not resolve" in err
    assert main(["check", "--offline", str(cfg)]) == 0


def test_check_as_a_command_line_tool() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "exhibit", "check", "--offline", str(DEMO_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok (6 states" in done.stdout


# --- the built-in gestures' sections ----------------------------------------------------------

ONE_STATE = '[show]\ninitial = "a"\n[show.states.a]\n'


def test_every_builtin_gesture_has_a_section_off_by_default_but_wave_and_hands_up() -> None:
    from exhibit.config.schema import BUILTIN_GESTURES, GesturesConfig

    gestures = loads(ONE_STATE).gestures
    assert gestures == GesturesConfig()
    on = {n for n in BUILTIN_GESTURES if getattr(gestures, n).enabled}
    assert on == {"wave", "hands_up"}
    text = "".join(f"[gestures.{n}]\nenabled = true\n" for n in BUILTIN_GESTURES)
    assert loads(text + ONE_STATE).gestures.enabled_names() == sorted(BUILTIN_GESTURES)


def test_gesture_values_are_read_and_checked() -> None:
    text = """
[gestures.swipe_left]
enabled = true
hand = "right"
min_distance = 1.2
[gestures.crouch]
enabled = true
min_drop = 0.3
hold_s = 1
"""
    g = loads(text + ONE_STATE).gestures
    assert (g.swipe_left.hand, g.swipe_left.min_distance) == ("right", 1.2)
    assert g.swipe_right.enabled is False
    assert (g.crouch.min_drop, g.crouch.hold_s) == (0.3, 1.0)
    bad = """
[gestures.crouch]
min_drop = 1.5
enabled = "yes"
[gestures.retreat]
min_change = 0
[gestures.swipe_right]
hand = "both"
"""
    assert problems(bad + ONE_STATE) == [
        'gestures.swipe_right.hand: not one of the choices (got "both"); '
        'expected one of "left", "right", "either"',
        'gestures.crouch.enabled: not a boolean (got "yes"); expected true or false',
        "gestures.crouch.min_drop: out of range (got 1.5); expected a value > 0 and <= 0.9",
        "gestures.retreat.min_change: out of range (got 0); expected a value > 0 and <= 0.9",
    ]


def test_unknown_gesture_and_gesture_key_suggest_the_right_one() -> None:
    found = problems("[gestures.swipe_lft]\n[gestures.jump]\nmin_rice = 0.3\n" + ONE_STATE)
    assert found[0].startswith("gestures.swipe_lft: unknown key; expected one of approach,")
    assert found[0].endswith('did you mean "swipe_left"?')
    assert found[1] == (
        "gestures.jump.min_rice: unknown key; expected one of enabled, max_duration_s, "
        'min_rise, refractory_s; did you mean "min_rise"?'
    )


def test_a_show_using_a_gesture_that_is_off_says_how_to_turn_it_on() -> None:
    show = ONE_STATE + 'transitions = [{ on = "gesture.lean_left", to = "a" }]\n'
    assert problems(show) == [
        "show.states.a.transitions[0].on: the lean_left gesture is not enabled "
        '(got "gesture.lean_left"); expected [gestures.lean_left] enabled = true, or one of '
        '"presence.enter", "presence.leave", "presence.arrive", "presence.depart", '
        '"presence.primary", "engagement.high", "engagement.low", '
        '"sensor.fault", "sensor.ok", "gesture.wave", "gesture.hands_up"'
    ]
    assert loads("[gestures.lean_left]\nenabled = true\n" + show).show.initial == "a"
    typo = ONE_STATE + 'transitions = [{ on = "gesture.lean_lefft", to = "a" }]\n'
    assert problems(typo)[0].endswith('did you mean "gesture.lean_left"?')
