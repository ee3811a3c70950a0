"""``exhibit calibrate gestures CONFIG NAME``: record demonstrations of a new gesture and learn it.

On site, the designer or technician stands in front of the exhibit's own camera and does the
new gesture a few times; the tool counts down before each demonstration ("3... 2... 1... go"),
records ``--length-s`` seconds with a progress line, saves each demonstration as a recording
(``DIR/NAME-01.jsonl``...; skeletons only, never images), and hands them to the same learner
``exhibit gestures learn`` uses (:func:`exhibit.gestures.learn.learn`): the same filter,
trimming, consistency checks and template file. The recordings are kept, so a failed teaching
session can be re-learned with ``exhibit gestures learn NAME DIR/NAME-*.jsonl`` after deleting a
bad one. The template file is written atomically by the learner; the previous one is kept as
``FILE.bak`` here first.

The source is the config's camera by default, or ``--source`` a video, an image folder or a
recording: everything runs on the frames' own clock, so a recording gives the same
demonstrations every time (that is how it is tested).

Example:
    >>> plan = CapturePlan(count=2, countdown_s=3.0, length_s=2.0)
    >>> [plan.phase_at(t) for t in (0.5, 3.1, 5.2, 8.0, 10.1)]
    [(0, 'countdown', 2.5), (0, 'record', 1.9), (1, 'countdown', 2.8), (1, 'record', 2.0), (2, 'done', 0.0)]
"""  # noqa: E501

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from exhibit.config.schema import Config
from exhibit.skeleton import Frame

DEFAULT_COUNT = 5
DEFAULT_COUNTDOWN_S = 3.0
DEFAULT_LENGTH_S = 3.0
DEFAULT_FOLDER = "demonstrations"
"""Where the recordings go by default, beside the config."""
BAR_WIDTH = 20

Phase = Literal["countdown", "record", "done"]


