"""``exhibit bench``: what the pipeline costs per frame, as a ratio to MediaPipe's inference.

Both figures are measured in the same process on the same machine, so the ratio holds across
machines (a Pi 5 is slower at both). MediaPipe runs in tracking mode on a real photo, as it does
on a camera; "everything else" is the demo exhibit's whole core (filter, presence, gestures,
show, stream) plus OSC encoding of every cue, over the scripted visitor's frames.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from exhibit.config.load import load
from exhibit.config.schema import BUILTIN_GESTURES, GesturesConfig
from exhibit.cues.osc.encode import encode_message
from exhibit.gestures.engine import GestureEngine
from exhibit.gestures.taught import TaughtGestures
from exhibit.gestures.templates import TemplateRecognizer
from exhibit.pipeline import Pipeline
from exhibit.recording.reader import read_recording
from exhibit.skeleton import Frame

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"
TARGET_RATIO = 0.05
TARGET_SPOTTING_RATIO = 0.05
TARGET_BUILTINS_RATIO = 0.01


def _photo(image: str | None) -> tuple[npt.NDArray[np.uint8], str]:
    if image:
        import cv2

        bgr = cv2.imread(image)
        if bgr is None:
            raise SystemExit(f"bench: cannot read image {image}")
        return np.ascontiguousarray(bgr[:, :, ::-1]), Path(image).name
    from skimage import data

    photo: npt.NDArray[np.uint8] = data.astronaut()  # type: ignore[no-untyped-call]
    return photo, "scikit-image astronaut"


def time_inference(image_rgb: npt.NDArray[np.uint8], frames: int) -> list[float]:
    from exhibit.sources.pose import PoseEstimator

    times: list[float] = []
    with PoseEstimator() as estimator:
        estimator.estimate(image_rgb)  # warm-up: model load and first detection
        for _ in range(frames):
            start = time.perf_counter()
            estimator.estimate(image_rgb)
            times.append(time.perf_counter() - start)
    return times


def time_pipeline(frames: list[Frame], config_path: Path, repeats: int) -> list[float]:
    config = load(config_path)
    times: list[float] = []
    for _ in range(repeats):
        core = Pipeline(config)
        for frame in frames:
            start = time.perf_counter()
            for event in core.step(frame):
                if event.cue is not None:
                    encode_message(event.cue.address, event.cue.args)
            times.append(time.perf_counter() - start)
    return times


def synthetic_recognizer(
    gestures: int = 10, templates: int = 5, seed: int = 0
) -> TemplateRecognizer:
    """``gestures`` x ``templates`` distinct, smooth 18-feature movements of 40-60 frames, as a
    designer's taught set would be; only their number and length matter for the timing."""
    rng = np.random.default_rng(seed)
    sequences: list[npt.NDArray[np.float64]] = []
    labels: list[str] = []
    for g in range(gestures):
        length = 40 + 2 * g
        knots = rng.normal(0.0, 1.0, size=(6, 18))
        grid = np.linspace(0.0, 5.0, length)
        base = np.stack([np.interp(grid, np.arange(6), knots[:, j]) for j in range(18)], axis=1)
        for _ in range(templates):
            sequences.append(base + rng.normal(0.0, 0.05, size=base.shape))
            labels.append(f"taught_{g}")
    return TemplateRecognizer().fit(sequences, labels)


def time_spotting(frames: list[Frame], recognizer: TemplateRecognizer) -> list[float]:
    """Per-frame time of spotting every taught gesture in the primary visitor's skeletons."""
    taught = TaughtGestures(recognizer)
    times: list[float] = []
    for frame in frames:
        skeleton = frame.skeletons[0] if frame.skeletons else None
        start = time.perf_counter()
        taught.update(frame.t_s, skeleton)
        times.append(time.perf_counter() - start)
    return times


def all_builtins() -> GesturesConfig:
    """Every built-in gesture switched on, with its defaults (the demo enables only two)."""
    base = GesturesConfig()
    return replace(base, **{n: replace(getattr(base, n), enabled=True) for n in BUILTIN_GESTURES})


