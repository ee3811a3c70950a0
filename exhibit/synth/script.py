"""Motions of the parametric body over time, rendered to frames; and the demo's scripted visitor.

A :class:`Segment` is a stretch of behaviour: a ``motion`` (a function from seconds since the
segment began to a :class:`BodyState`, or ``None`` when nobody is in view) and its
``duration_s``. Builders make the usual ones (:func:`idle_motion` (standing still),
:func:`walk_motion`, :func:`wave_motion`, :func:`hands_up_motion`, :func:`empty_motion`) and one
for each built-in gesture (:func:`hand_up_motion`, :func:`t_pose_motion`, :func:`swipe_motion`,
:func:`lean_motion`, :func:`crouch_motion`, :func:`jump_motion`, :func:`approach_motion`,
:func:`retreat_motion`), :func:`sequence` chains them, and :func:`render` turns one into camera
frames with the noise, dropouts and frame-rate of a real pose estimator. Everything is
deterministic for a given seed.

Example:
    >>> seg = sequence(idle_motion(1.0), wave_motion(2.5, side="right"), idle_motion(1.0))
    >>> frames = render(seg, fps=10.0)
    >>> len(frames), [name for name, _, _ in seg.phases]
    (45, ['idle', 'wave', 'idle'])
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import numpy as np

from exhibit.skeleton import Frame, Skeleton
from exhibit.synth.body import ArmPose, BodyShape, PinholeCamera, Pose, make_skeleton

ArmSide = Literal["left", "right"]

# A body is only reported when at least this fraction of its landmarks is inside the image:
# MediaPipe does not find a person who is mostly out of frame.
MIN_IN_FRAME = 0.5

REST_ARM = ArmPose()
# Forearm up, upper arm a little below horizontal: the middle of a wave.
WAVE_ARM = ArmPose(abduction_rad=1.35, flexion_rad=0.1, rotation_rad=math.pi / 2, elbow_rad=1.79)
HANDS_UP_ARM = ArmPose(abduction_rad=math.pi - 0.15, flexion_rad=0.1, elbow_rad=0.1)
# One arm raised high, a little forward and bent, as when asking a question.
HAND_UP_ARM = ArmPose(abduction_rad=math.pi - 0.3, flexion_rad=0.2, elbow_rad=0.2)
T_POSE_ARM = ArmPose(abduction_rad=math.pi / 2, flexion_rad=0.05, elbow_rad=0.05)
# Swipes. Inwards (forehand), the nearly straight arm held just below shoulder height sweeps
# level from out at the side (flexion ~0; with abduction near pi/2, flexion swings the arm
# horizontally) to across the chest (flexion past pi/2 brings it in front of the other
# shoulder). Outwards (backhand), the hand starts folded in front of the chest, elbow bent and
# low, and the arm unfolds out to the side.
SWIPE_OUT_ARM = ArmPose(abduction_rad=1.45, flexion_rad=0.1, elbow_rad=0.15)
SWIPE_ACROSS_ARM = ArmPose(abduction_rad=1.45, flexion_rad=2.0, elbow_rad=0.15)
SWIPE_FOLDED_ARM = ArmPose(abduction_rad=0.8, flexion_rad=1.1, rotation_rad=-0.5, elbow_rad=1.8)
GRAVITY_M_S2 = 9.81


@dataclass(frozen=True)
class BodyState:
    """Where the body is (``position_m = (x_m, distance_m)`` on the floor) and how it is posed.

    Example:
        >>> BodyState(Pose(), (0.0, 2.5)).position_m
        (0.0, 2.5)
    """

    pose: Pose
    position_m: tuple[float, float]


Motion = Callable[[float], BodyState | None]


@dataclass(frozen=True)
class Segment:
    """A motion that lasts ``duration_s``; ``phases`` names its parts as (name, start_s, end_s).

    Example:
        >>> empty_motion(2.0).phases
        (('empty', 0.0, 2.0),)
    """

    name: str
    duration_s: float
    motion: Motion
    phases: tuple[tuple[str, float, float], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.phases:
            object.__setattr__(self, "phases", ((self.name, 0.0, self.duration_s),))


def smoothstep(w: float) -> float:
    """0 -> 0, 1 -> 1, with zero slope at both ends (clamped outside 0..1)."""
    w = min(1.0, max(0.0, w))
    return w * w * (3.0 - 2.0 * w)


def lerp_arm(a: ArmPose, b: ArmPose, w: float) -> ArmPose:
    """Joint-angle interpolation between two arm poses (``w`` 0 -> ``a``, 1 -> ``b``)."""
    return ArmPose(
        *(getattr(a, f.name) * (1.0 - w) + getattr(b, f.name) * w for f in fields(ArmPose))
    )


def _with_arm(pose: Pose, side: ArmSide, arm: ArmPose) -> Pose:
    return replace(pose, left_arm=arm) if side == "left" else replace(pose, right_arm=arm)


def _standing(t_s: float, yaw_rad: float, sway_rad: float, phase_rad: float) -> Pose:
    """A person standing: slow weight shift (~0.25 Hz) and a hint of arm movement."""
    s = math.sin(2 * math.pi * 0.25 * t_s + phase_rad)
    arm = replace(REST_ARM, flexion_rad=0.03 * s, elbow_rad=0.12 + 0.03 * s)
    return Pose(left_arm=arm, right_arm=arm, lean_rad=sway_rad * s, yaw_rad=yaw_rad)


def empty_motion(duration_s: float) -> Segment:
    """Nobody in view for ``duration_s``."""
    return Segment("empty", duration_s, lambda t_s: None)


def idle_motion(
    duration_s: float,
    *,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
    sway_rad: float = 0.015,
    phase_rad: float = 0.0,
) -> Segment:
    """Standing still (listening), arms down, swaying slightly."""

    def motion(t_s: float) -> BodyState:
        return BodyState(_standing(t_s, yaw_rad, sway_rad, phase_rad), position_m)

    return Segment("idle", duration_s, motion)


def walk_motion(
    start_m: tuple[float, float],
    end_m: tuple[float, float],
    *,
    speed_m_s: float = 1.2,
    arm_swing_rad: float = 0.25,
    cadence_hz: float = 0.9,
    yaw_rad: float | None = None,
    start_yaw_rad: float | None = None,
    end_yaw_rad: float | None = None,
    turn_s: float = 0.6,
) -> Segment:
    """Walking in a straight line at ``speed_m_s``, legs and arms swinging at ``cadence_hz``
    gait cycles per second. The body faces ``yaw_rad`` while walking (default: turned 1.2 rad
    towards the direction of travel across the image); it turns from ``start_yaw_rad`` during
    the first ``turn_s`` and to ``end_yaw_rad`` during the last (to face the camera on arrival)."""
    dx, dz = end_m[0] - start_m[0], end_m[1] - start_m[1]
    length_m = math.hypot(dx, dz)
    duration_s = length_m / speed_m_s
    walk_yaw = yaw_rad if yaw_rad is not None else math.copysign(1.2, dx) if dx else 0.0

    def motion(t_s: float) -> BodyState:
        w = min(1.0, max(0.0, t_s / duration_s)) if duration_s > 0 else 1.0
        pos = (start_m[0] + dx * w, start_m[1] + dz * w)
        yaw = walk_yaw
        if start_yaw_rad is not None and t_s < turn_s:
            yaw = start_yaw_rad + (walk_yaw - start_yaw_rad) * smoothstep(t_s / turn_s)
        if end_yaw_rad is not None and t_s > duration_s - turn_s:
            k = smoothstep((t_s - (duration_s - turn_s)) / turn_s)
            yaw = walk_yaw + (end_yaw_rad - walk_yaw) * k
        ph = 2 * math.pi * cadence_hz * t_s
        s = math.sin(ph)
        left = replace(REST_ARM, flexion_rad=-arm_swing_rad * s, elbow_rad=0.2 + 0.1 * max(0.0, -s))
        right = replace(REST_ARM, flexion_rad=arm_swing_rad * s, elbow_rad=0.2 + 0.1 * max(0.0, s))
        pose = Pose(
            left_arm=left,
            right_arm=right,
            yaw_rad=yaw,
            left_hip_flexion_rad=0.3 * s,
            right_hip_flexion_rad=-0.3 * s,
            crouch_rad=0.05,
        )
        return BodyState(pose, pos)

    return Segment("walk", duration_s, motion)


def wave_motion(
    duration_s: float = 2.5,
    *,
    side: ArmSide = "right",
    frequency_hz: float = 2.0,
    amplitude_rad: float = 0.6,
    raise_s: float = 0.4,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
    phase_rad: float = 0.0,
) -> Segment:
    """Raise one hand (``raise_s``), swing the forearm side to side about the elbow at
    ``frequency_hz`` by +-``amplitude_rad`` from vertical, lower it again (``raise_s``).
    ``amplitude_rad = 0`` is a hand raised and held still."""
    swing_s = duration_s - 2 * raise_s

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.01, phase_rad)
        if t_s < raise_s:
            arm = lerp_arm(REST_ARM, WAVE_ARM, smoothstep(t_s / raise_s))
        elif t_s < raise_s + swing_s:
            swing = amplitude_rad * math.sin(2 * math.pi * frequency_hz * (t_s - raise_s))
            arm = replace(WAVE_ARM, elbow_rad=WAVE_ARM.elbow_rad + swing)
        else:
            k = smoothstep((t_s - raise_s - swing_s) / raise_s)
            arm = lerp_arm(WAVE_ARM, REST_ARM, k)
        return BodyState(_with_arm(base, side, arm), position_m)

    return Segment("wave", duration_s, motion)


def hands_up_motion(
    hold_s: float = 2.0,
    *,
    raise_s: float = 0.5,
    arm: ArmPose = HANDS_UP_ARM,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """Raise both arms to ``arm`` (default: straight up, slightly apart) over ``raise_s``, hold
    ``hold_s``, lower over ``raise_s``. Lasts ``hold_s + 2 * raise_s``; pass a lower ``arm``
    (e.g. a T-pose) for hands that stay below the head."""
    duration_s = hold_s + 2 * raise_s

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.005, 0.0)
        if t_s < raise_s:
            w = smoothstep(t_s / raise_s)
        elif t_s < raise_s + hold_s:
            w = 1.0
        else:
            w = 1.0 - smoothstep((t_s - raise_s - hold_s) / raise_s)
        a = lerp_arm(REST_ARM, arm, w)
        return BodyState(replace(base, left_arm=a, right_arm=a), position_m)

    return Segment("hands_up", duration_s, motion)


def hand_up_motion(
    hold_s: float = 2.0,
    *,
    side: ArmSide = "right",
    raise_s: float = 0.5,
    arm: ArmPose = HAND_UP_ARM,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """Raise one hand (the visitor's ``side``) to ``arm`` over ``raise_s``, hold ``hold_s``,
    lower it over ``raise_s``; the other arm rests."""
    duration_s = hold_s + 2 * raise_s

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.005, 0.0)
        w = _up_hold_down(t_s, raise_s, hold_s)
        return BodyState(_with_arm(base, side, lerp_arm(REST_ARM, arm, w)), position_m)

    return Segment("hand_up", duration_s, motion)


def t_pose_motion(
    hold_s: float = 2.0,
    *,
    raise_s: float = 0.5,
    arm: ArmPose = T_POSE_ARM,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """Spread both arms out sideways to ``arm`` (default: horizontal) over ``raise_s``, hold
    ``hold_s``, lower them over ``raise_s``."""
    seg = hands_up_motion(hold_s, raise_s=raise_s, arm=arm, position_m=position_m, yaw_rad=yaw_rad)
    return Segment("t_pose", seg.duration_s, seg.motion)


def swipe_motion(
    direction: ArmSide = "left",
    *,
    side: ArmSide = "right",
    stroke_s: float = 0.35,
    raise_s: float = 0.4,
    pause_s: float = 0.15,
    start: ArmPose | None = None,
    end: ArmPose | None = None,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """One swipe with the visitor's ``side`` hand towards the visitor's own ``direction``:
    raise the arm to its start (``raise_s``), pause, sweep it across in ``stroke_s``, pause,
    lower it (``raise_s``). Towards the visitor's left, the right arm sweeps from out at the
    side to across the chest (forehand), and the left arm unfolds from in front of the chest to
    out at the side (backhand). ``start``/``end`` override the two arm poses."""
    outward = (direction == "left") == (side == "left")
    a = start or (SWIPE_FOLDED_ARM if outward else SWIPE_OUT_ARM)
    b = end or (SWIPE_OUT_ARM if outward else SWIPE_ACROSS_ARM)
    t1, t2 = raise_s + pause_s, raise_s + pause_s + stroke_s
    t3 = t2 + pause_s
    duration_s = t3 + raise_s

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.005, 0.0)
        if t_s < raise_s:
            arm = lerp_arm(REST_ARM, a, smoothstep(t_s / raise_s))
        elif t_s < t1:
            arm = a
        elif t_s < t2:
            arm = lerp_arm(a, b, smoothstep((t_s - t1) / stroke_s))
        elif t_s < t3:
            arm = b
        else:
            arm = lerp_arm(b, REST_ARM, smoothstep((t_s - t3) / raise_s))
        return BodyState(_with_arm(base, side, arm), position_m)

    return Segment(f"swipe_{direction}", duration_s, motion)


def lean_motion(
    direction: ArmSide = "left",
    *,
    angle_rad: float = 0.45,
    hold_s: float = 1.5,
    tilt_s: float = 0.5,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """Tilt the upper body towards the visitor's own ``direction`` by ``angle_rad`` over
    ``tilt_s``, hold ``hold_s``, come back upright over ``tilt_s``."""
    sign = 1.0 if direction == "left" else -1.0

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.0, 0.0)
        w = _up_hold_down(t_s, tilt_s, hold_s)
        return BodyState(replace(base, lean_rad=sign * angle_rad * w), position_m)

    return Segment(f"lean_{direction}", hold_s + 2 * tilt_s, motion)


def crouch_motion(
    hold_s: float = 1.5,
    *,
    depth_rad: float = 0.9,
    down_s: float = 0.6,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """Bend the knees (thighs ``depth_rad`` from vertical: 0.9 lowers the hips by ~38 %) over
    ``down_s``, arms coming forward for balance; hold ``hold_s``; stand up over ``down_s``."""

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.005, 0.0)
        w = _up_hold_down(t_s, down_s, hold_s)
        arm = replace(REST_ARM, flexion_rad=0.5 * w)
        pose = replace(base, crouch_rad=depth_rad * w, left_arm=arm, right_arm=arm)
        return BodyState(pose, position_m)

    return Segment("crouch", hold_s + 2 * down_s, motion)


def jump_motion(
    height_m: float = 0.2,
    *,
    prep_s: float = 0.3,
    land_s: float = 0.3,
    crouch_rad: float = 0.5,
    position_m: tuple[float, float] = (0.0, 2.5),
    yaw_rad: float = 0.0,
) -> Segment:
    """A jump on the spot: dip (knees to ``crouch_rad`` and back, ``prep_s``), fly ballistically
    to ``height_m`` (flight time ``2 sqrt(2 h / g)``), land and absorb (``land_s``)."""
    flight_s = 2.0 * math.sqrt(2.0 * height_m / GRAVITY_M_S2)

    def motion(t_s: float) -> BodyState:
        base = _standing(t_s, yaw_rad, 0.005, 0.0)
        crouch = jump = 0.0
        if t_s < prep_s:
            crouch = crouch_rad * math.sin(math.pi * t_s / prep_s)
        elif t_s < prep_s + flight_s:
            w = (t_s - prep_s) / flight_s
            jump = 4.0 * height_m * w * (1.0 - w)
        else:
            w = min(1.0, (t_s - prep_s - flight_s) / land_s)
            crouch = 0.6 * crouch_rad * math.sin(math.pi * w)
        return BodyState(replace(base, crouch_rad=crouch, jump_m=jump), position_m)

    return Segment("jump", prep_s + flight_s + land_s, motion)


def approach_motion(
    from_m: float = 4.0,
    to_m: float = 2.0,
    *,
    x_m: float = 0.0,
    speed_m_s: float = 1.0,
    yaw_rad: float = 0.0,
    arm_swing_rad: float = 0.25,
) -> Segment:
    """Walk straight towards the camera from ``from_m`` to ``to_m`` (distances), facing it
    (``yaw_rad`` 0, or turned by that much)."""
    seg = walk_motion(
        (x_m, from_m),
        (x_m, to_m),
        speed_m_s=speed_m_s,
        yaw_rad=yaw_rad,
        arm_swing_rad=arm_swing_rad,
    )
    return Segment("approach", seg.duration_s, seg.motion)


def retreat_motion(
    from_m: float = 2.0,
    to_m: float = 4.0,
    *,
    x_m: float = 0.0,
    speed_m_s: float = 1.0,
    yaw_rad: float = math.pi,
    arm_swing_rad: float = 0.25,
) -> Segment:
    """Walk straight away from the camera from ``from_m`` to ``to_m``; by default turned
    around (``yaw_rad`` pi, back to the camera); ``yaw_rad`` 0 steps back facing it."""
    seg = walk_motion(
        (x_m, from_m),
        (x_m, to_m),
        speed_m_s=speed_m_s,
        yaw_rad=yaw_rad,
        arm_swing_rad=arm_swing_rad,
    )
    return Segment("retreat", seg.duration_s, seg.motion)


def _up_hold_down(t_s: float, ramp_s: float, hold_s: float) -> float:
    """0 -> 1 over ``ramp_s`` (smoothly), 1 for ``hold_s``, 1 -> 0 over ``ramp_s``."""
    if t_s < ramp_s:
        return smoothstep(t_s / ramp_s)
    if t_s < ramp_s + hold_s:
        return 1.0
    return 1.0 - smoothstep((t_s - ramp_s - hold_s) / ramp_s)


def sequence(*segments: Segment, name: str = "sequence") -> Segment:
    """One segment after another; ``phases`` lists them with their start and end times."""
    starts: list[float] = []
    phases: list[tuple[str, float, float]] = []
    t = 0.0
    for seg in segments:
        starts.append(t)
        phases.extend((n, t + a, t + b) for n, a, b in seg.phases)
        t += seg.duration_s
    total_s = t

    def motion(t_s: float) -> BodyState | None:
        i = max(0, bisect.bisect_right(starts, t_s) - 1)
        return segments[i].motion(t_s - starts[i])

    return Segment(name, total_s, motion, tuple(phases))


def render(
    segment: Segment,
    *,
    fps: float = 30.0,
    shape: BodyShape | None = None,
    camera: PinholeCamera | None = None,
    seed: int = 0,
    noise_px: float = 0.0,
    landmark_dropout: float = 0.0,
    dropped_frames: Collection[int] = (),
    drop_rate: float = 0.0,
    jitter: float = 0.0,
    start_t_s: float = 0.0,
) -> list[Frame]:
    """Frames of ``segment`` as a camera at ``fps`` would give them.

    ``shape`` sets the body (``BodyShape(1.1)`` a child, ``BodyShape(1.9)`` a tall adult);
    ``noise_px`` is Gaussian landmark noise; ``landmark_dropout`` the chance a landmark has
    visibility ~0; frames listed in ``dropped_frames`` (indices), and a random ``drop_rate``
    share of the others, have no skeleton (tracking lost). ``jitter`` moves each timestamp by up
    to that fraction of a frame interval (variable frame timing; keep it below 0.5).
    Distance, yaw and gesture parameters belong to the motions.
    """
    shape = shape if shape is not None else BodyShape()
    camera = camera if camera is not None else PinholeCamera()
    rng = np.random.default_rng(seed)
    n = round(segment.duration_s * fps)
    dropped = set(dropped_frames)
    frames: list[Frame] = []
    for i in range(n):
        t_rel = i / fps
        if jitter > 0.0 and i > 0:
            t_rel += float(rng.uniform(-jitter, jitter)) / fps
        lost = i in dropped or (drop_rate > 0.0 and float(rng.random()) < drop_rate)
        state = segment.motion(t_rel)
        skeletons: tuple[Skeleton, ...] = ()
        if state is not None and not lost:
            sk = make_skeleton(
                shape, state.pose, state.position_m, camera, rng, noise_px, landmark_dropout
            )
            lm = sk.landmarks
            inside = (lm[:, 0] >= 0) & (lm[:, 0] <= 1) & (lm[:, 1] >= 0) & (lm[:, 1] <= 1)
            if float(np.mean(inside)) >= MIN_IN_FRAME:
                skeletons = (sk,)
        frames.append(Frame(start_t_s + t_rel, i, camera.width_px, camera.height_px, skeletons))
    return frames


def visitor_script(seed: int = 0) -> Segment:
    """The demo's visitor as a :class:`Segment` (see :func:`scripted_visitor`); ``phases``
    names each part: empty, walk_in, idle, wave, listen, hands_up, idle, walk_out, empty."""
    rng = np.random.default_rng(seed)
    ph = [float(p) for p in rng.uniform(0.0, 2 * math.pi, size=4)]
    spot = (float(rng.uniform(-0.1, 0.1)), 2.5)

    def named(seg: Segment, name: str) -> Segment:
        return Segment(name, seg.duration_s, seg.motion)

    return sequence(
        empty_motion(2.0),
        named(walk_motion((-2.8, 2.5), spot, end_yaw_rad=0.0), "walk_in"),
        idle_motion(2.0, position_m=spot, phase_rad=ph[0]),
        wave_motion(2.5, side="right", frequency_hz=2.0, amplitude_rad=0.6, position_m=spot),
        named(idle_motion(6.0, position_m=spot, phase_rad=ph[1]), "listen"),
        hands_up_motion(2.0, raise_s=0.5, position_m=spot),
        idle_motion(8.0, position_m=spot, phase_rad=ph[2]),
        named(walk_motion(spot, (2.8, 2.5), start_yaw_rad=0.0), "walk_out"),
        empty_motion(4.0),
        name="scripted_visitor",
    )


def scripted_visitor(fps: float = 30.0, seed: int = 0) -> list[Frame]:
    """The demo's visitor, deterministic for a given seed, 640x480, ``t_s = index / fps``.

    ~2 s empty scene; walks in from the image's left at 1.2 m/s to ~2.5 m from the camera and
    turns to face it; stands 2 s; waves with the right hand (2 Hz, 2.5 s); listens 6 s; raises
    both hands above the head and holds them 2 s, lowers them; stands 8 s; walks out to the
    right; 4 s empty. Landmarks carry 0.5 px of noise. About 32 s in all.
    """
    return render(visitor_script(seed), fps=fps, seed=seed, noise_px=0.5)