@dataclass(frozen=True)
class CapturePlan:
    """``count`` demonstrations, each after a ``countdown_s`` countdown and ``length_s`` long.

    :meth:`phase_at` says where a time (seconds since the first frame) falls: which
    demonstration (0-based), which phase, and the seconds left in that phase.
    """

    count: int = DEFAULT_COUNT
    countdown_s: float = DEFAULT_COUNTDOWN_S
    length_s: float = DEFAULT_LENGTH_S

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if self.countdown_s < 0 or self.length_s <= 0:
            raise ValueError("countdown_s must be >= 0 and length_s > 0")

    def phase_at(self, t_s: float) -> tuple[int, Phase, float]:
        period_s = self.countdown_s + self.length_s
        index = int(t_s // period_s) if t_s >= 0 else 0
        if index >= self.count:
            return self.count, "done", 0.0
        into = t_s - index * period_s
        if into < self.countdown_s:
            return index, "countdown", round(self.countdown_s - into, 6)
        return index, "record", round(period_s - into, 6)


@dataclass(frozen=True)
class Captured:
    """One demonstration: where it was saved, its frames and how many had a person in them."""

    path: Path
    frames: int
    with_person: int
    length_s: float


def progress_bar(done: float, total: float, width: int = BAR_WIDTH) -> str:
    """``[#####---------------]`` for ``done`` of ``total``.

    Example:
        >>> progress_bar(1.0, 4.0, 8)
        '[##------]'
    """
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def capture(
    frames: Iterable[Frame],
    plan: CapturePlan,
    folder: Path,
    name: str,
    *,
    out: TextIO,
    source: str = "",
) -> list[Captured]:
    """Run ``plan`` over ``frames``: countdowns and progress to ``out``, each demonstration
    written to ``folder/NAME-NN.jsonl``. Stops when every demonstration is recorded or the
    frames end (a demonstration cut short by the end is kept if it has any frame)."""
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter

    folder.mkdir(parents=True, exist_ok=True)
    redraw = bool(getattr(out, "isatty", lambda: False)())
    captured: list[Captured] = []
    current: list[Frame] = []
    start_s: float | None = None
    last_index, last_phase, last_shown = -1, "", math.inf

    def finish(index: int) -> None:
        if not current:
            return
        path = folder / f"{name}-{index + 1:02d}.jsonl"
        first = current[0]
        header = RecordingHeader(
            source=f"calibrate gestures {name} #{index + 1} from {source}",
            fps=0.0,
            width_px=first.width_px,
            height_px=first.height_px,
        )
        with RecordingWriter(path, header) as writer:
            for frame in current:
                writer.write(frame)
        seen = sum(1 for f in current if f.skeletons)
        span_s = current[-1].t_s - first.t_s
        length_s = span_s + (span_s / (len(current) - 1) if len(current) > 1 else 0.0)
        captured.append(Captured(path, len(current), seen, length_s))
        share = seen / len(current)
        if redraw:
            out.write("\r" + " " * 70 + "\r")
        out.write(
            f"  recorded #{index + 1}: {length_s:.1f} s, {len(current)} frames, a person in "
            f"{share:.0%} -> {path}\n"
        )
        if share < 0.8:
            out.write("  (the person was often out of view: stand where the camera sees you)\n")
        out.flush()
        current.clear()

    for frame in frames:
        if start_s is None:
            start_s = frame.t_s
        index, phase, left_s = plan.phase_at(frame.t_s - start_s)
        if (index, phase) != (last_index, last_phase):
            if last_phase == "record":
                finish(last_index)
            if phase == "done":
                break
            if phase == "countdown":
                out.write(f"demonstration {index + 1}/{plan.count} of {name!r} in ")
                last_shown = math.inf
            else:
                out.write("go!\n" if plan.countdown_s > 0 else f"#{index + 1}: go!\n")
            out.flush()
            last_index, last_phase = index, phase
        if phase == "countdown":
            whole = math.ceil(left_s - 1e-6)
            if 0 < whole < last_shown:
                out.write(f"{whole}... ")
                out.flush()
                last_shown = whole
        else:
            current.append(frame)
            done_s = plan.length_s - left_s
            if redraw:
                seen = sum(1 for f in current if f.skeletons)
                out.write(
                    f"\r  recording {progress_bar(done_s, plan.length_s)} "
                    f"{done_s:.1f}/{plan.length_s:g} s, person in {seen}/{len(current)} frames"
                )
                out.flush()
    if last_phase == "record":
        finish(last_index)
    if len(captured) < plan.count:
        out.write(f"the source ended after {len(captured)} of {plan.count} demonstration(s)\n")
    return captured


def learn_captured(
    name: str,
    captured: list[Captured],
    config: Config,
    templates: Path,
    *,
    add: bool = False,
) -> object:
    """Hand the recordings to ``exhibit gestures learn``'s learner (which keeps the previous
    template file as ``FILE.bak``). Returns its ``LearnResult``; raises what it raises."""
    from exhibit.gestures.learn import ExampleSource, learn

    sources = [ExampleSource(c.path) for c in captured]
    return learn(name, sources, config, templates, add=add)


def run_gesture_capture(
    config: Config,
    config_path: Path,
    name: str,
    *,
    source: str | None,
    plan: CapturePlan,
    folder: Path | None,
    templates: Path | None,
    add: bool,
    out: TextIO,
    err: TextIO,
    stop_hooks: list[Callable[[], None]] | None = None,
) -> int:
    """The whole command; returns its exit status (0 learned, 1 not learned)."""
    from exhibit.gestures.learn import LearnError
    from exhibit.gestures.templates import TemplateError
    from exhibit.sources.frames import open_frames

    spec = source if source is not None else str(config.camera.device)
    where = folder if folder is not None else config_path.parent / DEFAULT_FOLDER / name
    target = (
        templates if templates is not None else config_path.parent / config.gestures.taught.file
    )
    with ExitStack() as stack:
        frames = open_frames(
            spec,
            stack,
            camera=config.camera,
            pose=config.pose,
            stop_hooks=stop_hooks,
            report=False,
        )
        out.write(
            f"recording {plan.count} demonstration(s) of {name!r} from {spec}: "
            f"{plan.countdown_s:g} s countdown, {plan.length_s:g} s each\n"
        )
        captured = capture(frames, plan, where, name, out=out, source=spec)
    if not captured:
        print(f"error: {spec} gave no frames: nothing recorded", file=err)
        return 1
    try:
        result = learn_captured(name, captured, config, target, add=add)
    except (LearnError, TemplateError) as exc:
        print(f"error: {exc}", file=err)
        more = getattr(exc, "more_needed", {}).get(name)
        if more:
            print(
                f"record {more} more: exhibit calibrate gestures ... {name} --add, or "
                f"exhibit gestures learn {name} {where}/*.jsonl after deleting a bad one",
                file=err,
            )
        return 1
    from exhibit.gestures.learn import LearnResult

    assert isinstance(result, LearnResult)
    for i, demo in enumerate(result.examples, 1):
        out.write(f"  #{i}: {demo.describe()}\n")
    out.write(
        f"{result.path}: learned {name!r} from {len(result.examples)} demonstrations "
        f"(rejection threshold {result.threshold:.3g}); use it in the show as "
        f'on = "gesture.{name}"\n'
    )
    return 0


def cmd_calibrate_gestures(args: argparse.Namespace) -> int:
    """``exhibit calibrate gestures CONFIG NAME``."""
    from exhibit.config.load import load

    config = load(args.config)
    try:
        plan = CapturePlan(args.count, args.countdown_s, args.length_s)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run_gesture_capture(
        config,
        Path(args.config),
        args.name,
        source=args.source,
        plan=plan,
        folder=Path(args.out_dir) if args.out_dir else None,
        templates=Path(args.templates) if args.templates else None,
        add=args.add,
        out=sys.stdout,
        err=sys.stderr,
    )


def add_command(calibrate_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``gestures`` to ``exhibit calibrate``'s subcommands.

    Example:
        >>> parser = argparse.ArgumentParser(prog="exhibit calibrate")
        >>> add_command(parser.add_subparsers(dest="what", required=True))
        >>> args = parser.parse_args(["gestures", "x.toml", "flap", "--count", "4"])
        >>> args.name, args.count, args.source
        ('flap', 4, None)
    """
    p = calibrate_sub.add_parser(
        "gestures",
        help="record demonstrations of a gesture (countdown, progress) and learn it",
        description=(
            "Counts down, records each demonstration from the camera (or --source), saves them "
            "as recordings and learns the gesture from them as 'exhibit gestures learn' does."
        ),
    )
    p.add_argument("config")
    p.add_argument("name", help="the gesture's name: the show's event is gesture.NAME")
    p.add_argument(
        "--source", help="a video, image folder or recording instead of the config's camera"
    )
    p.add_argument("--count", type=int, default=DEFAULT_COUNT, help="demonstrations to record")
    p.add_argument(
        "--countdown-s", type=float, default=DEFAULT_COUNTDOWN_S, help="countdown before each"
    )
    p.add_argument(
        "--length-s", type=float, default=DEFAULT_LENGTH_S, help="seconds of each demonstration"
    )
    p.add_argument(
        "--out-dir",
        help=f"folder for the recordings (default: {DEFAULT_FOLDER}/NAME beside the config)",
    )
    p.add_argument("--templates", help="template file (default: [gestures.taught] file)")
    p.add_argument("--add", action="store_true", help="add to NAME's examples, not replace them")
    p.set_defaults(func=cmd_calibrate_gestures)


__all__ = [
    "CapturePlan",
    "Captured",
    "add_command",
    "capture",
    "cmd_calibrate_gestures",
    "learn_captured",
    "progress_bar",
    "run_gesture_capture",
]
