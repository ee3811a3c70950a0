"""Gesture evaluation on labelled clips of real people: what ``exhibit gestures eval`` does.

A *manifest* (CSV) lists clips, one per row, with the clip's file (a video, an image folder, or
an exhibit ``.jsonl`` recording; relative paths are relative to the manifest's folder), the
subject who performs it and an action label. A mapping *label -> gesture* says which gesture
each clip should fire (``WAVE -> wave`` by default; every label not mapped expects none).

Each clip goes through what the exhibit does with a camera: MediaPipe Pose (``exhibit.sources``:
``open_image_source`` + ``PoseEstimator`` + ``PoseFrameSource``), the config's One Euro filter,
and the gesture engine built with the clip's aspect ratio. Two simplifications, on purpose: the
gestures run on every frame with a body, whatever the presence area and enter delay say (clips
are short and framed on the person, so the presence gate would only cut their first 0.5 s), and
the body is the first skeleton of a frame (MediaPipe finds one; a recording's widest one).

Pose results are cached as exhibit recordings, one per clip, named by a hash of the clip's path,
size, modification time and the pose settings (``~/.cache/exhibit/eval`` unless ``cache_dir``
says otherwise), so a second run after a change of gesture parameters takes seconds.

Scoring is per clip: for gesture ``g``, a clip that expects ``g`` is a true positive when ``g``
fired at least once in it (a false negative otherwise); a clip that does not expect ``g`` is a
false positive when ``g`` fired at all. Precision, recall and F1 are given per subject and for
the train / held-out / all groups of subjects.

Example:
    >>> counts = Counts(tp=9, fp=1, fn=1, tn=29)
    >>> round(counts.precision, 2), round(counts.recall, 2), round(counts.f1, 2)
    (0.9, 0.9, 0.9)
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from exhibit.config.schema import BUILTIN_GESTURES, Config, GesturesConfig, PoseConfig
from exhibit.errors import ExhibitError, SourceError
from exhibit.filtering.skeleton_filter import SkeletonFilter
from exhibit.gestures.engine import GestureEngine
from exhibit.recording.format import RecordingHeader
from exhibit.recording.reader import read_recording
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import Frame, Skeleton

DEFAULT_EXPECT: Mapping[str, str | None] = {"WAVE": "wave"}
RECORDING_SUFFIX = ".jsonl"
GROUP_TRAIN = "train"
GROUP_HELD_OUT = "held-out"
GROUP_ALL = "all"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/exhibit/eval``, else ``~/.cache/exhibit/eval``: outside any repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "exhibit" / "eval"


# -- manifest --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestColumns:
    """Which manifest columns hold the clip's file, its subject and its action label."""

    file: str = "file"
    subject: str = "subject"
    label: str = "action"


@dataclass(frozen=True)
class Clip:
    """One manifest row: ``name`` as written there, ``path`` resolved, and what it expects.

    Example:
        >>> Clip("a.avi", Path("/data/a.avi"), "S001", "WAVE", "wave").expected
        'wave'
    """

    name: str
    path: Path
    subject: str
    label: str
    expected: str | None


def parse_expect(
    items: Iterable[str], base: Mapping[str, str | None] = DEFAULT_EXPECT
) -> dict[str, str | None]:
    """``LABEL=gesture`` items on top of ``base``; ``LABEL=`` means the label expects nothing.

    Example:
        >>> parse_expect(["STRE=hands_up", "WAVE="])
        {'WAVE': None, 'STRE': 'hands_up'}
    """
    expect = dict(base)
    for item in items:
        label, sep, gesture = item.partition("=")
        if not sep or not label.strip():
            raise ValueError(f"expected LABEL=GESTURE (or LABEL= for none), got {item!r}")
        expect[label.strip()] = gesture.strip() or None
    return expect


