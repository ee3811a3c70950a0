"""The designer's config as typed, frozen dataclasses, with every default documented.

The loader (``exhibit.config.load``) turns TOML into these after validating everything; code
downstream never sees a raw dict. Units are in the field names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Literal

from exhibit.events import OscArg

if TYPE_CHECKING:  # sections parsed by their own modules, which import this one
    from exhibit.analytics.config import AnalyticsConfig
    from exhibit.control.osc_in import ControlConfig
    from exhibit.cues.gpio_out import OutputConfig
    from exhibit.cues.osc.targets import TargetSpec
    from exhibit.cues.sound.config import SoundsConfig
    from exhibit.depth.config import CalibrationConfig, DepthConfig
    from exhibit.engagement import EngagementConfig
    from exhibit.fusion.config import FusionConfig
    from exhibit.gestures.rules import RuleGestureSpec
    from exhibit.sensors.config import SensorsConfig
    from exhibit.service.http_status import StatusConfig
    from exhibit.telemetry.config import TelemetryConfig
    from exhibit.zones import ZonesConfig
    from firmware_bridge.config import BridgeConfig

Side = Literal["left", "right", "either"]
WaveModelKind = Literal["rules", "learned", "both"]


@dataclass(frozen=True)
class CameraConfig:
    """Live camera: an index (``0``) or a device path (``/dev/video0``)."""

    device: int | str = 0
    width_px: int = 640
    height_px: int = 480
    fps: float = 30.0


@dataclass(frozen=True)
class PoseConfig:
    """MediaPipe Pose settings; ``model_complexity = 1`` is the model bundled in the package."""

    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


@dataclass(frozen=True)
class FilterConfig:
    """One Euro filter (Casiez et al., CHI 2012) on every landmark coordinate.

    ``min_cutoff_hz`` sets jitter removal when still (lower = smoother, more lag); ``beta`` sets
    how fast the cutoff rises with speed (higher = less lag on fast moves); ``d_cutoff_hz``
    filters the speed estimate. A gap longer than ``reset_after_s`` (or tracking loss) resets it.
    """

    enabled: bool = True
    min_cutoff_hz: float = 0.3
    beta: float = 20.0
    d_cutoff_hz: float = 1.0
    reset_after_s: float = 0.5


@dataclass(frozen=True)
class PresenceConfig:
    """Who counts as a visitor: a body whose hip centre lies in ``area`` (normalized image
    rectangle ``[x_min, y_min, x_max, y_max]``) with enough visible landmarks. Enter after it has
    been there ``enter_after_s``; leave after it has been gone ``leave_after_s``. With ``zone``
    (a ``[zones.NAME]``), only a body the sources placed inside that floor polygon counts
    (exhibit/presence.py); the loader copies its corners into ``zone_polygon_m``."""

    area: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    enter_after_s: float = 0.5
    leave_after_s: float = 2.0
    min_visibility: float = 0.5
    zone: str = ""
    zone_polygon_m: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class WaveConfig:
    """A hand raised above the elbow swinging side to side.

    Fires after ``min_swings`` half-swings, each at least ``min_amplitude`` shoulder widths,
    within ``window_s``; not again on the same visitor for ``refractory_s``.
    """

    enabled: bool = True
    hand: Side = "either"
    min_swings: int = 3
    min_amplitude: float = 0.1
    window_s: float = 1.5
    refractory_s: float = 2.0
    # "rules" (exhibit/gestures/wave.py), "learned" (exhibit/gestures/wave_model.py) or "both"
    # (either fires; the default: BIISC leave one subject out, docs/gestures-evaluation.md).
    model: WaveModelKind = "both"
    # A model made by `exhibit gestures train-wave` (relative to the config's folder; resolved
    # to an absolute path and checked at load); "" = the one shipped with the exhibit.
    model_file: str = ""


@dataclass(frozen=True)
class HandsUpConfig:
    """Both wrists above the top of the head by ``margin`` shoulder widths, held ``hold_s``.

    Defaults from the MSRC-12 "lift outstretched arms" check (docs/gestures-evaluation.md):
    32 of 41 repetitions found with these, 16 with ``hold_s = 0.5, margin = 0.1``."""

    enabled: bool = True
    hold_s: float = 0.4
    margin: float = 0.0
    refractory_s: float = 2.0


# The gestures below are off unless the config turns them on (``enabled = true``): a gesture
# that no transition uses would only add events to the log and work to every frame, and some
# (``still``, ``approach``) fire on ordinary visitor behaviour. A show that refers to one that
# is off fails validation with the key to set. Units: "body sizes" are the yardstick of
# ``exhibit.gestures.features`` (about a shoulder width facing the camera); left and right are
# the visitor's own sides (MediaPipe's labels). See docs/gestures.md.


@dataclass(frozen=True)
class HandUpConfig:
    """One wrist above the top of the head by ``margin`` body sizes while the other is not,
    held ``hold_s``; the hit carries the raised ``side``. ``hand`` limits it to one hand.
    Both hands up is ``hands_up``, never ``hand_up`` (see docs/gestures.md)."""

    enabled: bool = False
    hand: Side = "either"
    hold_s: float = 0.5
    margin: float = 0.1
    refractory_s: float = 2.0


@dataclass(frozen=True)
class TPoseConfig:
    """Both arms spread sideways: each wrist at least ``min_reach`` body sizes out from its
    shoulder, within ``max_angle_deg`` of horizontal (image plane), held ``hold_s``."""

    enabled: bool = False
    hold_s: float = 0.5
    min_reach: float = 0.75
    max_angle_deg: float = 25.0
    refractory_s: float = 2.0


@dataclass(frozen=True)
class SwipeConfig:
    """A hand moving fast sideways across the body (``swipe_left``: towards the visitor's own
    left, which is the screen's left on a mirrored display): the wrist travels ``min_distance``
    body sizes horizontally within ``max_duration_s``, rising or falling at most
    ``max_vertical`` times that; the hit carries the hand's ``side``. ``hand`` limits it to one
    hand. After a swipe either way, no swipe for ``refractory_s``."""

    enabled: bool = False
    hand: Side = "either"
    min_distance: float = 0.8
    max_duration_s: float = 0.6
    max_vertical: float = 0.6
    refractory_s: float = 1.0


@dataclass(frozen=True)
class LeanConfig:
    """The torso (hip centre to shoulder centre) tilted sideways, towards the visitor's own left
    (``lean_left``) or right, by at least ``min_angle_deg`` from vertical in the image, held
    ``hold_s``. Re-arms when back under 60 % of the angle."""

    enabled: bool = False
    min_angle_deg: float = 15.0
    hold_s: float = 0.5
    refractory_s: float = 2.0


@dataclass(frozen=True)
class CrouchConfig:
    """The hips lowered by at least ``min_drop`` (a fraction) of their standing height above
    the feet, held ``hold_s``. The standing height is learnt from the visitor; the feet must be
    in view."""

    enabled: bool = False
    min_drop: float = 0.25
    hold_s: float = 0.5
    refractory_s: float = 2.0


@dataclass(frozen=True)
class JumpConfig:
    """The hips rise at least ``min_rise`` body sizes above their standing level and come down
    again by as much within ``max_duration_s`` of taking off (the hit is then); when the feet are
    in view, they must leave the floor too."""

    enabled: bool = False
    min_rise: float = 0.2
    max_duration_s: float = 0.8
    refractory_s: float = 0.5


@dataclass(frozen=True)
class ApproachConfig:
    """Moving towards the camera: the body's apparent scale grows by at least ``min_change``
    (a fraction: 0.25 = 25 % larger, i.e. 20 % nearer) within ``window_s``; when the sources
    measured the visitor's floor distance (depth or calibration), it shrinks by at least
    ``min_change_m`` metres instead. One hit per approach: re-arms once the scale has been
    steady for ``window_s``."""

    enabled: bool = False
    min_change: float = 0.25
    min_change_m: float = 0.5
    window_s: float = 2.0
    refractory_s: float = 3.0


@dataclass(frozen=True)
class RetreatConfig:
    """Moving away from the camera: the apparent scale shrinks by at least ``min_change`` (a
    fraction: 0.2 = 20 % smaller, i.e. 25 % farther) within ``window_s``, or the measured floor
    distance grows by ``min_change_m`` metres; as ``approach``."""

    enabled: bool = False
    min_change: float = 0.2
    min_change_m: float = 0.5
    window_s: float = 2.0
    refractory_s: float = 3.0


@dataclass(frozen=True)
class StillConfig:
    """Standing still: the nose, shoulders, hips and wrists all stay within ``max_motion`` body
    sizes of where they were, for ``hold_s``. Re-arms when the visitor moves."""

    enabled: bool = False
    hold_s: float = 3.0
    max_motion: float = 0.25
    refractory_s: float = 5.0


@dataclass(frozen=True)
class GesturesConfig:
    """Every built-in gesture's settings, one field per gesture (event ``gesture.NAME``)."""

    wave: WaveConfig = field(default_factory=WaveConfig)
    hands_up: HandsUpConfig = field(default_factory=HandsUpConfig)
    hand_up: HandUpConfig = field(default_factory=HandUpConfig)
    t_pose: TPoseConfig = field(default_factory=TPoseConfig)
    swipe_left: SwipeConfig = field(default_factory=SwipeConfig)
    swipe_right: SwipeConfig = field(default_factory=SwipeConfig)
    lean_left: LeanConfig = field(default_factory=LeanConfig)
    lean_right: LeanConfig = field(default_factory=LeanConfig)
    crouch: CrouchConfig = field(default_factory=CrouchConfig)
    jump: JumpConfig = field(default_factory=JumpConfig)
    approach: ApproachConfig = field(default_factory=ApproachConfig)
    retreat: RetreatConfig = field(default_factory=RetreatConfig)
    still: StillConfig = field(default_factory=StillConfig)
    custom: tuple[RuleGestureSpec, ...] = ()
    """Rule gestures written in the config (``[gestures.custom.NAME]``, docs/rule-gestures.md)."""
    taught: TaughtConfig = field(default_factory=lambda: TaughtConfig())
    """Gestures taught by demonstration (``exhibit gestures learn``)."""

    def enabled_names(self) -> list[str]:
        """Names of the enabled built-in gestures, sorted.

        Example:
            >>> GesturesConfig().enabled_names()
            ['hands_up', 'wave']
        """
        return sorted(n for n in BUILTIN_GESTURES if getattr(self, n).enabled)


@dataclass(frozen=True)
class TaughtConfig:
    """``[gestures.taught]``: the template file written by ``exhibit gestures learn`` (relative
    to the config's folder; unused when missing) and the spotter's settings. ``names`` are the
    gestures found in the file when the config was loaded (events ``gesture.NAME``)."""

    enabled: bool = True
    file: str = "taught_gestures.json"
    threshold_scale: float = 0.8
    refractory_s: float = 1.0
    names: tuple[str, ...] = ()


BUILTIN_GESTURES: tuple[str, ...] = (
    "wave",
    "hands_up",
    "hand_up",
    "t_pose",
    "swipe_left",
    "swipe_right",
    "lean_left",
    "lean_right",
    "crouch",
    "jump",
    "approach",
    "retreat",
    "still",
)


@dataclass(frozen=True)
class TargetConfig:
    """An OSC receiver, ``udp://host:port``."""

    name: str
    url: str
    host: str
    port: int
    protocol: Literal["udp"] = "udp"


@dataclass(frozen=True)
class CueConfig:
    """One OSC message to a target; the TOML type of each argument sets its OSC type tag
    (integer -> i, float -> f, string -> s, boolean -> T/F)."""

    name: str
    target: str
    address: str
    args: tuple[OscArg, ...] = ()


@dataclass(frozen=True)
class StreamConfig:
    """Continuous stream of the primary visitor's joints at ``rate_hz``; the address template
    takes ``{joint}``; each message carries x, y, z (normalized image x, y and MediaPipe z)."""

    enabled: bool = False
    target: str = ""
    rate_hz: float = 15.0
    joints: tuple[str, ...] = ("nose", "left_wrist", "right_wrist")
    address: str = "/exhibit/visitor/{joint}"
    engagement: bool = False
    """Also send the visitor's engagement score as ``/exhibit/engagement score``."""


@dataclass(frozen=True)
class GuardConfig:
    """Conditions a transition needs besides its event (``when = {...}``); all must hold.

    Bounds are inclusive; ``None`` means no bound. ``engagement`` is the visitor's smoothed
    score (0..1), ``dwell_s`` the time since the visit began, ``visitors`` the visitors present
    (tracked bodies in the interaction area, with the enter/leave hysteresis), ``counters``
    the show's counters (``count = "..."``).
    """

    engagement_min: float | None = None
    engagement_max: float | None = None
    dwell_min_s: float | None = None
    dwell_max_s: float | None = None
    visitors_min: int | None = None
    visitors_max: int | None = None
    counter_min: tuple[tuple[str, int], ...] = ()
    counter_max: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        """``engagement >= 0.6, waves <= 2``: for diagrams and logs."""
        parts: list[str] = []
        for label, low, high in (
            ("engagement", self.engagement_min, self.engagement_max),
            ("dwell_s", self.dwell_min_s, self.dwell_max_s),
            ("visitors", self.visitors_min, self.visitors_max),
        ):
            if low is not None:
                parts.append(f"{label} >= {low:g}")
            if high is not None:
                parts.append(f"{label} <= {high:g}")
        parts += [f"{name} >= {n}" for name, n in self.counter_min]
        parts += [f"{name} <= {n}" for name, n in self.counter_max]
        return ", ".join(parts)


@dataclass(frozen=True)
class TransitionConfig:
    """Leave the state on an event (``on = "gesture.wave"``) or after a time (``after_s``),
    if ``when`` holds; ``count`` adds one to each named counter, ``reset`` sets them to 0."""

    to: str
    on: str | None = None
    after_s: float | None = None
    when: GuardConfig | None = None
    count: tuple[str, ...] = ()
    reset: tuple[str, ...] = ()

    @property
    def guard_text(self) -> str:
        return self.when.describe() if self.when is not None else ""


BRIDGE_INPUTS = 3
"""Inputs of the reference firmware (three buttons or touch pads), as ``bridge_input0``..."""

NARRATION_LEVELS: tuple[str, ...] = ("overview", "detail", "deep_dive")


@dataclass(frozen=True)
class StateConfig:
    """A state: cues on entry and exit, its transitions, an optional narration ``level`` (one
    of ``ShowConfig.levels``) and ``repeat_s``: the entry cues again every so many seconds while
    the state lasts (an attract loop)."""

    name: str
    on_enter: tuple[CueConfig, ...] = ()
    on_exit: tuple[CueConfig, ...] = ()
    transitions: tuple[TransitionConfig, ...] = ()
    level: str | None = None
    repeat_s: float | None = None
    bundle: bool = False
    """Entry cues for the same OSC target land together, as one bundle."""


@dataclass(frozen=True)
class ShowConfig:
    """The designer's machine. ``warnings`` lists what is legal but suspicious (a state no
    transition reaches, a state with no way out); ``exhibit check`` prints them."""

    initial: str
    states: dict[str, StateConfig]
    any_state: tuple[TransitionConfig, ...] = ()
    shutdown: tuple[CueConfig, ...] = ()
    levels: tuple[str, ...] = NARRATION_LEVELS
    counters: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    visitors: str = "one"
    """``"one"``: the show follows the primary visitor only; ``"several"``: everyone present
    (exhibit/show/visitors.py)."""


def sensor_types(sensors: SensorsConfig, bridge: BridgeConfig) -> dict[str, str]:
    """Every sensor fusion knows, by name: the GPIO ones, and the serial bridge's distance
    (``bridge``, in metres) and its inputs (``bridge_input0``..., as buttons)."""
    types: dict[str, str] = dict(sensors.types())
    if bridge.device is not None:
        types["bridge"] = "distance"
        types.update({f"bridge_input{i}": "button" for i in range(BRIDGE_INPUTS)})
    return types


def _default(module: str, name: str, *args: Any) -> Callable[[], Any]:
    """A default factory for a section whose class lives in a module that imports this one."""

    def make() -> Any:
        return getattr(import_module(module), name)(*args)

    return make


@dataclass(frozen=True)
class Config:
    name: str
    show: ShowConfig
    camera: CameraConfig = field(default_factory=CameraConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
    presence: PresenceConfig = field(default_factory=PresenceConfig)
    gestures: GesturesConfig = field(default_factory=GesturesConfig)
    targets: dict[str, TargetSpec] = field(default_factory=dict)
    cues: dict[str, CueConfig] = field(default_factory=dict)
    stream: StreamConfig = field(default_factory=StreamConfig)
    engagement: EngagementConfig = field(
        default_factory=_default("exhibit.engagement", "EngagementConfig")
    )
    sounds: SoundsConfig = field(
        default_factory=_default("exhibit.cues.sound.config", "SoundsConfig")
    )
    outputs: dict[str, OutputConfig] = field(default_factory=dict)
    control: ControlConfig = field(
        default_factory=_default("exhibit.control.osc_in", "ControlConfig")
    )
    sensors: SensorsConfig = field(
        default_factory=_default("exhibit.sensors.config", "SensorsConfig")
    )
    fusion: FusionConfig = field(default_factory=_default("exhibit.fusion.config", "FusionConfig"))
    bridge: BridgeConfig = field(default_factory=_default("firmware_bridge.config", "BridgeConfig"))
    zones: ZonesConfig = field(default_factory=_default("exhibit.zones", "ZonesConfig"))
    calibration: CalibrationConfig = field(
        default_factory=_default("exhibit.depth.config", "CalibrationConfig")
    )
    depth: DepthConfig = field(default_factory=_default("exhibit.depth.config", "DepthConfig"))
    analytics: AnalyticsConfig = field(
        default_factory=_default("exhibit.analytics.config", "AnalyticsConfig")
    )
    status: StatusConfig = field(
        default_factory=_default("exhibit.service.http_status", "StatusConfig")
    )
    telemetry: TelemetryConfig = field(
        default_factory=_default("exhibit.telemetry.config", "TelemetryConfig")
    )
    base_dir: str = "."

    def sensor_types(self) -> dict[str, str]:
        """Every sensor fusion knows, by name (see :func:`sensor_types`)."""
        return sensor_types(self.sensors, self.bridge)

    """The config file's folder: media, sounds and taught-gesture files are relative to it."""
    warnings: tuple[str, ...] = ()
