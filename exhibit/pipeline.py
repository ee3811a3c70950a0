"""The deterministic core: one Frame in, the events it causes out.

Between the sources and the sinks nothing reads the wall clock, sleeps or does I/O: every
decision here is a function of the frames and the timestamps they carry. That is why a recording
replays to byte-identical event logs, and why tests, tuning and bug reports can rest on replay.

Order within a frame: presence (enter/leave) -> filter -> gestures (only while a visitor is
present: nothing fires when nobody is there) -> engagement (high/low) -> show timers -> joint
stream. Commands from another controller (``/exhibit/goto`` ...) are applied between frames with
:meth:`Pipeline.control`, stamped with the last frame's time.

Example:
    >>> from exhibit.config.load import loads
    >>> from exhibit.skeleton import Frame
    >>> core = Pipeline(loads('[show]\\ninitial = "idle"\\n[show.states.idle]\\n'))
    >>> [e.kind for e in core.step(Frame(0.0, 0, 640, 480))]
    ['state']
"""

from __future__ import annotations

from pathlib import Path

from exhibit.config.schema import Config
from exhibit.engagement import EngagementTracker
from exhibit.events import Cue, Event, cue_event
from exhibit.filtering.skeleton_filter import SkeletonFilter
from exhibit.fusion.engine import CameraView, Fusion, FusionUpdate
from exhibit.gestures.base import GestureHit
from exhibit.gestures.engine import GestureEngine
from exhibit.gestures.taught import TaughtGestures
from exhibit.presence import PresenceTracker, PresenceUpdate
from exhibit.show.machine import ShowContext, ShowMachine
from exhibit.skeleton import LANDMARK_INDEX, Frame, Skeleton

ENGAGEMENT_ADDRESS = "/exhibit/engagement"


class JointStream:
    """Paces the primary visitor's joint stream at ``rate_hz`` on frame time."""

    def __init__(self, config: Config) -> None:
        cfg = config.stream
        self.enabled = cfg.enabled
        self._period_s = 1.0 / cfg.rate_hz
        self._target = cfg.target
        self._joints = [(j, LANDMARK_INDEX[j], cfg.address.format(joint=j)) for j in cfg.joints]
        self._engagement = cfg.engagement
        self._next_s: float | None = None

    def update(
        self, t_s: float, skeleton: Skeleton | None, engagement: float | None = None
    ) -> list[Event]:
        if not self.enabled or skeleton is None:
            return []
        if self._next_s is not None and t_s < self._next_s:
            return []
        # Stay on a fixed grid so the rate does not drift with frame jitter.
        if self._next_s is None or t_s - self._next_s > self._period_s:
            self._next_s = t_s + self._period_s
        else:
            self._next_s += self._period_s
        lm = skeleton.landmarks
        extra = []
        if self._engagement and engagement is not None:
            cue = Cue(self._target, ENGAGEMENT_ADDRESS, (round(engagement, 4),), name="engagement")
            extra.append(cue_event(t_s, cue, kind="stream"))
        return extra + [
            cue_event(
                t_s,
                Cue(
                    self._target,
                    address,
                    (float(lm[i, 0]), float(lm[i, 1]), float(lm[i, 2])),
                    name=joint,
                ),
                kind="stream",
            )
            for joint, i, address in self._joints
        ]


def load_taught(config: Config) -> TaughtGestures | None:
    """The config's taught gestures, if it has a template file (checked at config load)."""
    taught = config.gestures.taught
    path = Path(config.base_dir) / taught.file
    if not taught.enabled or not taught.names or not path.exists():
        return None
    return TaughtGestures.from_file(
        path, threshold_scale=taught.threshold_scale, refractory_s=taught.refractory_s
    )


