"""The deterministic core: one Frame in, the events it causes out.

Between the sources and the sinks nothing reads the wall clock, sleeps or does I/O: every
decision here is a function of the frames and the timestamps they carry. That is why a recording
replays to byte-identical event logs, and why tests, tuning and bug reports can rest on replay.

Order within a frame: presence (enter/leave) -> filter -> gestures (only while a visitor is
present: nothing fires when nobody is there) -> show timers -> joint stream.

Example:
    >>> from exhibit.config.load import loads
    >>> from exhibit.skeleton import Frame
    >>> core = Pipeline(loads('[show]\\ninitial = "idle"\\n[show.states.idle]\\n'))
    >>> [e.kind for e in core.step(Frame(0.0, 0, 640, 480))]
    ['state']
"""

from __future__ import annotations

from exhibit.config.schema import Config
from exhibit.events import Cue, Event, cue_event
from exhibit.filtering.skeleton_filter import SkeletonFilter
from exhibit.gestures.engine import GestureEngine
from exhibit.presence import PresenceTracker
from exhibit.show.machine import ShowMachine
from exhibit.skeleton import LANDMARK_INDEX, Frame, Skeleton


class JointStream:
    """Paces the primary visitor's joint stream at ``rate_hz`` on frame time."""

    def __init__(self, config: Config) -> None:
        cfg = config.stream
        self.enabled = cfg.enabled
        self._period_s = 1.0 / cfg.rate_hz
        self._target = cfg.target
        self._joints = [(j, LANDMARK_INDEX[j], cfg.address.format(joint=j)) for j in cfg.joints]
        self._next_s: float | None = None

    def update(self, t_s: float, skeleton: Skeleton | None) -> list[Event]:
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
        return [
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


class Pipeline:
    """Presence, filtering, gestures, show and stream for one exhibit, driven by frame time."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.presence = PresenceTracker(config.presence)
        self.filter = SkeletonFilter(config.filter)
        # Gesture features depend on the camera's aspect ratio; the first frame tells it.
        self.gestures = GestureEngine(config.gestures)
        self._frame_size: tuple[int, int] | None = None
        self.show = ShowMachine(config.show)
        self.stream = JointStream(config)
        self.last_t_s = 0.0

    def step(self, frame: Frame) -> list[Event]:
        t = frame.t_s
        self.last_t_s = t
        events: list[Event] = []
        if not self.show.started:
            events += self.show.start(t)
        size = (frame.width_px, frame.height_px)
        if size != self._frame_size and frame.height_px > 0:
            self._frame_size = size
            self.gestures = GestureEngine(self.config.gestures, frame.width_px / frame.height_px)

        update = self.presence.update(t, frame.skeletons)
        for change in update.changes:
            events.append(Event(t, "presence", change.kind, {"visitor": change.visitor}))
            if change.kind == "leave":
                self.gestures.reset()
            events += self.show.handle(t, f"presence.{change.kind}")

        smooth = self.filter.update(t, update.primary)
        if update.visitor is not None:
            for hit in self.gestures.update(t, smooth):
                data: dict[str, object] = {"visitor": update.visitor, "score": round(hit.score, 3)}
                if hit.side is not None:
                    data["side"] = hit.side
                events.append(Event(t, "gesture", hit.name, data))
                events += self.show.handle(t, f"gesture.{hit.name}")

        events += self.show.tick(t)
        events += self.stream.update(t, smooth if update.visitor is not None else None)
        return events

    def shutdown(self) -> list[Event]:
        """The config's shutdown cues, stamped with the last frame's time."""
        return self.show.shutdown(self.last_t_s)