def read_manifest(
    path: str | Path,
    expect: Mapping[str, str | None] = DEFAULT_EXPECT,
    columns: ManifestColumns = ManifestColumns(),
) -> list[Clip]:
    """The clips a manifest lists; ``SourceError`` if it cannot be read or lacks a column."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            header = list(reader.fieldnames or [])
            missing = [c for c in (columns.file, columns.subject, columns.label) if c not in header]
            if missing:
                raise SourceError(
                    f"{path}: no column {', '.join(repr(m) for m in missing)} "
                    f"(columns: {', '.join(header) or 'none'}); choose others with "
                    f"--file-column / --subject-column / --label-column"
                )
            rows = list(reader)
    except FileNotFoundError as exc:
        raise SourceError(f"{path}: no such manifest") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{path}: cannot be read as a CSV manifest ({exc})") from exc
    clips = []
    for row in rows:
        name = (row.get(columns.file) or "").strip()
        if not name:
            continue
        file_path = Path(name)
        if not file_path.is_absolute():
            file_path = path.parent / file_path
        label = (row.get(columns.label) or "").strip()
        subject = (row.get(columns.subject) or "").strip()
        clips.append(Clip(name, file_path, subject, label, expect.get(label)))
    return clips


# -- pose (cached) ---------------------------------------------------------------------------


def cache_key(path: Path, pose: PoseConfig) -> str:
    """Hash of the clip's resolved path, size, modification time and the pose settings."""
    st = path.stat()
    text = "\0".join(
        str(v)
        for v in (
            path.resolve(),
            st.st_size,
            st.st_mtime_ns,
            pose.model_complexity,
            pose.min_detection_confidence,
            pose.min_tracking_confidence,
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def record_pose(path: Path, pose: PoseConfig, output: Path) -> Path:
    """Run MediaPipe over the video or image folder ``path`` and write its recording to
    ``output`` (through a temporary file, so an interrupted run leaves no half cache)."""
    from exhibit.config.schema import CameraConfig
    from exhibit.sources.images import open_image_source
    from exhibit.sources.pose import PoseEstimator
    from exhibit.sources.pose_source import PoseFrameSource

    if not path.exists():
        raise SourceError(f"{path}: no such file")
    tmp = output.with_name(f"{output.name}.{os.getpid()}.tmp")
    try:
        with (
            open_image_source(str(path), CameraConfig()) as images,
            PoseEstimator(pose) as estimator,
        ):
            header = RecordingHeader(
                images.describe(), images.fps, images.width_px, images.height_px
            )
            with RecordingWriter(tmp, header) as writer:
                for frame in PoseFrameSource(images, estimator):
                    writer.write(frame)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return output


def _record_pose_job(path: str, pose: PoseConfig, output: str) -> str | None:
    """Worker-process wrapper of :func:`record_pose`: None, or the error as one line."""
    try:
        record_pose(Path(path), pose, Path(output))
    except (ExhibitError, OSError, ValueError) as exc:
        return str(exc)
    return None


def recording_for(clip: Clip, pose: PoseConfig, cache_dir: Path) -> tuple[Path, bool]:
    """The recording to read for ``clip`` and whether it has yet to be made: the clip itself
    when it is a recording, else its cache file. ``SourceError`` if the clip is missing."""
    if not clip.path.exists():
        raise SourceError(f"{clip.name}: no such file ({clip.path})")
    if clip.path.suffix == RECORDING_SUFFIX and clip.path.is_file():
        return clip.path, False
    cached = cache_dir / f"{cache_key(clip.path, pose)}{RECORDING_SUFFIX}"
    return cached, not cached.is_file()


# -- gestures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fire:
    """One gesture hit in a clip: ``name``, frame time ``t_s``, ``score`` and ``side``."""

    name: str
    t_s: float
    score: float
    side: str | None = None


def _primary(frame: Frame) -> Skeleton | None:
    if not frame.skeletons:
        return None
    if len(frame.skeletons) == 1:
        return frame.skeletons[0]
    return max(frame.skeletons, key=lambda s: s.shoulder_width())


def detect(frames: Iterable[Frame], config: Config, aspect_ratio: float) -> list[Fire]:
    """The gesture hits the engine gives on ``frames`` as in the live pipeline: built-ins on
    the raw skeleton, rule gestures on the config's filter (the module docstring says what
    differs from the live pipeline: no presence gate)."""
    smoother = SkeletonFilter(config.filter)
    engine = GestureEngine(config.gestures, aspect_ratio)
    fires = []
    for frame in frames:
        raw = _primary(frame)
        smooth = smoother.update(frame.t_s, raw)
        for hit in engine.update(frame.t_s, raw, smooth):
            fires.append(Fire(hit.name, frame.t_s, hit.score, hit.side))
    return fires


@dataclass(frozen=True)
class ClipResult:
    """What one clip gave: its fires, frame counts and duration; or the ``error`` that stopped
    it (then the rest is empty)."""

    clip: Clip
    fires: tuple[Fire, ...] = ()
    frames: int = 0
    frames_with_pose: int = 0
    duration_s: float = 0.0
    error: str | None = None

    def fired(self, gesture: str) -> bool:
        return any(f.name == gesture for f in self.fires)


def evaluate_recording(clip: Clip, recording: Path, config: Config) -> ClipResult:
    """Run the gestures over ``recording`` (the clip's own or its cache)."""
    rec = read_recording(recording)
    frames = list(rec.frames())
    height = rec.header.height_px
    aspect = rec.header.width_px / height if height > 0 else 640 / 480
    fires = detect(frames, config, aspect)
    return ClipResult(
        clip,
        tuple(fires),
        frames=len(frames),
        frames_with_pose=sum(1 for f in frames if f.skeletons),
        duration_s=frames[-1].t_s - frames[0].t_s if frames else 0.0,
    )


Progress = Callable[[str], None]


def evaluate_clips(
    clips: Sequence[Clip],
    config: Config,
    cache_dir: Path,
    *,
    jobs: int = 1,
    progress: Progress | None = None,
) -> list[ClipResult]:
    """Every clip through pose (cached) and gestures. A clip that fails (missing, unreadable)
    gives a result with its ``error``; the others still run. MediaPipe runs in ``jobs``
    processes for clips not yet in the cache."""
    say = progress or (lambda _line: None)
    planned: list[tuple[Clip, Path | None, str | None]] = []
    todo: list[tuple[int, Clip, Path]] = []
    for clip in clips:
        try:
            rec_path, missing = recording_for(clip, config.pose, cache_dir)
        except (SourceError, OSError) as exc:
            planned.append((clip, None, str(exc)))
            continue
        if missing:
            todo.append((len(planned), clip, rec_path))
        planned.append((clip, rec_path, None))
    if todo:
        cache_dir.mkdir(parents=True, exist_ok=True)
        say(f"pose: {len(todo)} clip(s) through MediaPipe, cache {cache_dir}")
        errors = _record_all(todo, config.pose, jobs, say)
        for i, message in errors.items():
            clip = planned[i][0]
            planned[i] = (clip, None, f"{clip.name}: {message}")
    results = []
    for clip, recording, error in planned:
        if recording is None:
            results.append(ClipResult(clip, error=error))
            continue
        try:
            results.append(evaluate_recording(clip, recording, config))
        except (ExhibitError, OSError) as exc:
            results.append(ClipResult(clip, error=f"{clip.name}: {exc}"))
    return results


def _record_all(
    todo: Sequence[tuple[int, Clip, Path]], pose: PoseConfig, jobs: int, say: Progress
) -> dict[int, str]:
    errors: dict[int, str] = {}
    n = len(todo)
    if jobs <= 1 or n == 1:
        for k, (i, clip, out) in enumerate(todo, start=1):
            error = _record_pose_job(str(clip.path), pose, str(out))
            say(f"pose [{k}/{n}] {clip.name}" + (f": {error}" if error else ""))
            if error:
                errors[i] = error
        return errors
    # "spawn": each worker starts its own MediaPipe graph from a clean interpreter.
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [
            (i, clip, pool.submit(_record_pose_job, str(clip.path), pose, str(out)))
            for i, clip, out in todo
        ]
        for k, (i, clip, future) in enumerate(futures, start=1):
            error = future.result()
            say(f"pose [{k}/{n}] {clip.name}" + (f": {error}" if error else ""))
            if error:
                errors[i] = error
    return errors


# -- scoring ---------------------------------------------------------------------------------


@dataclass
class Counts:
    """Clip-level confusion counts for one gesture; the rates are NaN when undefined."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: bool, fired: bool) -> None:
        if expected:
            if fired:
                self.tp += 1
            else:
                self.fn += 1
        elif fired:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else math.nan

    def as_dict(self) -> dict[str, Any]:
        def rate(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 4)

        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": rate(self.precision),
            "recall": rate(self.recall),
            "f1": rate(self.f1),
        }


@dataclass
class Report:
    """Everything the evaluation found, ready to print or dump as JSON."""

    results: list[ClipResult]
    gestures: list[str]
    scored: list[str]
    train_subjects: frozenset[str]
    actions: dict[str, dict[str, int]] = field(default_factory=dict)
    action_clips: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, dict[str, Counts]] = field(default_factory=dict)
    groups: dict[str, dict[str, Counts]] = field(default_factory=dict)
    false_triggers: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def failed(self) -> list[ClipResult]:
        return [r for r in self.results if r.error is not None]

    def group_of(self, subject: str) -> str:
        if not self.train_subjects:
            return GROUP_ALL
        return GROUP_TRAIN if subject in self.train_subjects else GROUP_HELD_OUT


def score(
    results: Sequence[ClipResult], gestures: Sequence[str], train_subjects: Iterable[str] = ()
) -> Report:
    """Per-action fire counts, per-subject and per-group counts for every gesture some clip
    expects, and the false triggers by action. Failed clips are left out of every figure."""
    scored = sorted({r.clip.expected for r in results if r.clip.expected})
    names = sorted(set(gestures) | set(scored))
    report = Report(list(results), names, scored, frozenset(train_subjects))
    groups = [GROUP_TRAIN, GROUP_HELD_OUT, GROUP_ALL] if report.train_subjects else [GROUP_ALL]
    report.groups = {g: {name: Counts() for name in scored} for g in groups}
    for r in results:
        if r.error is not None:
            continue
        clip = r.clip
        report.action_clips[clip.label] = report.action_clips.get(clip.label, 0) + 1
        row = report.actions.setdefault(clip.label, dict.fromkeys(names, 0))
        for name in names:
            fired = r.fired(name)
            row[name] += fired
            if fired and clip.expected != name:
                by_label = report.false_triggers.setdefault(name, {})
                by_label.setdefault(clip.label, []).append(clip.name)
        per_subject = report.subjects.setdefault(clip.subject, {n: Counts() for n in scored})
        for name in scored:
            expected, fired = clip.expected == name, r.fired(name)
            per_subject[name].add(expected, fired)
            report.groups[GROUP_ALL][name].add(expected, fired)
            if report.train_subjects:
                report.groups[report.group_of(clip.subject)][name].add(expected, fired)
    return report


# -- leave subjects out ----------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """One gesture parameter and the values to choose it from: ``wave.min_amplitude=0.05,0.1``.

    Example:
        >>> g = Grid.parse("wave.min_amplitude=0.05,0.1")
        >>> g.gesture, g.key, g.values
        ('wave', 'min_amplitude', (0.05, 0.1))
        >>> Grid.parse("wave.min_swings=3,4").values
        (3, 4)
    """

    gesture: str
    key: str
    values: tuple[float | int, ...]

    @classmethod
    def parse(cls, text: str) -> Grid:
        """``GESTURE.KEY=V1,V2,...``; ``ValueError`` naming what is wrong and what is right."""
        name, sep, values_text = text.partition("=")
        gesture, dot, key = name.strip().partition(".")
        if not sep or not dot:
            raise ValueError(
                f"expected GESTURE.KEY=V1,V2,... (e.g. wave.min_amplitude=0.05,0.1), got {text!r}"
            )
        if gesture not in BUILTIN_GESTURES:
            raise ValueError(
                f"no built-in gesture {gesture!r} (built-ins: {', '.join(BUILTIN_GESTURES)})"
            )
        default = getattr(GesturesConfig(), gesture)
        current = getattr(default, key, None)
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            numeric = ", ".join(
                f.name
                for f in dataclasses.fields(default)
                if isinstance(getattr(default, f.name), (int, float))
                and not isinstance(getattr(default, f.name), bool)
            )
            raise ValueError(f"{gesture}.{key}: not a numeric parameter (numeric: {numeric})")
        kind = int if isinstance(current, int) else float
        try:
            values = tuple(kind(v) for v in values_text.split(",") if v.strip())
        except ValueError as exc:
            raise ValueError(
                f"{gesture}.{key}: values must be {kind.__name__}s, got {values_text!r}"
            ) from exc
        if not values:
            raise ValueError(f"{gesture}.{key}: no values after '='")
        return cls(gesture, key, values)

    def apply(self, config: Config, value: float | int) -> Config:
        """``config`` with this parameter set to ``value``."""
        gesture_config = dataclasses.replace(
            getattr(config.gestures, self.gesture), **{self.key: value}
        )
        gestures = dataclasses.replace(config.gestures, **{self.gesture: gesture_config})
        return dataclasses.replace(config, gestures=gestures)


@dataclass(frozen=True)
class HeldOutSubject:
    """One subject's figures from a value chosen without it: ``chosen`` is the grid value that
    scored best (F1, then precision) on all the other subjects; ``counts`` are this subject's
    clips with that value."""

    subject: str
    chosen: float | int
    counts: Counts


def _counts(results: Iterable[ClipResult], gesture: str) -> Counts:
    counts = Counts()
    for r in results:
        if r.error is None:
            counts.add(r.clip.expected == gesture, r.fired(gesture))
    return counts


def leave_subjects_out(
    runs: Mapping[float | int, Sequence[ClipResult]], gesture: str
) -> list[HeldOutSubject]:
    """Per subject, the parameter value (a key of ``runs``: the clips scored with each value)
    that gives the best F1 on the *other* subjects (ties: higher precision, then the value
    given first), and the subject's own counts with it: figures for each subject from a choice
    that never saw that subject.

    Example:
        >>> c = lambda s, label, fired: ClipResult(
        ...     Clip("x", Path("x"), s, label, "wave" if label == "WAVE" else None),
        ...     (Fire("wave", 1.0, 0.9),) if fired else ())
        >>> runs = {0.1: [c("A", "WAVE", True), c("B", "WAVE", False), c("B", "COUG", False)],
        ...         0.05: [c("A", "WAVE", True), c("B", "WAVE", True), c("B", "COUG", True)]}
        >>> rows = leave_subjects_out(runs, "wave")
        >>> [(h.subject, h.chosen, h.counts.tp, h.counts.fp) for h in rows]
        [('A', 0.05, 1, 0), ('B', 0.1, 0, 0)]
    """
    values = list(runs)
    subjects = sorted({r.clip.subject for rs in runs.values() for r in rs if r.error is None})
    rows = []
    for subject in subjects:

        def merit(value: float | int, subject: str = subject) -> tuple[float, float, int]:
            counts = _counts((r for r in runs[value] if r.clip.subject != subject), gesture)
            f1, precision = counts.f1, counts.precision
            return (
                -1.0 if math.isnan(f1) else f1,
                -1.0 if math.isnan(precision) else precision,
                -values.index(value),
            )

        chosen = max(values, key=merit)
        own = _counts((r for r in runs[chosen] if r.clip.subject == subject), gesture)
        rows.append(HeldOutSubject(subject, chosen, own))
    return rows


def format_leave_subjects_out(rows: Sequence[HeldOutSubject], grid: Grid) -> str:
    """The leave-subjects-out table: per subject the value chosen without it and its counts."""
    name = f"{grid.gesture}.{grid.key}"
    out = [
        f"# {grid.gesture}: leave one subject out, {name} chosen from "
        f"{', '.join(str(v) for v in grid.values)} on the other subjects",
        f"{'subject':<10}{'chosen':>8}{'pos':>5}{'tp':>5}{'fn':>5}{'fp':>5}{'tn':>5}"
        f"{'prec':>7}{'recall':>7}{'f1':>7}",
    ]
    total = Counts()
    for row in rows:
        c = row.counts
        total.tp, total.fp, total.fn, total.tn = (
            total.tp + c.tp,
            total.fp + c.fp,
            total.fn + c.fn,
            total.tn + c.tn,
        )
        out.append(
            f"{row.subject:<10}{row.chosen!s:>8}{c.tp + c.fn:>5}{c.tp:>5}{c.fn:>5}{c.fp:>5}"
            f"{c.tn:>5}  {_rate(c.precision)}  {_rate(c.recall)}  {_rate(c.f1)}"
        )
    c = total
    out.append(
        f"{'[all]':<10}{'':>8}{c.tp + c.fn:>5}{c.tp:>5}{c.fn:>5}{c.fp:>5}{c.tn:>5}"
        f"  {_rate(c.precision)}  {_rate(c.recall)}  {_rate(c.f1)}"
    )
    return "\n".join(out)


# -- output ----------------------------------------------------------------------------------


def _rate(x: float) -> str:
    return "    -" if math.isnan(x) else f"{x:5.3f}"


def _fires_text(fires: Sequence[Fire]) -> str:
    if not fires:
        return "-"
    parts = []
    for f in fires:
        side = f" {f.side}" if f.side else ""
        parts.append(f"{f.name}@{f.t_s:.1f}s{side} ({f.score:.2f})")
    return ", ".join(parts)


def format_report(report: Report, *, clips: bool = True) -> str:
    """The report as text: per clip, per action, per subject and group, false triggers."""
    out: list[str] = []
    if clips:
        out.append("# clips (gestures run on every frame with a body; no presence gate)")
        for r in report.results:
            c = r.clip
            if r.error is not None:
                out.append(f"{c.name}  {c.subject} {c.label}  FAILED: {r.error}")
                continue
            expect = c.expected or "-"
            out.append(
                f"{c.name}  {c.subject} {c.label} expect={expect}  {r.frames} frames "
                f"({r.frames_with_pose} with pose)  fired: {_fires_text(r.fires)}"
            )
        out.append("")
    out.append("# per action: clips, and clips in which each gesture fired")
    names = report.gestures
    columns = [(n, max(10, len(n) + 2)) for n in names]
    out.append(f"{'action':<10}{'clips':>6}" + "".join(f"{n:>{w}}" for n, w in columns))
    for label in sorted(report.actions):
        row = report.actions[label]
        cells = "".join(f"{row[n]:>{w}}" for n, w in columns)
        out.append(f"{label:<10}{report.action_clips[label]:>6}{cells}")
    out.append("")
    for name in report.scored:
        out.append(f"# {name}: clip-level precision / recall / F1 per subject")
        out.append(
            f"{'subject':<10}{'group':<10}{'pos':>5}{'tp':>5}{'fn':>5}{'fp':>5}{'tn':>5}"
            f"{'prec':>7}{'recall':>7}{'f1':>7}"
        )

        def line(label: str, group: str, c: Counts) -> str:
            return (
                f"{label:<10}{group:<10}{c.tp + c.fn:>5}{c.tp:>5}{c.fn:>5}{c.fp:>5}{c.tn:>5}"
                f"  {_rate(c.precision)}  {_rate(c.recall)}  {_rate(c.f1)}"
            )

        order = sorted(report.subjects, key=lambda s: (report.group_of(s) != GROUP_TRAIN, s))
        for subject in order:
            group = report.group_of(subject)
            out.append(line(subject, group, report.subjects[subject][name]))
        for group, counts in report.groups.items():
            out.append(line(f"[{group}]", "", counts[name]))
        out.append("")
    out.append("# false triggers by action (clips where a gesture fired that it does not expect)")
    if not any(report.false_triggers.values()):
        out.append("none")
    for name in names:
        by_label = report.false_triggers.get(name, {})
        for label in sorted(by_label):
            files = by_label[label]
            out.append(f"{name} on {label}: {len(files)} clip(s): {', '.join(files)}")
    failed = report.failed
    if failed:
        out.append("")
        out.append(f"# {len(failed)} clip(s) failed and are left out of every figure")
        out.extend(f"{r.error}" for r in failed)
    return "\n".join(out)


def report_json(report: Report) -> dict[str, Any]:
    """The report as plain JSON-able data (rates are null when undefined)."""
    return {
        "gestures": report.gestures,
        "scored": report.scored,
        "train_subjects": sorted(report.train_subjects),
        "presence_gate": False,
        "clips": [
            {
                "file": r.clip.name,
                "subject": r.clip.subject,
                "label": r.clip.label,
                "expected": r.clip.expected,
                "frames": r.frames,
                "frames_with_pose": r.frames_with_pose,
                "duration_s": round(r.duration_s, 3),
                "fires": [
                    {"name": f.name, "t_s": round(f.t_s, 3), "score": round(f.score, 3)}
                    | ({"side": f.side} if f.side else {})
                    for f in r.fires
                ],
                "error": r.error,
            }
            for r in report.results
        ],
        "actions": {
            label: {"clips": report.action_clips[label], "fired": report.actions[label]}
            for label in sorted(report.actions)
        },
        "subjects": {
            s: {
                "group": report.group_of(s),
                "gestures": {n: c.as_dict() for n, c in report.subjects[s].items()},
            }
            for s in sorted(report.subjects)
        },
        "groups": {
            g: {n: c.as_dict() for n, c in counts.items()} for g, counts in report.groups.items()
        },
        "false_triggers": {
            n: {label: files for label, files in sorted(by_label.items())}
            for n, by_label in sorted(report.false_triggers.items())
        },
        "failed": [{"file": r.clip.name, "error": r.error} for r in report.failed],
    }
