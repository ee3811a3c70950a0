"""The CPU that gating saves on a scripted museum day, as a ratio to running pose every frame.

The day is mostly an empty scene with occasional visitors (seeded, so the same every run): a
PIR that goes high when someone walks up and also for passers-by, an ultrasonic distance
sensor that reads ~1 m while a visitor stands at the exhibit and ~2.9 m otherwise (once a
second, as ``SensorBank`` reports it), and a camera that sees the visitor whenever pose runs
while one is there. ``Fusion`` and ``InferenceGate`` run on every frame exactly as in the
exhibit; the schedule they produce is counted.

The cost of a pose frame is MediaPipe's real inference time, measured in this process on
scikit-image's astronaut photo (tracking mode, as on a camera) -- the same measurement as
``exhibit bench`` -- so the ratio holds across machines. The gate's own time per frame is
measured too and charged to the gated schedule:

    ratio = (pose frames x inference + all frames x gate decision) / (all frames x inference)

Not counted on either side: capturing frames (the camera runs in both cases) and the rest of
the pipeline (the same in both).
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, replace
from typing import Any, TextIO

from exhibit.fusion.config import FusionConfig, GatingConfig, IdleMode
from exhibit.fusion.engine import CameraView, Fusion
from exhibit.fusion.gating import InferenceGate
from exhibit.sensors.readings import ACTIVE, DISTANCE, SensorReading

SENSORS = {"pir": "motion", "range": "distance"}
NEAR_M = 1.0
AWAY_M = 2.9
PIR_HOLD_S = 2.0
"""A PIR module keeps its output high this long after the last movement."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One visitor at the exhibit from ``arrive_s`` to ``leave_s``."""

    arrive_s: float
    leave_s: float


@dataclass(frozen=True)
class Day:
    """A scripted day: its length, the visits, and the passers-by the PIR sees (start times)."""

    hours: float
    visits: tuple[Visit, ...]
    passers_s: tuple[float, ...]


def scripted_day(
    hours: float = 8.0,
    visitors_per_hour: float = 8.0,
    passers_per_hour: float = 20.0,
    seed: int = 0,
) -> Day:
    """Visitors arrive at random (Poisson), stay 20 s to 3 min, never overlap; passers-by
    trigger the PIR for a moment without stopping.

    Example:
        >>> day = scripted_day(hours=1.0, seed=1)
        >>> all(v.leave_s > v.arrive_s for v in day.visits)
        True
    """
    rng = random.Random(seed)
    end_s = hours * 3600.0
    visits: list[Visit] = []
    t = rng.expovariate(visitors_per_hour / 3600.0)
    while t < end_s:
        stay_s = rng.uniform(20.0, 180.0)
        leave_s = min(t + stay_s, end_s)
        visits.append(Visit(t, leave_s))
        t = leave_s + 10.0 + rng.expovariate(visitors_per_hour / 3600.0)
    passers: list[float] = []
    t = rng.expovariate(passers_per_hour / 3600.0)
    while t < end_s:
        if not any(v.arrive_s - 5.0 <= t <= v.leave_s + 5.0 for v in visits):
            passers.append(t)
        t += rng.expovariate(passers_per_hour / 3600.0)
    return Day(hours, tuple(visits), tuple(passers))


def _sensor_script(day: Day) -> list[SensorReading]:
    """Every reading the PIR and the distance sensor give over the day, in time order."""
    end_s = day.hours * 3600.0
    readings: list[SensorReading] = [
        SensorReading(0.0, "pir", ACTIVE, False),
        SensorReading(0.0, "range", DISTANCE, AWAY_M),
    ]
    pir_spans = [(v.arrive_s + 0.3, v.leave_s + PIR_HOLD_S) for v in day.visits]
    pir_spans += [(p, p + PIR_HOLD_S + 1.0) for p in day.passers_s]
    for start_s, stop_s in pir_spans:
        readings.append(SensorReading(start_s, "pir", ACTIVE, True))
        readings.append(SensorReading(min(stop_s, end_s), "pir", ACTIVE, False))
    visits = list(day.visits)
    for v in visits:  # the change readings when someone steps up and away
        readings.append(SensorReading(v.arrive_s + 0.5, "range", DISTANCE, NEAR_M))
        readings.append(SensorReading(v.leave_s + 0.5, "range", DISTANCE, AWAY_M))
    i = 0
    for second in range(1, int(end_s)):  # the once-a-second heartbeat
        t = float(second)
        while i < len(visits) and visits[i].leave_s + 0.5 <= t:
            i += 1
        near = i < len(visits) and visits[i].arrive_s + 0.5 <= t
        readings.append(SensorReading(t, "range", DISTANCE, NEAR_M if near else AWAY_M))
    readings.sort(key=lambda r: r.t_s)
    return readings


