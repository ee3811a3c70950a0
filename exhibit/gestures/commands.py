"""The ``exhibit gestures`` commands: ``eval`` (score the detectors on labelled clips),
``learn`` (teach a gesture by demonstration) and ``train-wave`` (fit the learned wave).

``add_gesture_commands(sub)`` adds the ``gestures`` subcommand to the main parser's
subparsers; :func:`main` runs it on its own (``python -m exhibit.gestures.commands eval ...``).

Exit codes follow ``exhibit``'s: 0 success, 1 some clip failed (missing or unreadable; the others
are still scored) or the config is invalid, 2 the manifest or config cannot be read at all.

Example:
    >>> parser = argparse.ArgumentParser(prog="exhibit")
    >>> add_gesture_commands(parser.add_subparsers(dest="command", required=True))
    >>> args = parser.parse_args(["gestures", "eval", "m.csv", "--config", "c.toml"])
    >>> args.manifest, args.expect
    ('m.csv', [])
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from exhibit.errors import ConfigError, ConfigSyntaxError, SourceError

if TYPE_CHECKING:
    from exhibit.config.schema import Config
    from exhibit.gestures.evaluate import Clip
    from exhibit.gestures.wave_train import ClipWindows


def _subjects(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def cmd_eval(args: argparse.Namespace) -> int:
    """``exhibit gestures eval``: score the gesture engine on a manifest of labelled clips."""
    from exhibit.config.load import load
    from exhibit.gestures.engine import GestureEngine
    from exhibit.gestures.evaluate import (
        ManifestColumns,
        default_cache_dir,
        evaluate_clips,
        format_report,
        parse_expect,
        read_manifest,
        report_json,
        score,
    )

    try:
        expect = parse_expect(args.expect)
    except ValueError as exc:
        print(f"error: --expect: {exc}", file=sys.stderr)
        return 2
    try:
        config = load(args.config)
    except ConfigSyntaxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    columns = ManifestColumns(args.file_column, args.subject_column, args.label_column)
    try:
        clips = read_manifest(args.manifest, expect, columns)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    train = [s for text in args.train_subjects for s in _subjects(text)]
    unknown = sorted(set(train) - {c.subject for c in clips})
    if unknown:
        print(
            f"warning: train subject(s) not in the manifest: {', '.join(unknown)}", file=sys.stderr
        )
    cache_dir = Path(args.cache).expanduser() if args.cache else default_cache_dir()

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.loso_learned:
        return _learned_loso(args, config, clips, cache_dir, progress)
    if args.loso:
        return _leave_subjects_out(args, config, clips, cache_dir, progress)
    results = evaluate_clips(clips, config, cache_dir, jobs=args.jobs, progress=progress)
    engine_names = GestureEngine(config.gestures).names()
    report = score(results, engine_names, train)
    for name in report.scored:
        if name not in engine_names:
            print(
                f"warning: {name!r} is expected but not enabled in {args.config}", file=sys.stderr
            )
    if args.json:
        print(json.dumps(report_json(report), indent=1))
    else:
        print(format_report(report, clips=not args.summary))
    return 1 if report.failed else 0


def _leave_subjects_out(
    args: argparse.Namespace,
    config: Config,
    clips: list[Clip],
    cache_dir: Path,
    progress: Callable[[str], None],
) -> int:
    """``eval --loso GESTURE.KEY=V1,V2,...``: score the clips once per value, then give each
    subject the figures of the value that did best on all the other subjects."""
    from exhibit.gestures.evaluate import (
        Grid,
        evaluate_clips,
        format_leave_subjects_out,
        leave_subjects_out,
    )

    try:
        grid = Grid.parse(args.loso)
    except ValueError as exc:
        print(f"error: --loso: {exc}", file=sys.stderr)
        return 2
    if not any(c.expected == grid.gesture for c in clips):
        print(
            f"error: --loso: no clip expects {grid.gesture!r}; map a label to it with "
            f"--expect LABEL={grid.gesture}",
            file=sys.stderr,
        )
        return 2
    runs = {}
    failed = False
    for value in grid.values:
        runs[value] = evaluate_clips(
            clips, grid.apply(config, value), cache_dir, jobs=args.jobs, progress=progress
        )
        failed = failed or any(r.error is not None for r in runs[value])
    rows = leave_subjects_out(runs, grid.gesture)
    if args.json:
        data = {
            "gesture": grid.gesture,
            "parameter": grid.key,
            "values": list(grid.values),
            "subjects": [
                {"subject": r.subject, "chosen": r.chosen} | r.counts.as_dict() for r in rows
            ],
        }
        print(json.dumps(data, indent=1))
    else:
        print(format_leave_subjects_out(rows, grid))
    for value, results in runs.items():
        for r in results:
            if r.error is not None and value == grid.values[0]:
                print(f"failed: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def _wave_windows(
    config: Config,
    clips: list[Clip],
    cache_dir: Path,
    jobs: int,
    progress: Callable[[str], None],
) -> tuple[list[ClipWindows], list[str]]:
    """Every clip's learned-wave windows, and whether the rule wave (the config's own
    parameters) fired on it; the errors of clips that failed (left out)."""
    import dataclasses

    from exhibit.gestures.evaluate import evaluate_clips, recording_for
    from exhibit.gestures.wave_train import clip_windows, frames_of
    from exhibit.recording.reader import read_recording

    wave = dataclasses.replace(config.gestures.wave, enabled=True, model="rules")
    rules = dataclasses.replace(config, gestures=dataclasses.replace(config.gestures, wave=wave))
    results = evaluate_clips(clips, rules, cache_dir, jobs=jobs, progress=progress)
    windows = []
    errors = []
    for r in results:
        if r.error is not None:
            errors.append(r.error)
            continue
        rec = read_recording(recording_for(r.clip, config.pose, cache_dir)[0])
        height = rec.header.height_px
        aspect = rec.header.width_px / height if height > 0 else 640 / 480
        cw = clip_windows(
            r.clip.name,
            r.clip.subject,
            r.clip.label,
            r.clip.expected == "wave",
            frames_of(rec.frames()),
            aspect,
        )
        cw.rules_fired = r.fired("wave")
        windows.append(cw)
    return windows, errors


def _learned_loso(
    args: argparse.Namespace,
    config: Config,
    clips: list[Clip],
    cache_dir: Path,
    progress: Callable[[str], None],
) -> int:
    """``eval --loso-learned``: the learned wave, leave one subject out (train on the others,
    operating point by an inner leave-one-out on them, test on the subject)."""
    from exhibit.gestures.wave_train import format_loso, leave_one_subject_out, synthetic_clips

    if not any(c.expected == "wave" for c in clips):
        print("error: --loso-learned: no clip expects 'wave'", file=sys.stderr)
        return 2
    windows, errors = _wave_windows(config, clips, cache_dir, args.jobs, progress)
    for error in errors:
        print(f"failed: {error}", file=sys.stderr)
    progress(f"learned wave: {len(windows)} clips (+ synthetic), leave one subject out ...")
    rows = leave_one_subject_out(windows + synthetic_clips(args.synthetic_views))
    negatives = sorted({c.label for c in windows if not c.positive})
    if args.json:
        data = [
            {
                "subject": r.subject,
                "mode": r.point.mode,
                "threshold": r.point.threshold,
                "min_windows": r.point.min_windows,
                "inner_f1": r.inner_f1,
                "tp": r.tp,
                "fn": r.fn,
                "fp": r.fp,
                "false_triggers": dict(r.false_by_label),
            }
            for r in rows
        ]
        print(json.dumps({"gesture": "wave", "subjects": data}, indent=1))
    else:
        print(format_loso(rows, negatives))
    return 1 if errors else 0


def cmd_train_wave(args: argparse.Namespace) -> int:
    """``exhibit gestures train-wave MANIFEST --config C --out FILE``: fit the learned wave on
    every clip of the manifest; threshold and run length by leave-one-subject-out."""
    from exhibit.config.load import load
    from exhibit.gestures.evaluate import (
        ManifestColumns,
        default_cache_dir,
        parse_expect,
        read_manifest,
    )
    from exhibit.gestures.wave_train import (
        TrainingNeedsScikitLearn,
        synthetic_clips,
        train_model,
    )

    try:
        expect = parse_expect(args.expect)
        config = load(args.config)
        clips = read_manifest(
            args.manifest,
            expect,
            ManifestColumns(args.file_column, args.subject_column, args.label_column),
        )
    except ValueError as exc:
        print(f"error: --expect: {exc}", file=sys.stderr)
        return 2
    except (ConfigError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cache_dir = Path(args.cache).expanduser() if args.cache else default_cache_dir()

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    windows, errors = _wave_windows(config, clips, cache_dir, args.jobs, progress)
    for error in errors:
        print(f"failed: {error}", file=sys.stderr)
    subjects = {c.subject for c in windows}
    # (the synthetic clips added below are always trained on, never scored)
    if len(subjects) < 3 or not any(c.positive for c in windows):
        print(
            f"error: {args.manifest}: need wave clips and at least 3 subjects to choose the "
            f"threshold by leave-one-subject-out (got {len(subjects)})",
            file=sys.stderr,
        )
        return 2
    modes = ("learned", "both") if args.mode == "auto" else (args.mode,)
    try:
        model, point = train_model(windows + synthetic_clips(args.synthetic_views), modes)
    except TrainingNeedsScikitLearn as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model.save(args.out)
    info = dict(model.info)
    print(
        f"{args.out}: {info['windows']} windows of {info['clips']} clips, {info['subjects']} "
        f"subjects; threshold {point.threshold}, {point.min_windows} consecutive window(s) "
        f"(leave-one-subject-out F1 {info['loso_f1']}); use it with [gestures.wave] "
        f'model = "{point.mode}"'
    )
    return 1 if errors else 0


def cmd_learn(args: argparse.Namespace) -> int:
    """``exhibit gestures learn NAME REC...``: teach a gesture; templates beside the config."""
    from exhibit.config.load import load
    from exhibit.gestures.learn import ExampleSource, LearnError, learn, templates_path
    from exhibit.gestures.templates import TemplateError

    config = load(args.config)
    path = templates_path(args.config, args.templates)
    if not args.templates:  # the file the config names, in the config's folder
        path = Path(args.config).parent / config.gestures.taught.file
    try:
        sources = [ExampleSource.parse(text) for text in args.examples]
        result = learn(
            args.name,
            sources,
            config,
            path,
            split=args.split,
            trim=not args.no_trim,
            add=args.add,
        )
    except (LearnError, TemplateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        more = getattr(exc, "more_needed", {})
        if more.get(args.name):
            print(
                f"record {more[args.name]} more demonstration(s) of {args.name!r} and run "
                "learn again with all of them",
                file=sys.stderr,
            )
        return 1
    for i, demo in enumerate(result.examples, 1):
        print(f"  #{i}: {demo.describe()}")
    gestures = ", ".join(f"{n} ({k})" for n, k in sorted(result.labels.items()))
    print(
        f"{result.path}: learned {result.name!r} from {len(result.examples)} demonstrations "
        f"(rejection threshold {result.threshold:.3g}); the file holds {gestures}. "
        f'Use it in the show as on = "gesture.{result.name}".'
    )
    return 0


def add_gesture_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``gestures`` (with ``eval`` and ``learn``) to the main parser's subcommands."""
    p = sub.add_parser(
        "gestures", help="gesture tools: evaluate on labelled clips, teach by demonstration"
    )
    gsub = p.add_subparsers(dest="gestures_command", required=True)

    lp = gsub.add_parser(
        "learn",
        help="teach a gesture from recordings of it (templates go beside the config)",
        description=(
            "Each recording (or REC.jsonl:START-END span, several as REC.jsonl:1-2.5,4-6) is "
            "one demonstration; --split cuts each recording at rests instead. Give at least 3. "
            "Still frames before and after the movement are trimmed."
        ),
    )
    lp.add_argument("name", help="the gesture's name: the show's event is gesture.NAME")
    lp.add_argument("examples", nargs="+", metavar="REC.jsonl[:START-END]")
    lp.add_argument("--config", required=True, help="the exhibit config (filter settings, folder)")
    lp.add_argument("--templates", help="template file (default: [gestures.taught] file)")
    lp.add_argument("--split", action="store_true", help="one demonstration per burst of movement")
    lp.add_argument("--no-trim", action="store_true", help="keep still frames at both ends")
    lp.add_argument("--add", action="store_true", help="add to NAME's examples, not replace them")
    lp.set_defaults(func=cmd_learn)

    e = gsub.add_parser(
        "eval",
        help="run pose + gestures over a manifest of labelled clips and score them",
        description=(
            "Run every clip of a CSV manifest (videos, image folders or .jsonl recordings) "
            "through MediaPipe Pose (cached), the config's filter and gesture engine, and score "
            "the gestures per clip: per action, per subject and for train / held-out subjects. "
            "Gestures run on every frame with a body (no presence gate)."
        ),
    )
    e.add_argument("manifest", help="CSV with a file, subject and action column per clip")
    e.add_argument("--config", required=True, help="exhibit config (filter, pose, gestures)")
    e.add_argument(
        "--cache",
        help="folder for cached pose recordings (default ~/.cache/exhibit/eval; keep it outside "
        "the repository)",
    )
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.add_argument(
        "--train-subjects",
        action="append",
        default=[],
        metavar="S001,S007,...",
        help="subjects the parameters were tuned on; figures are also given for the others "
        "(held-out) separately",
    )
    e.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="LABEL=GESTURE",
        help="the gesture a label's clips should fire, on top of the default WAVE=wave; "
        "LABEL= means none (every label not mapped expects none)",
    )
    e.add_argument("--file-column", default="file", help="manifest column of the clip's path")
    e.add_argument("--subject-column", default="subject", help="manifest column of the subject")
    e.add_argument("--label-column", default="action", help="manifest column of the action label")
    e.add_argument(
        "--jobs", type=int, default=1, help="MediaPipe processes for clips not yet cached"
    )
    e.add_argument("--summary", action="store_true", help="leave out the per-clip lines")
    e.add_argument(
        "--loso",
        metavar="GESTURE.KEY=V1,V2,...",
        help="leave one subject out: for each subject, choose the parameter's value that "
        "scores best on all the other subjects and report the subject's figures with it",
    )
    e.add_argument(
        "--loso-learned",
        action="store_true",
        help="score the learned wave by leave one subject out: for each subject, a model "
        "trained on the others, its threshold, run and mode chosen on them alone",
    )
    e.add_argument(
        "--synthetic-views",
        type=int,
        default=24,
        metavar="N",
        help="with --loso-learned: views of the synthetic body added to every training set "
        "(7 clips each; default 24)",
    )
    e.set_defaults(func=cmd_eval)

    t = gsub.add_parser(
        "train-wave",
        help="fit the learned wave model on a manifest of labelled clips",
        description=(
            "Fit the learned wave (exhibit/gestures/wave_model.py) on every clip of the "
            "manifest (pose cached as for eval); threshold and run length are chosen by "
            "leave one subject out. Writes a small JSON of parameters, no data."
        ),
    )
    t.add_argument("manifest", help="CSV with a file, subject and action column per clip")
    t.add_argument("--config", required=True, help="exhibit config (pose settings, rule wave)")
    t.add_argument("--out", required=True, help="model file to write (JSON)")
    t.add_argument("--cache", help="folder for cached pose recordings (as for eval)")
    t.add_argument("--expect", action="append", default=[], metavar="LABEL=GESTURE")
    t.add_argument("--file-column", default="file")
    t.add_argument("--subject-column", default="subject")
    t.add_argument("--label-column", default="action")
    t.add_argument("--jobs", type=int, default=1, help="MediaPipe processes for clips not cached")
    t.add_argument(
        "--mode",
        choices=("learned", "both", "auto"),
        default="auto",
        help="the [gestures.wave] model the threshold is chosen for: the learned model alone, "
        "either it or the rules, or (auto, the default) whichever of the two scores better "
        "by leave-one-subject-out (printed: set [gestures.wave] model to it)",
    )
    t.add_argument(
        "--synthetic-views",
        type=int,
        default=24,
        metavar="N",
        help="views of the synthetic body added to the training set (7 clips each; default 24)",
    )
    t.set_defaults(func=cmd_train_wave)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone parser with just the gesture commands (``exhibit gestures ...``)."""
    parser = argparse.ArgumentParser(prog="exhibit")
    add_gesture_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (e.g. ``["gestures", "eval", "manifest.csv", "--config", "x.toml"]``)
    and run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
