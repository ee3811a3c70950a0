"""Every parser of outside input survives garbage: it either parses or raises its own clear
error, never anything else (hypothesis; the OSC control packets and the serial frames have
their own fuzz tests in test_control.py and test_bridge_codec.py)."""

from __future__ import annotations

import contextlib
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.load import loads
from exhibit.errors import ConfigError, ConfigSyntaxError
from exhibit.recording.format import decode_frame, decode_header

DEMO = (Path(__file__).resolve().parent.parent / "media" / "demo" / "exhibit.toml").read_text(
    encoding="utf-8"
)
FUZZ = settings(max_examples=150, deadline=None)

toml_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)
SECTIONS = [
    "exhibit", "camera", "pose", "filter", "presence", "gestures", "targets", "cues", "stream",
    "show", "engagement", "sounds", "audio", "outputs", "control", "sensors", "fusion", "bridge",
    "status",
]  # fmt: skip


def _toml(value: Any) -> str:
    """``value`` as a TOML inline value (enough TOML for the fuzzing)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_is_a_config_or_a_clear_error(text: str) -> None:
    with contextlib.suppress(ConfigError, ConfigSyntaxError):
        loads(text)


@settings(max_examples=60, deadline=None)  # each load decodes the demo's sound files
@given(
    section=st.sampled_from(SECTIONS),
    key=st.text(min_size=1, max_size=10),
    value=toml_values,
)
def test_a_random_key_in_the_demo_config_is_accepted_or_named(
    section: str, key: str, value: Any
) -> None:
    text = DEMO + f"\n[fuzz_{section}]\n"  # a section of its own: always reported as unknown
    text = text.replace(f"\n[fuzz_{section}]\n", f"\n[{section}.{json.dumps(key)}]\n")
    text += f"x = {_toml(value)}\n"
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return  # a duplicate table: TOML itself refuses it (ConfigSyntaxError, tested above)
    try:
        loads(text, base_dir=Path(__file__).resolve().parent.parent / "media" / "demo")
    except ConfigError as exc:
        assert all(":" in problem for problem in exc.problems)  # every problem has its path


@FUZZ
@given(line=st.text(max_size=200))
def test_any_frame_line_decodes_or_says_why(line: str) -> None:
    try:
        decode_frame(line, width_px=640, height_px=480)
    except ValueError as exc:
        assert str(exc)


@FUZZ
@given(obj=toml_values)
def test_any_json_frame_or_header_decodes_or_says_why(obj: Any) -> None:
    line = json.dumps(obj)
    for decode in (decode_frame, decode_header):
        try:
            decode(line)
        except ValueError as exc:
            assert str(exc)


# -- regressions found by atheris (tools/fuzz_atheris.py) -----------------------------------


def test_a_file_name_the_file_system_refuses_is_a_clear_error() -> None:
    # `fuzz_atheris.py config`, 2026-11-25, after 68,678 runs: a sound file name longer than the
    # file system allows escaped the loader as OSError (ENAMETOOLONG) from Path.is_file().
    name = "x" * 300 + "/a.wav"
    text = (
        f'[exhibit]\nname = "x"\n[sounds]\na = {{ file = "{name}" }}\n'
        f'[gestures.taught]\nfile = "{name}"\n[show]\ninitial = "a"\n[show.states.a]\n'
    )
    with pytest.raises(ConfigError) as info:
        loads(text)
    assert sorted(p.split(" (got")[0] for p in info.value.problems) == [
        "gestures.taught.file: not a usable file name (File name too long)",
        "sounds.a.file: not a usable file name (File name too long)",
    ]