@dataclass(frozen=True)
class Schedule:
    """What gating did over a day: frames, pose frames, the visits fusion found and how late,
    visits it started with nobody there, frames with a visitor present but no pose, and the
    gate's own time per frame."""

    idle: str
    frames: int
    pose_frames: int
    visits: int
    visits_found: int
    false_visits: int
    latency_mean_s: float
    latency_max_s: float
    visitor_frames_without_pose: int
    gate_ms: float


def simulate(day: Day, fps: float, config: FusionConfig) -> Schedule:
    """Run ``Fusion`` and ``InferenceGate`` over every frame of ``day`` at ``fps``."""
    fusion = Fusion(config, SENSORS)
    gate = InferenceGate.for_fusion(config, SENSORS)
    readings = _sensor_script(day)
    frames = int(day.hours * 3600.0 * fps)
    visits = day.visits
    r = 0
    v = 0
    pose_frames = 0
    without_pose = 0
    gate_s = 0.0
    found: dict[int, float] = {}
    false_visits = 0
    current_enter: float | None = None
    for k in range(frames):
        t = k / fps
        batch: list[SensorReading] = []
        while r < len(readings) and readings[r].t_s <= t:
            batch.append(readings[r])
            r += 1
        while v < len(visits) and visits[v].leave_s <= t:
            v += 1
        present = v < len(visits) and visits[v].arrive_s <= t
        start = time.perf_counter()
        decision = gate.decide(t, batch)
        gate_s += time.perf_counter() - start
        pose_frames += decision.run_pose
        if present and not decision.run_pose:
            without_pose += 1
        view = CameraView(looked=decision.run_pose, seen=present and decision.run_pose)
        update = fusion.update(t, view, batch)
        gate.observe(update)
        if update.present and current_enter is None:
            current_enter = t
            if present and v not in found:
                found[v] = t - visits[v].arrive_s
            elif not present:
                false_visits += 1
        elif not update.present:
            current_enter = None
    latencies = list(found.values())
    return Schedule(
        idle=config.gating.idle if config.gating.enabled else "off",
        frames=frames,
        pose_frames=pose_frames,
        visits=len(visits),
        visits_found=len(found),
        false_visits=false_visits,
        latency_mean_s=statistics.fmean(latencies) if latencies else 0.0,
        latency_max_s=max(latencies) if latencies else 0.0,
        visitor_frames_without_pose=without_pose,
        gate_ms=gate_s / max(frames, 1) * 1e3,
    )


def measure_inference_ms(frames: int = 100) -> tuple[float, str]:
    """MediaPipe's median inference time per frame on the astronaut photo, and its name."""
    from skimage import data

    from exhibit.bench import time_inference

    photo = data.astronaut()  # type: ignore[no-untyped-call]
    times = time_inference(photo, frames)
    return statistics.median(
        times
    ) * 1e3, f"scikit-image astronaut {photo.shape[1]}x{photo.shape[0]}"


