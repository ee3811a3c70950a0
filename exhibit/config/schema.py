"""The designer's config as typed, frozen dataclasses, with every default documented.

The loader (``exhibit.config.load``) turns TOML into these after validating everything; code
downstream never sees a raw dict. Units are in the field names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from exhibit.events import OscArg

Side = Literal["left", "right", "either"]


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
    been there ``enter_after_s``; leave after it has been gone ``leave_after_s``."""

    area: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    enter_after_s: float = 0.5
    leave_after_s: float = 2.0
    min_visibility: float = 0.5


@dataclass(frozen=True)
class WaveConfig:
    """A hand raised above the elbow swinging side to side.

    Fires after ``min_swings`` half-swings, each at least ``min_amplitude`` shoulder widths,
    within ``window_s``; not again on the same visitor for ``refractory_s``.
    """

    enabled: bool = True
    hand: Side = "either"
    min_swings: int = 3
    min_amplitude: float = 0.3
    window_s: float = 1.5
    refractory_s: float = 2.0


@dataclass(frozen=True)
class HandsUpConfig:
    """Both wrists above the top of the head by ``margin`` shoulder widths, held ``hold_s``."""

    enabled: bool = True
    hold_s: float = 0.5
    margin: float = 0.1
    refractory_s: float = 2.0


@dataclass(frozen=True)
class GesturesConfig:
    wave: WaveConfig = field(default_factory=WaveConfig)
    hands_up: HandsUpConfig = field(default_factory=HandsUpConfig)


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


@dataclass(frozen=True)
class TransitionConfig:
    """Leave the state on an event (``on = "gesture.wave"``) or after a time (``after_s``)."""

    to: str
    on: str | None = None
    after_s: float | None = None


@dataclass(frozen=True)
class StateConfig:
    name: str
    on_enter: tuple[CueConfig, ...] = ()
    on_exit: tuple[CueConfig, ...] = ()
    transitions: tuple[TransitionConfig, ...] = ()


@dataclass(frozen=True)
class ShowConfig:
    initial: str
    states: dict[str, StateConfig]
    any_state: tuple[TransitionConfig, ...] = ()
    shutdown: tuple[CueConfig, ...] = ()


@dataclass(frozen=True)
class Config:
    name: str
    show: ShowConfig
    camera: CameraConfig = field(default_factory=CameraConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    filter: FilterConfig = field(default_factory=FilterConfig)
    presence: PresenceConfig = field(default_factory=PresenceConfig)
    gestures: GesturesConfig = field(default_factory=GesturesConfig)
    targets: dict[str, TargetConfig] = field(default_factory=dict)
    cues: dict[str, CueConfig] = field(default_factory=dict)
    stream: StreamConfig = field(default_factory=StreamConfig)