def time_builtins(frames: list[Frame], config: GesturesConfig) -> list[float]:
    """Per-frame time of the built-in gestures on frames with a body (the primary visitor's
    skeleton), the engine as the pipeline drives it."""
    engine = GestureEngine(config)
    times: list[float] = []
    for frame in frames:
        if not frame.skeletons:
            continue
        skeleton = frame.skeletons[0]
        start = time.perf_counter()
        engine.update(frame.t_s, skeleton)
        times.append(time.perf_counter() - start)
    return times


def run_bench(frames: int = 200, as_json: bool = False, image: str | None = None) -> int:
    photo, photo_name = _photo(image)
    inference = time_inference(photo, frames)
    recording = list(read_recording(DEMO_DIR / "visitor.jsonl").frames())
    rest = time_pipeline(recording, DEMO_DIR / "exhibit.toml", repeats=3)
    spotting = time_spotting(recording, synthetic_recognizer())
    builtins = time_builtins(recording, all_builtins())
    builtins_ms = statistics.median(builtins) * 1e3
    builtins_ratio = builtins_ms / (statistics.median(inference) * 1e3)
    inference_ms = statistics.median(inference) * 1e3
    rest_ms = statistics.median(rest) * 1e3
    spotting_ms = statistics.median(spotting) * 1e3
    ratio = rest_ms / inference_ms
    spotting_ratio = spotting_ms / inference_ms
    result: dict[str, Any] = {
        "inference_ms_median": round(inference_ms, 3),
        "inference_frames": len(inference),
        "inference_image": f"{photo_name} {photo.shape[1]}x{photo.shape[0]}",
        "pipeline_ms_median": round(rest_ms, 4),
        "pipeline_ms_mean": round(statistics.fmean(rest) * 1e3, 4),
        "pipeline_ms_p99": round(float(np.percentile(rest, 99)) * 1e3, 4),
        "pipeline_frames": len(rest),
        "ratio": round(ratio, 4),
        "target_ratio": TARGET_RATIO,
        "builtins_ms_median": round(builtins_ms, 4),
        "builtins": len(BUILTIN_GESTURES),
        "builtins_ratio": round(builtins_ratio, 4),
        "target_builtins_ratio": TARGET_BUILTINS_RATIO,
        "spotting_ms_median": round(spotting_ms, 4),
        "spotting_templates": "10 gestures x 5 templates",
        "spotting_ratio": round(spotting_ratio, 4),
        "target_spotting_ratio": TARGET_SPOTTING_RATIO,
    }
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"mediapipe inference: {inference_ms:8.3f} ms/frame "
            f"(median of {len(inference)}, {result['inference_image']})"
        )
        print(
            f"everything else:     {rest_ms:8.4f} ms/frame (median of {len(rest)} frames of "
            f"the demo visitor; mean {result['pipeline_ms_mean']}, p99 {result['pipeline_ms_p99']})"
        )
        print(f"ratio: {ratio:.4f}")
        print(f"target: <= {TARGET_RATIO} -> {'met' if ratio <= TARGET_RATIO else 'NOT met'}")
        print(
            f"all {len(BUILTIN_GESTURES)} built-in gestures: {builtins_ms:8.4f} ms/frame "
            f"(median of {len(builtins)} frames with a body)"
        )
        print(f"built-ins ratio: {builtins_ratio:.4f}")
        met = "met" if builtins_ratio <= TARGET_BUILTINS_RATIO else "NOT met"
        print(f"target: <= {TARGET_BUILTINS_RATIO} -> {met}")
        print(
            f"taught-gesture spotting: {spotting_ms:8.4f} ms/frame "
            "(10 gestures x 5 templates, the demo visitor's frames)"
        )
        print(f"spotting ratio: {spotting_ratio:.4f}")
        met = "met" if spotting_ratio <= TARGET_SPOTTING_RATIO else "NOT met"
        print(f"target: <= {TARGET_SPOTTING_RATIO} -> {met}")
    return 0