def run_gating_bench(
    hours: float = 8.0,
    fps: float = 30.0,
    inference_frames: int = 100,
    seed: int = 0,
    as_json: bool = False,
    out: TextIO | None = None,
    inference_ms: float | None = None,
    config: FusionConfig | None = None,
) -> dict[str, Any]:
    """Measure, print and return the CPU saving of gating, for ``idle = "low"`` and
    ``"pause"``. ``inference_ms`` skips the MediaPipe measurement (tests); ``config`` is the
    ``[fusion]`` section to use (its gating ``idle`` is varied).
    """
    out = out if out is not None else sys.stdout
    base = config if config is not None else FusionConfig()
    if inference_ms is None:
        inference_ms, image = measure_inference_ms(inference_frames)
    else:
        image = "given"
    day = scripted_day(hours, seed=seed)
    results: dict[str, Any] = {
        "hours": hours,
        "fps": fps,
        "visits": len(day.visits),
        "visit_s_mean": round(statistics.fmean(v.leave_s - v.arrive_s for v in day.visits), 1)
        if day.visits
        else 0.0,
        "passers_by": len(day.passers_s),
        "inference_ms_median": round(inference_ms, 3),
        "inference_image": image,
        "modes": {},
    }
    idle_modes: tuple[IdleMode, ...] = ("low", "pause")
    for idle in idle_modes:
        gating: GatingConfig = replace(base.gating, enabled=True, idle=idle)
        schedule = simulate(day, fps, replace(base, gating=gating))
        ungated_ms = schedule.frames * inference_ms
        gated_ms = schedule.pose_frames * inference_ms + schedule.frames * schedule.gate_ms
        ratio = gated_ms / ungated_ms
        results["modes"][idle] = {
            "pose_frames": schedule.pose_frames,
            "frames": schedule.frames,
            "pose_fraction": round(schedule.pose_frames / schedule.frames, 4),
            "gate_ms": round(schedule.gate_ms, 5),
            "cpu_ratio": round(ratio, 4),
            "cpu_saved": round(1.0 - ratio, 4),
            "visits_found": schedule.visits_found,
            "false_visits": schedule.false_visits,
            "latency_mean_s": round(schedule.latency_mean_s, 3),
            "latency_max_s": round(schedule.latency_max_s, 3),
            "visitor_frames_without_pose": schedule.visitor_frames_without_pose,
            "settings": _describe(gating),
        }
    if as_json:
        out.write(json.dumps(results, indent=2) + "\n")
        return results
    out.write(
        f"scripted day: {hours:g} h at {fps:g} fps ({int(hours * 3600 * fps)} frames), "
        f"{results['visits']} visits (mean {results['visit_s_mean']} s), "
        f"{results['passers_by']} passers-by on the PIR\n"
    )
    out.write(f"mediapipe inference: {inference_ms:.3f} ms/frame (median, {image})\n")
    for idle, m in results["modes"].items():
        out.write(
            f"idle = {idle!r} ({m['settings']}): pose on {m['pose_fraction']:.1%} of frames, "
            f"gate {m['gate_ms']:.4f} ms/frame; visits found {m['visits_found']}/"
            f"{results['visits']} (false {m['false_visits']}), "
            f"latency mean {m['latency_mean_s']:.2f} s, max "
            f"{m['latency_max_s']:.2f} s; visitor frames without pose "
            f"{m['visitor_frames_without_pose']}\n"
        )
        out.write(f"  CPU ratio gated/ungated: {m['cpu_ratio']:.4f} (saves {m['cpu_saved']:.1%})\n")
    return results


def _describe(gating: GatingConfig) -> str:
    text = f"idle after {gating.idle_after_s:g} s"
    if gating.idle == "low":
        return text + f", {gating.low_rate_hz:g} Hz"
    if gating.probe_every_s > 0:
        return text + f", probe every {gating.probe_every_s:g} s"
    return text


__all__ = ["Day", "Schedule", "Visit", "run_gating_bench", "scripted_day", "simulate"]


def main(argv: list[str] | None = None) -> int:
    """``python -m exhibit.fusion.bench [--hours H] [--fps F] [--frames N] [--json]``."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--hours", type=float, default=8.0, help="length of the day")
    parser.add_argument("--fps", type=float, default=30.0, help="camera frame rate")
    parser.add_argument("--frames", type=int, default=100, help="MediaPipe frames to time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    run_gating_bench(args.hours, args.fps, args.frames, args.seed, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
