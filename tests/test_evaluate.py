"""``exhibit gestures eval`` on clips the project makes itself: recordings of the parametric body
(waves, raised hands, standing still) and a short real video of scikit-image's astronaut; and
the Kinect v1 -> MediaPipe mapping used to check ``hands_up`` on MSRC-12, on a made-up body.

Nothing here reads ../shared/realdata: the per-clip scoring, the per-subject and train/held-out
figures, the JSON, the pose cache and the handling of a missing clip are checked on a manifest
whose right answers are known by construction.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from skimage import data

from exhibit.config.load import loads
from exhibit.errors import SourceError
from exhibit.gestures import evaluate
from exhibit.gestures.commands import add_gesture_commands, main
from exhibit.gestures.evaluate import (
    Clip,
    ClipResult,
    Counts,
    Fire,
    ManifestColumns,
    cache_key,
    default_cache_dir,
    detect,
    evaluate_clips,
    parse_expect,
    read_manifest,
    score,
)
from exhibit.gestures.skeleton_maps import KINECT_V1_JOINTS, KinectCamera, parse_msrc12
from exhibit.recording.format import RecordingHeader
from exhibit.recording.writer import RecordingWriter
from exhibit.skeleton import Frame
from exhibit.synth.script import (
    Segment,
    hands_up_motion,
    idle_motion,
    render,
    sequence,
    wave_motion,
)

CONFIG = '[exhibit]\nname = "eval test"\n[show]\ninitial = "idle"\n[show.states.idle]\n'
FIELDS = ["file", "subject", "gender", "action", "locomotion", "view", "frames", "fps"]


def write_recording(path: Path, frames: list[Frame]) -> None:
    header = RecordingHeader("synth:test", 15.0, frames[0].width_px, frames[0].height_px)
    with RecordingWriter(path, header) as writer:
        for frame in frames:
            writer.write(frame)


def clip(*segments: Segment) -> list[Frame]:
    return render(sequence(*segments), fps=15.0, noise_px=0.3)


WAVE = (idle_motion(0.5), wave_motion(2.5), idle_motion(0.5))
STILL = (idle_motion(3.0),)
HANDS_UP = (idle_motion(0.5), hands_up_motion(1.5), idle_motion(0.5))

# file, subject, action, motion. Known answers for "wave" (WAVE expects it, nothing else does):
# S1 (train): tp (wave), tn (still)          -> P 1, R 1, F1 1
# S2 (held-out): tp, fn (still labelled WAVE), fp (wave labelled COUG), tn (hands up on STRE)
#                                            -> P 0.5, R 0.5, F1 0.5
ROWS: list[tuple[str, str, str, tuple[Segment, ...]]] = [
    ("recs/s1_wave.jsonl", "S1", "WAVE", WAVE),
    ("recs/s1_still.jsonl", "S1", "STRE", STILL),
    ("recs/s2_wave.jsonl", "S2", "WAVE", WAVE),
    ("recs/s2_still.jsonl", "S2", "WAVE", STILL),
    ("recs/s2_cough.jsonl", "S2", "COUG", WAVE),
    ("recs/s2_stretch.jsonl", "S2", "STRE", HANDS_UP),
]
MISSING = "recs/s3_gone.jsonl"


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BIISC-shaped manifest of synthetic recordings, plus one row whose file is missing."""
    root = tmp_path_factory.mktemp("eval")
    rows = []
    for name, subject, action, motion in ROWS:
        frames = clip(*motion)
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_recording(root / name, frames)
        rows.append([name, subject, "M", action, "STD", "FCE", len(frames), 15.0])
    rows.append([MISSING, "S3", "F", "WAVE", "STD", "FCE", 30, 15.0])
    path = root / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(FIELDS)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "exhibit.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def run_eval(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["gestures", "eval", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


# -- the command ---------------------------------------------------------------------------


