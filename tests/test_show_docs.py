"""What the show engine's issue asks of its documentation ("done when"): the README's config
example holds every config key with an example value, and docs/osc.md says what each receiver
profile was tested against."""

from __future__ import annotations

import re
import shutil
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from exhibit.config.checker import Checker
from exhibit.config.load import load
from exhibit.cues.osc.profiles import PROFILES

ROOT = Path(__file__).resolve().parent.parent
SOUNDS = ROOT / "media" / "demo" / "sounds"

# Sections new in this round whose keys their own authors document; every other section's
# keys must all be in the README's example.
NOT_CHECKED = ("zones", "calibration", "analytics", "status", "telemetry")


def readme_config() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```toml\n[exhibit]") + len("```toml\n")
    return text[start : text.index("\n```", start)]


def generic(path: str, named: tuple[str, ...]) -> str:
    """``show.states.attract.transitions[0]`` -> ``show.states.*.transitions.*``."""
    # Gestures share their keys (enabled, hold_s, refractory_s...): one example of each will do.
    path = re.sub(r"^show\.any_state", "show.states.*.transitions", path)
    path = re.sub(r"^gestures\.custom\.[^.]+", "gestures.custom.*", path)
    path = re.sub(r"^gestures\.(?!custom|taught)[^.*]+", "gestures.*", path)
    out: list[str] = []
    for part in re.sub(r"\[(\d+)\]", r".\1", path).split("."):
        out.append("*" if part.isdigit() or ".".join(out) in named else part)
    return ".".join(out)


NAMED = ("show.states", "cues", "targets", "sounds", "outputs", "sensors", "gestures.custom")


def tables(value: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every table of the parsed example with its path (array items by index)."""
    if isinstance(value, Mapping):
        yield path, value
        for key, item in value.items():
            yield from tables(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from tables(item, f"{path}.{i}")


def test_readme_example_has_every_config_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed: dict[str, set[str]] = {}
    original = Checker.unknown_keys

    def record(self: Checker, raw: Any, path: str, keys: Any, *args: Any, **kw: Any) -> Any:
        allowed.setdefault(generic(path, NAMED), set()).update(keys)
        return original(self, raw, path, keys, *args, **kw)

    monkeypatch.setattr(Checker, "unknown_keys", record)
    (tmp_path / "sounds").mkdir()
    shutil.copy(SOUNDS / "ambient.wav", tmp_path / "sounds" / "ambient.wav")
    shutil.copy(SOUNDS / "narration_overview.wav", tmp_path / "sounds" / "narration.wav")
    text = readme_config()
    (tmp_path / "exhibit.toml").write_text(text, encoding="utf-8")
    load(tmp_path / "exhibit.toml")

    shown: dict[str, set[str]] = {}
    for path, table in tables(tomllib.loads(text)):
        shown.setdefault(generic(path, NAMED), set()).update(table)
    missing: dict[str, list[str]] = {}
    for path, keys in allowed.items():
        if path.split(".")[0] in NOT_CHECKED:
            continue
        absent = sorted(keys - shown.get(path, set()) - set(NOT_CHECKED))
        if absent:
            missing[path or "(top level)"] = absent
    assert missing == {}, "\n".join(f"{p}: {', '.join(k)}" for p, k in missing.items())
    for section in ("show", "cues", "targets", "audio", "sounds", "outputs", "stream"):
        assert section in shown[""], f"the README example has no [{section}] table"


def test_osc_note_says_what_each_profile_was_tested_against() -> None:
    text = (ROOT / "docs" / "osc.md").read_text(encoding="utf-8")
    section = text[text.index("### Tested against") :]
    section = section[: section.index("\n## ")]
    rows = {
        line.split("|")[1].strip(" `") for line in section.splitlines() if line.startswith("| `")
    }
    assert set(PROFILES) <= {n.strip(" `") for row in rows for n in row.split(",")}
