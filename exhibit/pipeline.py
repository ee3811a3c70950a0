"""The deterministic core: one Frame in, the events it causes out.

Between the sources and the sinks nothing reads the wall clock, sleeps or does I/O: every
decision here is a function of the frames and the timestamps they carry. That is why a recording
replays to byte-identical event logs, and why tests, tuning and bug reports can rest on replay.

Order within a frame: presence (enter/arrive/depart/leave/primary) -> zones (enter/leave, when
the sources placed the visitors on the floor: exhibit/depth/pairing.py) -> filter -> gestures
(only while a visitor is present: nothing fires when nobody is there) -> engagement (high/low;
proximity from the measured distance when there is one) -> show timers -> joint stream.
Whose gestures and engagement count is ``[show] visitors``: the primary visitor's
(``"one"``) or everybody's (``"several"``), see exhibit/show/visitors.py. Commands
from another controller (``/exhibit/goto`` ...) are applied between frames with
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
from exhibit.depth.spot import spot_of
from exhibit.engagement import EngagementTracker
from exhibit.events import Cue, Event, cue_event
from exhibit.filtering.skeleton_filter import SkeletonFilter
from exhibit.fusion.engine import CameraView, Fusion, FusionUpdate
from exhibit.gestures.base import GestureHit
from exhibit.gestures.engine import GestureEngine
from exhibit.gestures.features import DEFAULT_ASPECT_RATIO
from exhibit.gestures.taught import TaughtGestures
from exhibit.presence import PresenceTracker, VisitorView
from exhibit.show.machine import ShowContext, ShowMachine
from exhibit.show.visitors import aggregate_engagement
from exhibit.skeleton import LANDMARK_INDEX, Frame, Skeleton
from exhibit.zones import ZoneTracker

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


class VisitorSenses:
    """What the pipeline keeps for one visitor it follows: the One Euro filter, the gesture
    detectors (built-in and taught) and the engagement score.

    Why per visitor: two people's movements must never mix in one detector (half a wave each
    is not a wave) nor in one score; in ``[show] visitors = "several"`` each present visitor
    has their own. ``taught`` is the config's loaded template set, shared read-only (the
    spotter state is this visitor's own).

    Example:
        >>> from exhibit.config.load import loads
        >>> senses = VisitorSenses(loads('[show]\\ninitial = "a"\\n[show.states.a]\\n'))
        >>> senses.engagement.score
        0.0
    """

    def __init__(
        self,
        config: Config,
        aspect_ratio: float = DEFAULT_ASPECT_RATIO,
        taught: TaughtGestures | None = None,
    ) -> None:
        self.filter = SkeletonFilter(config.filter)
        self.gestures = GestureEngine(config.gestures, aspect_ratio)
        self.taught = taught
        self.engagement = EngagementTracker(config.engagement, aspect_ratio)
        self.engaged = False  # the last engagement event was "high"
        self.smooth: Skeleton | None = None

    def reset(self) -> None:
        """A new body, or nobody: forget gestures in progress, the score, the filter's past."""
        self.gestures.reset()
        self.engagement.reset()
        if self.taught is not None:
            self.taught.reset()
        self.filter.reset()
        self.engaged = False
        self.smooth = None