def test_json_report_scores_each_subject_and_group(
    manifest: Path, config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_eval(
        capsys,
        str(manifest),
        "--config",
        str(config_path),
        "--cache",
        str(tmp_path / "cache"),
        "--train-subjects",
        "S1",
        "--json",
    )
    assert code == 1  # one clip is missing; the rest are still scored
    report: dict[str, Any] = json.loads(out)
    assert report["scored"] == ["wave"]
    assert report["presence_gate"] is False
    assert report["failed"] == [{"file": MISSING, "error": report["failed"][0]["error"]}]
    assert MISSING in report["failed"][0]["error"]
    s1 = report["subjects"]["S1"]
    assert s1["group"] == "train"
    assert s1["gestures"]["wave"] == {
        "tp": 1,
        "fp": 0,
        "fn": 0,
        "tn": 1,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
    }
    s2 = report["subjects"]["S2"]["gestures"]["wave"]
    assert (s2["tp"], s2["fp"], s2["fn"], s2["tn"]) == (1, 1, 1, 1)
    assert s2["precision"] == s2["recall"] == s2["f1"] == 0.5
    assert report["subjects"]["S2"]["group"] == "held-out"
    assert "S3" not in report["subjects"]  # its only clip failed
    groups = report["groups"]
    assert set(groups) == {"train", "held-out", "all"}
    assert groups["all"]["wave"]["tp"] == 2
    assert groups["all"]["wave"]["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1), abs=1e-4)
    # Per action: clips, and clips where each gesture fired.
    assert report["actions"]["WAVE"] == {"clips": 3, "fired": {"hands_up": 0, "wave": 2}}
    assert report["actions"]["STRE"]["fired"]["hands_up"] == 1
    assert report["false_triggers"] == {
        "hands_up": {"STRE": ["recs/s2_stretch.jsonl"]},
        "wave": {"COUG": ["recs/s2_cough.jsonl"]},
    }
    by_file = {c["file"]: c for c in report["clips"]}
    fires = by_file["recs/s1_wave.jsonl"]["fires"]
    assert [(f["name"], f["side"]) for f in fires] == [("wave", "right")]
    assert 0.5 < fires[0]["t_s"] < 3.0
    assert by_file[MISSING]["error"] is not None
    assert "MediaPipe" not in err  # recordings are read as they are, never re-posed


def test_text_report_names_the_missing_clip_and_lists_false_triggers(
    manifest: Path, config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_eval(
        capsys, str(manifest), "--config", str(config_path), "--cache", str(tmp_path)
    )
    assert code == 1
    assert f"{MISSING}  S3 WAVE  FAILED:" in out
    assert "1 clip(s) failed" in out
    assert "no presence gate" in out
    assert "wave on COUG: 1 clip(s): recs/s2_cough.jsonl" in out
    assert "hands_up on STRE: 1 clip(s): recs/s2_stretch.jsonl" in out
    summary = [line for line in out.splitlines() if line.startswith("[all]")]
    assert summary and summary[0].split()[1:5] == ["3", "2", "1", "1"]  # pos tp fn fp


def test_expect_maps_labels_and_an_empty_mapping_expects_nothing(
    manifest: Path, config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(manifest), "--config", str(config_path), "--cache", str(tmp_path), "--json"]
    code, out, _ = run_eval(capsys, *args, "--expect", "STRE=hands_up", "--expect", "WAVE=")
    assert code == 1
    report = json.loads(out)
    assert report["scored"] == ["hands_up"]
    up = report["groups"]["all"]["hands_up"]
    assert (up["tp"], up["fn"], up["fp"]) == (1, 1, 0)  # the still STRE clip is the miss
    assert "wave" in report["false_triggers"]  # now no label expects a wave
    code, _, err = run_eval(capsys, *args, "--expect", "WAVE")
    assert code == 2 and "LABEL=GESTURE" in err


def test_a_manifest_that_cannot_be_read_is_exit_2(
    tmp_path: Path, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_eval(capsys, str(tmp_path / "nope.csv"), "--config", str(config_path))
    assert code == 2 and "nope.csv" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("path,who\nx.avi,S1\n", encoding="utf-8")
    code, _, err = run_eval(capsys, str(bad), "--config", str(config_path))
    assert code == 2 and "'file'" in err and "--file-column" in err
    code, _, err = run_eval(capsys, str(bad), "--config", str(tmp_path / "none.toml"))
    assert code == 2


def test_other_column_names_can_be_chosen(tmp_path: Path, manifest: Path) -> None:
    renamed = tmp_path / "renamed.csv"
    text = manifest.read_text(encoding="utf-8").replace("file,subject,gender,action", "f,s,g,a")
    renamed.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError):
        read_manifest(renamed)
    clips = read_manifest(renamed, columns=ManifestColumns("f", "s", "a"))
    assert len(clips) == len(ROWS) + 1
    # Relative paths are taken from the manifest's folder, not the working directory.
    assert clips[0].path == tmp_path / "recs/s1_wave.jsonl"
    assert [c.expected for c in clips[:2]] == ["wave", None]


def test_the_command_plugs_into_the_main_parser() -> None:
    parser = argparse.ArgumentParser(prog="exhibit")
    sub = parser.add_subparsers(dest="command", required=True)
    add_gesture_commands(sub)
    args = parser.parse_args(
        ["gestures", "eval", "m.csv", "--config", "c.toml", "--train-subjects", "S1,S2"]
    )
    assert args.gestures_command == "eval" and args.train_subjects == ["S1,S2"]
    assert callable(args.func)


# -- the pose cache, on a real video -------------------------------------------------------


@pytest.fixture(scope="module")
def astronaut_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three frames of scikit-image's astronaut photo as an MJPG video."""
    rgb = cast(Callable[[], npt.NDArray[np.uint8]], data.astronaut)()
    bgr = np.ascontiguousarray(rgb[::2, ::2, ::-1])
    path = tmp_path_factory.mktemp("video") / "astronaut.avi"
    height, width = bgr.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (width, height))
    assert writer.isOpened()
    for i in range(3):
        writer.write(np.roll(bgr, 2 * i, axis=1))
    writer.release()
    return path


def test_videos_are_posed_once_then_read_from_the_cache(
    astronaut_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = loads(CONFIG)
    cache = tmp_path / "cache"
    clips = [Clip("astronaut.avi", astronaut_video, "S9", "WAVE", "wave")]
    (first,) = evaluate_clips(clips, config, cache)
    assert first.error is None
    assert first.frames == 3 and first.frames_with_pose == 3
    cached = list(cache.glob("*.jsonl"))
    assert [p.name for p in cached] == [f"{cache_key(astronaut_video, config.pose)}.jsonl"]

    def no_mediapipe(*args: object) -> Path:
        raise AssertionError("MediaPipe ran again although the pose is cached")

    monkeypatch.setattr(evaluate, "record_pose", no_mediapipe)
    (second,) = evaluate_clips(clips, config, cache)
    assert (second.frames, second.frames_with_pose, second.fires) == (3, 3, first.fires)


def test_the_cache_key_follows_the_file_and_the_pose_settings(tmp_path: Path) -> None:
    config = loads(CONFIG)
    path = tmp_path / "clip.avi"
    path.write_bytes(b"12345")
    key = cache_key(path, config.pose)
    assert cache_key(path, config.pose) == key
    path.write_bytes(b"123456")  # another size (and time): another key
    assert cache_key(path, config.pose) != key
    stricter = loads(CONFIG + "[pose]\nmin_detection_confidence = 0.8\n").pose
    assert cache_key(path, stricter) != cache_key(path, config.pose)


def test_the_default_cache_is_in_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == Path.home() / ".cache" / "exhibit" / "eval"
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/someone")
    assert default_cache_dir() == Path("/var/cache/someone/exhibit/eval")
    repository = Path(__file__).resolve().parent.parent
    assert repository not in default_cache_dir().parents


# -- scoring arithmetic --------------------------------------------------------------------


def test_counts_give_precision_recall_and_f1() -> None:
    c = Counts()
    for expected, fired in [(True, True)] * 8 + [(True, False)] * 2 + [(False, True)] * 4:
        c.add(expected, fired)
    c.add(False, False)
    assert (c.tp, c.fn, c.fp, c.tn) == (8, 2, 4, 1)
    assert c.precision == pytest.approx(8 / 12)
    assert c.recall == pytest.approx(0.8)
    assert c.f1 == pytest.approx(2 * 8 / (2 * 8 + 4 + 2))
    empty = Counts(tn=5)
    assert math.isnan(empty.precision) and math.isnan(empty.recall) and math.isnan(empty.f1)
    assert empty.as_dict()["f1"] is None


def test_score_leaves_failed_clips_out_and_counts_any_fire_once() -> None:
    wave = Clip("a", Path("a"), "S1", "WAVE", "wave")
    other = Clip("b", Path("b"), "S1", "CALL", None)
    results = [
        ClipResult(wave, (Fire("wave", 1.0, 0.9, "left"), Fire("wave", 4.0, 0.8, "left"))),
        ClipResult(other, (Fire("hands_up", 2.0, 0.7),)),
        ClipResult(Clip("c", Path("c"), "S2", "WAVE", "wave"), error="c: no such file"),
    ]
    report = score(results, ["hands_up", "wave"])
    assert list(report.groups) == ["all"]
    counts = report.groups["all"]["wave"]
    assert (counts.tp, counts.fn, counts.fp, counts.tn) == (1, 0, 0, 1)
    assert report.actions == {
        "WAVE": {"hands_up": 0, "wave": 1},
        "CALL": {"hands_up": 1, "wave": 0},
    }
    assert report.false_triggers == {"hands_up": {"CALL": ["b"]}}
    assert [r.clip.name for r in report.failed] == ["c"]


def test_leave_subjects_out_chooses_each_subjects_value_without_it(
    manifest: Path, config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 5.0 body sizes never fires (F1 0 everywhere); 0.1 gives S1 F1 1.0 and S2 F1 0.5, so each
    # subject gets 0.1, chosen on the other one, and the same counts as the plain report.
    # (min_amplitude is the rules' parameter: the learned model would fire at 5.0 too.)
    rules = config_path.with_name("rules.toml")
    rules.write_text(CONFIG + '[gestures.wave]\nmodel = "rules"\n', encoding="utf-8")
    args = [str(manifest), "--config", str(rules), "--cache", str(tmp_path)]
    code, out, err = run_eval(capsys, *args, "--loso", "wave.min_amplitude=5,0.1", "--json")
    assert code == 1 and MISSING in err  # the missing clip is named and left out
    data = json.loads(out)
    assert (data["gesture"], data["parameter"], data["values"]) == (
        "wave",
        "min_amplitude",
        [5.0, 0.1],
    )
    rows = {r["subject"]: r for r in data["subjects"]}
    assert sorted(rows) == ["S1", "S2"]
    assert {s: r["chosen"] for s, r in rows.items()} == {"S1": 0.1, "S2": 0.1}
    assert [rows["S2"][k] for k in ("tp", "fn", "fp", "tn")] == [1, 1, 1, 1]
    code, out, _ = run_eval(capsys, *args, "--loso", "wave.min_amplitude=5,0.1")
    assert "leave one subject out" in out
    assert [line.split()[1:6] for line in out.splitlines() if line.startswith("[all]")] == [
        ["3", "2", "1", "1", "2"]
    ]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("wave.nope=1,2", "not a numeric parameter (numeric: min_swings, min_amplitude"),
        ("wave.min_swings=3,x", "values must be ints"),
        ("waves.min_amplitude=0.1", "no built-in gesture 'waves'"),
        ("min_amplitude=0.1", "GESTURE.KEY=V1,V2"),
        ("hands_up.hold_s=0.4,0.5", "--expect LABEL=hands_up"),
    ],
)
def test_a_bad_leave_subjects_out_grid_is_named(
    grid: str,
    message: str,
    manifest: Path,
    config_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [str(manifest), "--config", str(config_path), "--cache", str(tmp_path)]
    code, _, err = run_eval(capsys, *args, "--loso", grid)
    assert code == 2 and message in err, err


def test_parse_expect() -> None:
    assert parse_expect([]) == {"WAVE": "wave"}
    assert parse_expect(["WAVE=", " STRE = hands_up "]) == {"WAVE": None, "STRE": "hands_up"}
    for bad in ("WAVE", "=wave"):
        with pytest.raises(ValueError, match="LABEL=GESTURE"):
            parse_expect([bad])


# -- Kinect v1 (MSRC-12) skeletons as MediaPipe landmarks -----------------------------------


def kinect_line(t_us: int, arms_up: bool) -> str:
    """One MSRC-12 line: a 1.75 m adult 2.5 m from a Kinect v1, facing it, arms down or up."""
    joints = {
        "HipCenter": (0.0, 0.0),
        "Spine": (0.0, 0.1),
        "ShoulderCenter": (0.0, 0.45),
        "Head": (0.0, 0.68),
        "ShoulderLeft": (-0.18, 0.42),
        "ShoulderRight": (0.18, 0.42),
        "HipLeft": (-0.08, -0.05),
        "HipRight": (0.08, -0.05),
        "KneeLeft": (-0.09, -0.5),
        "KneeRight": (0.09, -0.5),
        "AnkleLeft": (-0.09, -0.9),
        "AnkleRight": (0.09, -0.9),
        "FootLeft": (-0.09, -0.95),
        "FootRight": (0.09, -0.95),
    }
    for side, sign in (("Left", -1.0), ("Right", 1.0)):
        if arms_up:  # lifted outstretched: wrists above the head, out to the sides
            arm = {"Elbow": (0.30, 0.65), "Wrist": (0.35, 0.90), "Hand": (0.36, 0.97)}
        else:
            arm = {"Elbow": (0.22, 0.15), "Wrist": (0.24, -0.10), "Hand": (0.24, -0.17)}
        for part, (x, y) in arm.items():
            joints[f"{part}{side}"] = (sign * x, y)
    values = [str(t_us)]
    for name in KINECT_V1_JOINTS:
        x, y = joints[name]
        values += [f"{x:.4f}", f"{y:.4f}", "2.5", "1.0"]
    return " ".join(values)


def test_kinect_skeletons_map_onto_mediapipe_and_hands_up_reads_them() -> None:
    lines = [" ".join(["100"] + ["0"] * 80)]  # nobody tracked yet
    lines += [kinect_line(100 + 33_333 * i, arms_up=15 <= i < 45) for i in range(1, 75)]
    frames = parse_msrc12(lines)
    assert len(frames) == 75 and not frames[0].skeletons
    assert frames[1].t_s == pytest.approx(1 / 30, abs=1e-4)
    assert (frames[1].width_px, frames[1].height_px) == (640, 480)
    s = frames[1].skeletons[0]
    # The visitor's left on the image's right (a camera, not a mirror); the nose under the
    # Kinect head joint; y down; visibility from the Kinect confidence.
    assert s.point("left_shoulder")[0] > 0.5 > s.point("right_shoulder")[0]
    head_y = 0.5 - KinectCamera().focal_px * 0.68 / (2.5 * 480)
    assert s.point("nose")[1] > head_y
    assert s.point("left_ankle")[1] > s.point("left_hip")[1] > s.point("nose")[1]
    assert s.visibility("left_wrist") == 1.0
    config = loads(CONFIG)
    fires = detect(frames, config, 640 / 480)
    assert [f.name for f in fires] == ["hands_up"]
    # Arms up from t = 0.5 s: the hit comes once they have been held hold_s.
    assert 0.5 + config.gestures.hands_up.hold_s - 0.04 <= fires[0].t_s < 1.5
    with pytest.raises(ValueError, match="line 2: 3 fields"):
        parse_msrc12([lines[1], "1 2 3"])


def test_mhad_csv_maps_onto_landmarks_and_resamples() -> None:
    """A Berkeley MHAD position file, written here (no file of ../shared): two samples of a
    still body 10 ms apart, then a sample with every joint 20 cm higher."""
    from exhibit.gestures.skeleton_maps import MHAD_TO_KINECT_V1, parse_mhad

    joints = sorted(set(MHAD_TO_KINECT_V1.values()))
    header = ",".join(["time"] + [f"{j}.{a}" for j in joints for a in "xyz"])
    height_cm = {j: 100.0 + 5.0 * i for i, j in enumerate(joints)}

    def row(t_s: float, lift_cm: float) -> str:
        values = [f"{t_s:.5f}"]
        for j in joints:
            values += [
                f"{(joints.index(j) % 3) * 10.0:.3f}",
                f"{height_cm[j] + lift_cm:.3f}",
                "0.0",
            ]
        return ",".join(values)

    frames = parse_mhad([header, row(0.0, 0.0), row(0.01, 0.0), row(0.1, 20.0)], fps=10.0)
    assert [f.t_s for f in frames] == [0.0, 0.1]  # 10 fps: the 0.01 s sample is skipped
    hips = [f.skeletons[0].point("left_hip")[1] for f in frames]
    assert hips[1] < hips[0]  # 20 cm higher is higher in the image
    with pytest.raises(ValueError, match=r"no column 'Hips\.x'"):
        parse_mhad(["time,Head.x"])


# --- the learned wave: leave one subject out and training -------------------------------------


@pytest.fixture(scope="module")
def three_subjects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("learned")
    rows = []
    for s, subject in enumerate(("A", "B", "C")):
        for label, segments in (("WAVE", WAVE), ("COUG", STILL), ("STRE", HANDS_UP)):
            name = f"{subject}_{label}.jsonl"
            frames = render(sequence(*segments), fps=15.0, noise_px=0.3, seed=s)
            write_recording(folder / name, frames)
            rows.append({"file": name, "subject": subject, "action": label})
    path = folder / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "subject", "action"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_loso_learned_scores_each_subject_with_a_model_that_never_saw_it(
    three_subjects: Path, config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_eval(
        capsys,
        str(three_subjects),
        "--config",
        str(config_path),
        "--loso-learned",
        "--synthetic-views",
        "1",
        "--json",
    )
    assert code == 0
    rows = json.loads(out)["subjects"]
    assert [r["subject"] for r in rows] == ["A", "B", "C"]
    assert all(r["tp"] + r["fn"] == 1 for r in rows)  # one wave clip each
    assert all(r["mode"] in ("learned", "both") for r in rows)
    code, out, _ = run_eval(
        capsys,
        str(three_subjects),
        "--config",
        str(config_path),
        "--loso-learned",
        "--synthetic-views",
        "1",
    )
    assert "false triggers by action: COUG" in out and "STRE" in out
    assert out.splitlines()[-2].startswith("[all]")


def test_train_wave_writes_a_small_model_the_detector_reads(
    three_subjects: Path, config_path: Path, tmp_path: Path
) -> None:
    from exhibit.gestures.wave_model import WaveModel

    out = tmp_path / "wave_model.json"
    args = ["gestures", "train-wave", str(three_subjects), "--config", str(config_path)]
    assert main([*args, "--out", str(out), "--synthetic-views", "1"]) == 0
    assert out.stat().st_size < 50_000
    model = WaveModel.load(out)
    assert dict(model.info)["subjects"] == 3
    assert dict(model.info)["clips"] == 9
