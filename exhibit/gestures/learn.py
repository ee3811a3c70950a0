"""Teach a gesture by demonstration: recordings in, templates beside the config out.

A designer records themself (``exhibit record``) doing the new gesture a few times, then runs
``exhibit gestures learn NAME REC.jsonl ...``. Each recording, or each time span of one
(``REC.jsonl:2.0-3.5``), is one demonstration; ``--split`` instead cuts a recording into one
demonstration per burst of movement, separated by rests (do the gesture, pause, do it again).

Every demonstration goes through the same path the live exhibit uses: the primary (largest)
skeleton of each frame, the config's One Euro filter, then
:func:`~exhibit.gestures.template_features.skeleton_features`. Still frames before and after the
movement are trimmed (unless ``trim=False``), because a template that starts with two seconds of
standing would match anybody standing. The templates of all gestures live in one file; teaching
a gesture again replaces its examples (or adds to them), and the others are kept.

Why the examples are checked: the recognizer refuses fewer than three consistent examples, and
an example unlike the others, with a message that says how many more it wants. A bad teaching
session then fails at the designer's desk, not in front of a visitor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exhibit.config.schema import Config
from exhibit.errors import ExhibitError
from exhibit.filtering.skeleton_filter import SkeletonFilter
from exhibit.gestures.template_features import (
    FEATURE_SPEC,
    JOINT_SET,
    body_size,
    skeleton_features,
)
from exhibit.gestures.templates import (
    FloatArray,
    TemplateError,
    TemplateRecognizer,
    load_templates,
    save_templates,
)
from exhibit.skeleton import Frame, Skeleton

TEMPLATES_FILE = "taught_gestures.json"
"""Default file name of the templates, in the config's folder."""

# Movement detection for trimming and splitting, in body sizes per second of feature speed.
# Standing still with MediaPipe's jitter after the filter stays under ~0.1; a deliberate arm
# movement is 1 to 5. A frame is moving when its speed is above ACTIVE_FRACTION of the 90th
# percentile of the demonstration's speeds, and at least MIN_ACTIVE_SPEED.
ACTIVE_FRACTION = 0.2
MIN_ACTIVE_SPEED = 0.3
# Kept before and after the movement when trimming, so the template sees the start and end.
MARGIN_S = 0.15
# With --split: a rest at least this long separates two demonstrations; a burst shorter than
# MIN_DEMO_S is a twitch, not a demonstration.
REST_S = 0.5
MIN_DEMO_S = 0.3

_SPAN = re.compile(r"^(?P<start>\d+(?:\.\d*)?)-(?P<end>\d+(?:\.\d*)?)$")


class LearnError(ExhibitError):
    """A demonstration cannot be used: no person in it, an empty span, a bad span syntax."""