class Pipeline:
    """Presence, filtering, gestures, engagement, show and stream for one exhibit, driven by
    frame time."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.presence = PresenceTracker(config.presence)
        self.filter = SkeletonFilter(config.filter)
        # Gesture features depend on the camera's aspect ratio; the first frame tells it.
        self.gestures = GestureEngine(config.gestures)
        self.taught = load_taught(config)
        self.engagement = EngagementTracker(config.engagement)
        self._frame_size: tuple[int, int] | None = None
        self.show = ShowMachine(config.show)
        self.stream = JointStream(config)
        self.last_t_s = 0.0
        self._visit_started_s: float | None = None
        self.visitors = 0
        # With sensors (GPIO or the serial bridge), presence is fused from them and the camera.
        sensor_types = config.sensor_types()
        self.fusion = Fusion(config.fusion, sensor_types) if sensor_types else None
        self.last_fusion: FusionUpdate | None = None

    def context(self, t_s: float) -> ShowContext:
        """What the show's guards see now."""
        dwell_s = 0.0 if self._visit_started_s is None else t_s - self._visit_started_s
        return ShowContext(self.engagement.score, dwell_s, self.visitors)

    def step(self, frame: Frame) -> list[Event]:
        t = frame.t_s
        self.last_t_s = t
        events: list[Event] = []
        if not self.show.started:
            events += self.show.start(t)
        size = (frame.width_px, frame.height_px)
        if size != self._frame_size and frame.height_px > 0:
            self._frame_size = size
            aspect = frame.width_px / frame.height_px
            self.gestures = GestureEngine(self.config.gestures, aspect)
            self.engagement = EngagementTracker(self.config.engagement, aspect)

        if frame.pose_ran or not frame.camera_ok:
            update = self.presence.update(t, frame.skeletons)
        else:  # gated: the camera did not look, so it says nothing about who is there
            update = PresenceUpdate((), self.presence.visitor, None)
        self.visitors = sum(1 for s in frame.skeletons if self.presence.counts(s))
        visitor = update.visitor
        edges: list[Event] = [
            Event(t, "presence", change.kind, {"visitor": change.visitor})
            for change in update.changes
        ]
        if self.fusion is not None:
            seen = update.primary is not None
            view = CameraView(available=frame.camera_ok, looked=frame.pose_ran, seen=seen)
            fused = self.last_fusion = self.fusion.update(t, view, frame.sensors)
            edges, visitor = list(fused.events), fused.visitor
        for event in edges:
            events.append(event)
            if event.kind == "presence" and event.name == "enter":
                self._visit_started_s = t
            elif event.kind == "presence" and event.name == "leave":
                self._visit_started_s = None
                self.gestures.reset()
                self.engagement.reset()
                if self.taught is not None:
                    self.taught.reset()
            events += self.show.handle(t, f"{event.kind}.{event.name}", self.context(t))

        smooth = self.filter.update(t, update.primary)
        if visitor is not None:
            # Built-in gestures read the raw skeleton: the One Euro filter damps a small fast
            # wave (BIISC held-out recall 10/48 filtered, 20/48 raw; docs/gestures-evaluation.md).
            hits = self.gestures.update(t, update.primary, smooth)
            if self.taught is not None:
                hits += self.taught.update(t, smooth)
            for hit in hits:
                events += self._gesture(t, visitor, hit)
            if self.config.engagement.enabled:
                for level in self.engagement.update(t, smooth).events:
                    data = {"visitor": visitor, "score": round(self.engagement.score, 3)}
                    events.append(Event(t, "engagement", level, data))
                    events += self.show.handle(t, f"engagement.{level}", self.context(t))

        events += self.show.tick(t, self.context(t))
        present = smooth if visitor is not None else None
        events += self.stream.update(t, present, self.engagement.score)
        return events

    def _gesture(self, t: float, visitor: int, hit: GestureHit) -> list[Event]:
        data: dict[str, object] = {"visitor": visitor, "score": round(hit.score, 3)}
        if hit.side is not None:
            data["side"] = hit.side
        self.engagement.gesture(t)
        events = [Event(t, "gesture", hit.name, data)]
        return events + self.show.handle(t, f"gesture.{hit.name}", self.context(t))

    def control(self, kind: str, arg: str | None = None) -> list[Event]:
        """Apply a command from another controller (goto, reset, pause, resume) at the last
        frame's time; the show reports it as a ``control`` event."""
        t = self.last_t_s
        events = [Event(t, "control", kind, {"arg": arg} if arg is not None else {})]
        if kind == "goto" and arg is not None:
            events += self.show.goto(t, arg)
        elif kind == "reset":
            events += self.show.reset(t)
        elif kind == "pause":
            self.show.pause(t)
        elif kind == "resume":
            self.show.resume(t)
        return events

    def reconfigured(self, config: Config) -> Pipeline:
        """A pipeline for ``config`` that carries on from this one (hot reload): the visit in
        progress and the show's state are kept when the new show still has that state (no
        entry cues are sent again); otherwise the new show starts at its initial state."""
        new = Pipeline(config)
        new.presence = self.presence
        new.presence.config = config.presence
        new._visit_started_s = self._visit_started_s
        new.last_t_s = self.last_t_s
        if self.show.started and self.show.state in config.show.states:
            new.show.started = True
            new.show.state = self.show.state
            new.show.entered_at_s = self.show.entered_at_s
        return new

    def shutdown(self) -> list[Event]:
        """The config's shutdown cues, stamped with the last frame's time."""
        return self.show.shutdown(self.last_t_s)