class Pipeline:
    """Presence, filtering, gestures, engagement, show and stream for one exhibit, driven by
    frame time. ``[show] visitors`` decides whom it follows (exhibit/show/visitors.py): the
    primary visitor only (``"one"``), or everybody present (``"several"``)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.presence = PresenceTracker(config.presence)
        self.several = config.show.visitors == "several"
        # "several": whether the show was last told engagement.high (by whoever was engaged)
        self._show_engaged = False
        self._taught = load_taught(config)
        self._aspect_ratio = DEFAULT_ASPECT_RATIO
        # Gesture features depend on the camera's aspect ratio; the first frame tells it.
        self.primary = VisitorSenses(config, self._aspect_ratio, self._taught)
        self.followed: dict[int, VisitorSenses] = {}  # "several": each present visitor's
        self._frame_size: tuple[int, int] | None = None
        self.show = ShowMachine(config.show)
        self.stream = JointStream(config)
        self.last_t_s = 0.0
        self._visit_started_s: float | None = None
        self._arrived_s: dict[int, float] = {}
        self.visitors = 0
        # With sensors (GPIO or the serial bridge), presence is fused from them and the camera.
        sensor_types = config.sensor_types()
        self.fusion = Fusion(config.fusion, sensor_types) if sensor_types else None
        self.last_fusion: FusionUpdate | None = None
        # [zones]: who stands where, from the floor spots the sources measured (no spot, no
        # zone events: exhibit/depth/pairing.py).
        self.zones = ZoneTracker(config.zones) if config.zones.zones else None
        self._placed: dict[int, tuple[float, float]] = {}  # visitor -> last floor x, y (m)

    @property
    def gestures(self) -> GestureEngine:
        """The primary visitor's gesture engine (its ``names()`` are every visitor's)."""
        return self.primary.gestures

    @property
    def engagement(self) -> EngagementTracker:
        """The primary visitor's engagement (mode ``"one"``)."""
        return self.primary.engagement

    @property
    def taught(self) -> TaughtGestures | None:
        return self.primary.taught

    def engagement_score(self) -> float:
        """The show's engagement: the primary's, or in ``"several"`` the highest present."""
        if self.several:
            return aggregate_engagement({v: s.engagement.score for v, s in self.followed.items()})
        return self.primary.engagement.score

    def context(self, t_s: float, visitor: int | None = None) -> ShowContext:
        """What the show's guards see now; ``visitor``: whose event it is (``"several"``: the
        dwell is that visitor's)."""
        start_s = self._visit_started_s
        if self.several and visitor is not None and visitor in self._arrived_s:
            start_s = self._arrived_s[visitor]
        dwell_s = 0.0 if start_s is None else t_s - start_s
        return ShowContext(self.engagement_score(), dwell_s, self.visitors)

    def _senses_for(self, visitor: int) -> VisitorSenses:
        senses = self.followed.get(visitor)
        if senses is None:
            taught = None
            if self._taught is not None:
                cfg = self.config.gestures.taught
                taught = TaughtGestures(
                    self._taught.recognizer,
                    threshold_scale=cfg.threshold_scale,
                    refractory_s=cfg.refractory_s,
                )
            senses = self.followed[visitor] = VisitorSenses(self.config, self._aspect_ratio, taught)
        return senses

    def step(self, frame: Frame) -> list[Event]:
        t = frame.t_s
        self.last_t_s = t
        events: list[Event] = []
        if not self.show.started:
            events += self.show.start(t)
        size = (frame.width_px, frame.height_px)
        if size != self._frame_size and frame.height_px > 0:
            self._frame_size = size
            aspect = self._aspect_ratio = frame.width_px / frame.height_px
            self.primary.gestures = GestureEngine(self.config.gestures, aspect)
            self.primary.engagement = EngagementTracker(self.config.engagement, aspect)
            self.followed.clear()

        if frame.pose_ran or not frame.camera_ok:
            update = self.presence.update(t, frame.skeletons)
        else:  # gated: the camera did not look, so it says nothing about who is there
            update = self.presence.unseen()
        self.visitors = len(update.visitors)
        self._arrived_s.update((v.visitor, v.arrived_s) for v in update.visitors)
        visitor = update.visitor
        edges: list[Event] = []
        for change in update.changes:
            if change.kind == "primary" and self.several:
                continue  # everybody takes part: who arrived first changes nothing
            data: dict[str, object] = {"visitor": change.visitor}
            if change.previous is not None:
                data["from"] = change.previous
            edges.append(Event(t, "presence", change.kind, data))
        if self.fusion is not None:
            seen = update.primary is not None
            view = CameraView(available=frame.camera_ok, looked=frame.pose_ran, seen=seen)
            fused = self.last_fusion = self.fusion.update(t, view, frame.sensors)
            # The visit itself is fused from the sensors and the camera; who is who among the
            # people the camera sees is the camera's alone.
            who = [e for e in edges if e.name in ("arrive", "depart", "primary")]
            edges, visitor = list(fused.events) + who, fused.visitor
        for event in edges:
            events.append(event)
            who_id = event.data.get("visitor") if event.kind == "presence" else None
            events += self._presence_edge(t, event)
            context = self.context(t, who_id if isinstance(who_id, int) else None)
            events += self.show.handle(t, f"{event.kind}.{event.name}", context)
        for gone in set(self._arrived_s) - {v.visitor for v in update.visitors}:
            del self._arrived_s[gone]
        # Zones follow presence: on every frame it was updated (with the camera down too, so a
        # visitor who left is let out of the zone then, not when the camera comes back).
        if self.zones is not None and (frame.pose_ran or not frame.camera_ok):
            events += self._zones(t, update.visitors, update.visitor)

        if self.several:
            # Only during a visit (with sensors, the fused one): nothing fires before it starts.
            people = update.visitors if visitor is not None else ()
            for person in people:
                senses = self._senses_for(person.visitor)
                senses.smooth = senses.filter.update(t, person.body)
                events += self._follow(t, person.visitor, senses, person.body)
            for gone in set(self.followed) - {p.visitor for p in people}:
                del self.followed[gone]
            if self._show_engaged and not any(s.engaged for s in self.followed.values()):
                # The engaged visitor left and nobody who stays is: the show's level drops.
                self._show_engaged = False
                if visitor is not None:  # still a visit (else presence.leave said it all)
                    data = {"score": round(self.engagement_score(), 3)}
                    events.append(Event(t, "engagement", "low", data))
                    events += self.show.handle(t, "engagement.low", self.context(t))
            primary = self.followed.get(update.visitor) if update.visitor is not None else None
            present = primary.smooth if primary is not None else None
        else:
            self.primary.smooth = self.primary.filter.update(t, update.primary)
            if visitor is not None:
                events += self._follow(t, visitor, self.primary, update.primary)
            present = self.primary.smooth if visitor is not None else None

        events += self.show.tick(t, self.context(t))
        events += self.stream.update(t, present, self.engagement_score())
        return events

    def _zones(self, t: float, people: tuple[VisitorView, ...], primary: int | None) -> list[Event]:
        """Zone enter/leave of the visitors whose floor spot was measured on this frame; the
        show sees each as ``zone.enter.NAME`` / ``zone.leave.NAME`` -- with ``visitors =
        "one"`` only the primary visitor's (a bystander stepping on the spot is logged, and
        moves nothing), with ``"several"`` everybody's."""
        assert self.zones is not None
        # A body not seen or not placed on this frame (a dropout, feet hidden) stays where it
        # was last placed while the visitor is present: not measured is not gone.
        present = {p.visitor for p in people}
        positions = {v: xy for v, xy in self._placed.items() if v in present}
        positions.update((p.visitor, s.floor_xy_m) for p in people if (s := spot_of(p.body)))
        self._placed = positions
        events: list[Event] = []
        for event in self.zones.update(t, positions):
            events.append(event)
            who = event.data.get("visitor")
            if not self.several and who != primary:
                continue
            context = self.context(t, who if isinstance(who, int) else None)
            events += self.show.handle(t, f"zone.{event.name}.{event.data['zone']}", context)
        return events

    def _presence_edge(self, t: float, event: Event) -> list[Event]:
        """What a presence edge does to the visitors followed (before the show sees it)."""
        if event.kind != "presence":
            return []
        visitor = event.data.get("visitor")
        if event.name == "enter":
            self._visit_started_s = t
        elif event.name == "leave":
            self._visit_started_s = None
            self.primary.gestures.reset()
            self.primary.engagement.reset()
            if self.primary.taught is not None:
                self.primary.taught.reset()
            self.primary.engaged = False
            self.followed.clear()
        elif event.name == "primary":
            # Someone else is followed now: their own dwell, gestures and engagement.
            self.primary.reset()
            if isinstance(visitor, int) and visitor in self._arrived_s:
                self._visit_started_s = self._arrived_s[visitor]
        elif event.name == "depart" and isinstance(visitor, int):
            self.followed.pop(visitor, None)
        return []

    def _follow(
        self, t: float, visitor: int, senses: VisitorSenses, raw: Skeleton | None
    ) -> list[Event]:
        """Gestures and engagement of one followed visitor on this frame."""
        events: list[Event] = []
        # Built-in gestures read the raw skeleton: the One Euro filter damps a small fast
        # wave (BIISC held-out recall 10/48 filtered, 20/48 raw; docs/gestures-evaluation.md).
        hits = senses.gestures.update(t, raw, senses.smooth)
        if senses.taught is not None:
            hits += senses.taught.update(t, senses.smooth)
        for hit in hits:
            events += self._gesture(t, visitor, hit, senses)
        if self.config.engagement.enabled:
            spot = spot_of(raw)  # metric distance, when the sources measured it
            distance_m = spot.distance_m if spot is not None else None
            for level in senses.engagement.update(t, senses.smooth, distance_m).events:
                data = {"visitor": visitor, "score": round(senses.engagement.score, 3)}
                events.append(Event(t, "engagement", level, data))
                others_engaged = self.several and any(
                    s.engaged for s in self.followed.values() if s is not senses
                )
                senses.engaged = level == "high"
                if others_engaged:
                    continue  # "several": the show's level follows the most engaged visitor
                self._show_engaged = level == "high"
                events += self.show.handle(t, f"engagement.{level}", self.context(t, visitor))
        return events

    def _gesture(
        self, t: float, visitor: int, hit: GestureHit, senses: VisitorSenses
    ) -> list[Event]:
        data: dict[str, object] = {"visitor": visitor, "score": round(hit.score, 3)}
        if hit.side is not None:
            data["side"] = hit.side
        senses.engagement.gesture(t)
        events = [Event(t, "gesture", hit.name, data)]
        return events + self.show.handle(t, f"gesture.{hit.name}", self.context(t, visitor))

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
        new._arrived_s = dict(self._arrived_s)
        new.last_t_s = self.last_t_s
        same_zones = self.zones is not None and config.zones == self.config.zones
        if same_zones and new.zones is not None:
            new.zones = self.zones  # who is inside stays inside
            new._placed = dict(self._placed)
        if self.show.started and self.show.state in config.show.states:
            new.show.started = True
            new.show.state = self.show.state
            new.show.entered_at_s = self.show.entered_at_s
        return new

    def shutdown(self) -> list[Event]:
        """The config's shutdown cues, stamped with the last frame's time."""
        return self.show.shutdown(self.last_t_s)