@dataclass(frozen=True)
class ExampleSource:
    """``path`` and the time spans (seconds on the recording's clock) to take from it; no span
    means the whole recording."""

    path: Path
    spans_s: tuple[tuple[float, float], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ExampleSource:
        """``REC.jsonl``, ``REC.jsonl:2.0-3.5`` or ``REC.jsonl:2-3.5,6-7.5`` (several spans).

        Example:
            >>> ExampleSource.parse("flap.jsonl:1-2.5,4-5").spans_s
            ((1.0, 2.5), (4.0, 5.0))
        """
        path, sep, tail = text.rpartition(":")
        if not sep or not tail or not all(_SPAN.match(p.strip()) for p in tail.split(",")):
            if sep and tail and re.match(r"^[\d.,\- ]+$", tail):
                raise LearnError(
                    f"{text}: bad time span {tail!r}; expected START-END in seconds, "
                    "e.g. rec.jsonl:2.0-3.5 or rec.jsonl:2-3.5,6-7.5"
                )
            return cls(Path(text))
        spans: list[tuple[float, float]] = []
        for part in tail.split(","):
            m = _SPAN.match(part.strip())
            assert m is not None
            start, end = float(m["start"]), float(m["end"])
            if end <= start:
                raise LearnError(f"{text}: span {part!r} ends before it starts")
            spans.append((start, end))
        return cls(Path(path), tuple(spans))


@dataclass(frozen=True)
class Demonstration:
    """One example: where it came from, its time span and its ``(frames, features)``."""

    source: str
    start_s: float
    end_s: float
    features: FloatArray

    def describe(self) -> str:
        return f"{self.source} {self.start_s:.2f}-{self.end_s:.2f} s ({len(self.features)} frames)"


def primary_skeleton(frame: Frame) -> Skeleton | None:
    """The biggest body in the frame: the one nearest the camera, as the designer would be."""
    if not frame.skeletons:
        return None
    return max(frame.skeletons, key=body_size)


def filtered_track(frames: Iterable[Frame], config: Config) -> list[tuple[float, Skeleton | None]]:
    """``(t_s, filtered primary skeleton or None)`` per frame, as the live pipeline sees it."""
    smoother = SkeletonFilter(config.filter)
    return [(f.t_s, smoother.update(f.t_s, primary_skeleton(f))) for f in frames]


def feature_speed(times_s: FloatArray, features: FloatArray) -> FloatArray:
    """Per-frame speed of the feature vector (body sizes per second); the first frame takes the
    second's, so the array is as long as the input."""
    if len(features) < 2:
        return np.zeros(len(features))
    dt = np.maximum(np.diff(times_s), 1e-6)
    speed = np.linalg.norm(np.diff(features, axis=0), axis=1) / dt
    return np.concatenate([speed[:1], speed])


def active_runs(times_s: FloatArray, speed: FloatArray, rest_s: float) -> list[tuple[int, int]]:
    """Index ranges ``[i, j)`` of movement, merging runs separated by less than ``rest_s``."""
    if len(speed) == 0:
        return []
    level = max(ACTIVE_FRACTION * float(np.percentile(speed, 90)), MIN_ACTIVE_SPEED)
    moving = np.flatnonzero(speed >= level)
    if len(moving) == 0:
        return []
    runs: list[list[int]] = [[int(moving[0]), int(moving[0]) + 1]]
    for i in moving[1:]:
        i = int(i)
        if times_s[i] - times_s[runs[-1][1] - 1] < rest_s:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return [(a, b) for a, b in runs]


def _with_margin(times_s: FloatArray, a: int, b: int) -> tuple[int, int]:
    lo = int(np.searchsorted(times_s, times_s[a] - MARGIN_S, side="left"))
    hi = int(np.searchsorted(times_s, times_s[b - 1] + MARGIN_S, side="right"))
    return lo, hi


def demonstrations(
    track: Sequence[tuple[float, Skeleton | None]],
    source: str,
    spans_s: Sequence[tuple[float, float]] = (),
    *,
    split: bool = False,
    trim: bool = True,
) -> list[Demonstration]:
    """Cut a filtered track into demonstrations (see the module docstring)."""
    windows = list(spans_s) or [(-math.inf, math.inf)]
    out: list[Demonstration] = []
    for start_s, end_s in windows:
        part = [(t, s) for t, s in track if start_s <= t <= end_s]
        seen = [(t, s) for t, s in part if s is not None]
        where = f"{source}" + ("" if math.isinf(start_s) else f" {start_s:g}-{end_s:g} s")
        if len(seen) < 3:
            raise LearnError(
                f"{where}: {len(seen)} frame(s) with a person in {len(part)}; "
                "a demonstration needs the person in view"
            )
        # Bridge short tracking gaps by holding the last skeleton (as sequence_features does).
        first = seen[0][1]
        assert first is not None
        held: list[Skeleton] = []
        last = first
        for _, s in part:
            last = s if s is not None else last
            held.append(last)
        t0 = next(i for i, (_, s) in enumerate(part) if s is not None)
        times = np.array([t for t, _ in part[t0:]])
        feats = np.array([skeleton_features(s) for s in held[t0:]])
        speed = feature_speed(times, feats)
        if split:
            runs = [
                r
                for r in active_runs(times, speed, REST_S)
                if times[r[1] - 1] - times[r[0]] >= MIN_DEMO_S
            ]
            if not runs:
                raise LearnError(f"{where}: no movement found to split into demonstrations")
            ranges = [_with_margin(times, a, b) for a, b in runs]
        elif trim:
            runs = active_runs(times, speed, math.inf)
            ranges = [_with_margin(times, runs[0][0], runs[-1][1])] if runs else [(0, len(feats))]
        else:
            ranges = [(0, len(feats))]
        for a, b in ranges:
            out.append(Demonstration(source, float(times[a]), float(times[b - 1]), feats[a:b]))
    return out


@dataclass(frozen=True)
class LearnResult:
    path: Path
    name: str
    examples: tuple[Demonstration, ...]
    threshold: float
    labels: dict[str, int]
    """Examples per gesture in the file after learning."""


def templates_path(config_path: str | Path, override: str | Path | None = None) -> Path:
    """Where the templates of a config live: ``override``, or ``TEMPLATES_FILE`` beside it."""
    return Path(override) if override else Path(config_path).parent / TEMPLATES_FILE


def learn(
    name: str,
    sources: Sequence[ExampleSource],
    config: Config,
    path: Path,
    *,
    split: bool = False,
    trim: bool = True,
    add: bool = False,
) -> LearnResult:
    """Learn ``name`` from ``sources`` and write the template file at ``path`` atomically.

    The gestures already in the file are kept; ``name``'s examples are replaced (``add``: added
    to). Raises ``LearnError`` for unusable demonstrations and ``TemplateError`` (with
    ``more_needed``) when there are too few or inconsistent examples; the file is then unchanged.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise LearnError(
            f"gesture name {name!r}: use lower case letters, digits and _ (e.g. arms_flap), "
            "as in the config's gesture.NAME events"
        )
    examples: list[Demonstration] = []
    for source in sources:
        with ExitStack() as stack:
            from exhibit.sources.frames import open_frames

            frames = open_frames(
                str(source.path), stack, camera=config.camera, pose=config.pose, report=False
            )
            track = filtered_track(frames, config)
        examples += demonstrations(track, str(source.path), source.spans_s, split=split, trim=trim)

    sequences: list[FloatArray] = []
    labels: list[str] = []
    if path.exists():
        previous = load_templates(path, JOINT_SET, expected_feature_spec=FEATURE_SPEC)
        for label, frames_ in previous.templates:
            if label != name or add:
                sequences.append(frames_)
                labels.append(label)
    sequences += [d.features for d in examples]
    labels += [name] * len(examples)
    try:
        recognizer = TemplateRecognizer().fit(sequences, labels)
    except TemplateError as exc:
        listing = "\n".join(f"  #{i + 1}: {d.describe()}" for i, d in enumerate(examples))
        raise TemplateError(
            f"{exc}\n{name!r} examples found:\n{listing}", more_needed=exc.more_needed
        ) from exc
    save_templates(path, recognizer, joint_set=JOINT_SET, feature_spec=FEATURE_SPEC)
    counts = {label: labels.count(label) for label in recognizer.labels}
    return LearnResult(path, name, tuple(examples), recognizer.thresholds[name], counts)
