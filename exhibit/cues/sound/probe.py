"""Decode sound files at config load, in a child process with SDL's dummy audio driver.

``pygame.mixer.Sound`` only decodes once the mixer is open, and opening it needs an audio
device (which ``exhibit check`` on a laptop, or on a Pi whose device the running service holds,
may not have) and changes process-wide state (the device, the format every later ``Sound`` is
converted to). So the check runs this module's ``main`` in a child Python with
``SDL_AUDIODRIVER=dummy``: no device, nothing changed in this process, and a decoder that
crashes on a hostile file takes down the child, not the show. It costs one interpreter start
(about 0.3 s on a laptop) per config load.

Example:
    >>> import tempfile, wave
    >>> from pathlib import Path
    >>> tmp = Path(tempfile.mkdtemp())
    >>> with wave.open(str(tmp / "beep.wav"), "wb") as w:
    ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(22050)
    ...     w.writeframes(bytes(2 * 2205))
    >>> probe_files([tmp / "beep.wav"])[tmp / "beep.wav"]
    Probe(ok=True, length_s=0.1, error=None)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import exhibit

TIMEOUT_S = 60.0
"""Longest a probe may take before its files are reported as undecodable."""

SOUND_SUFFIXES = (".wav", ".ogg", ".oga", ".flac", ".mp3", ".opus")
"""File name endings offered as did-you-mean candidates for a missing sound file."""


@dataclass(frozen=True, slots=True)
class Probe:
    """What decoding one file gave: its length in seconds, or why it failed."""

    ok: bool
    length_s: float = 0.0
    error: str | None = None


def sniff(path: Path) -> str | None:
    """The container a file's first bytes announce (``"WAV"``, ``"OGG"``, ``"FLAC"``,
    ``"MP3"``), or ``None`` when they announce none of them."""
    try:
        with open(path, "rb") as file:
            head = file.read(12)
    except OSError:
        return None
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "MP3"
    return None


def probe_files(paths: Sequence[Path], *, timeout_s: float = TIMEOUT_S) -> dict[Path, Probe]:
    """Decode every file in one child process; a child that dies is retried file by file so
    the crash is pinned on the file that caused it."""
    unique = list(dict.fromkeys(paths))
    if not unique:
        return {}
    results = _run_child(unique, timeout_s)
    if results is not None:
        return results
    if len(unique) == 1:
        return {unique[0]: Probe(False, error="the decoder crashed on it")}
    merged: dict[Path, Probe] = {}
    for path in unique:
        single = _run_child([path], timeout_s)
        merged[path] = (
            single[path] if single is not None else Probe(False, error="the decoder crashed on it")
        )
    return merged


_CHILD = "from exhibit.cues.sound.probe import main; raise SystemExit(main())"


def _run_child(paths: list[Path], timeout_s: float) -> dict[Path, Probe] | None:
    """Results for ``paths``, or ``None`` if the child crashed or answered nonsense."""
    env = dict(os.environ)
    env["SDL_AUDIODRIVER"] = "dummy"
    env["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    package_root = str(Path(exhibit.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps([str(p) for p in paths]),
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {p: Probe(False, error=f"decoding took longer than {timeout_s:g} s") for p in paths}
    except OSError as exc:
        return {p: Probe(False, error=f"the decoder could not be started: {exc}") for p in paths}
    if done.returncode != 0:
        return None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    if not isinstance(answer, list) or len(answer) != len(paths):
        return None
    results: dict[Path, Probe] = {}
    for path, item in zip(paths, answer, strict=True):
        if not isinstance(item, dict):
            return None
        if item.get("ok") is True:
            results[path] = Probe(True, length_s=float(item.get("length_s", 0.0)))
        else:
            results[path] = Probe(False, error=str(item.get("error", "unknown error")))
    return results


def _decode_all(paths: list[str]) -> list[dict[str, object]]:
    """The child's work: open the (dummy) mixer and decode each file."""
    import pygame

    try:
        pygame.mixer.init()
    except pygame.error as exc:
        return [{"ok": False, "error": f"the mixer could not be opened: {exc}"} for _ in paths]
    answers: list[dict[str, object]] = []
    for path in paths:
        try:
            length_s = pygame.mixer.Sound(path).get_length()
        except (pygame.error, OSError) as exc:
            answers.append({"ok": False, "error": str(exc) or type(exc).__name__})
        else:
            answers.append({"ok": True, "length_s": round(length_s, 6)})
    pygame.mixer.quit()
    return answers


def main() -> int:
    """Read a JSON list of paths on stdin; print one JSON list of results on stdout."""
    paths = json.loads(sys.stdin.read())
    print(json.dumps(_decode_all([str(p) for p in paths])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
