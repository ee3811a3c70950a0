"""How the project's synthetic body is seen in the gesture tests: a ``View`` is one camera's
take on a visitor (size, place, turn, frame rate, tracker noise and dropouts), drawn by
hypothesis and rendered with ``exhibit.synth``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exhibit.skeleton import Frame
from exhibit.synth.body import BodyShape
from exhibit.synth.script import Segment, idle_motion, render, sequence


@dataclass(frozen=True)
class View:
    """How the body is seen: size, place, turn, camera timing and tracker quality."""

    height_m: float
    distance_m: float
    x_m: float
    yaw_rad: float
    fps: float
    noise_px: float
    jitter: float
    drops: tuple[float, ...]
    seed: int
    dropout: float = 0.0

    @property
    def where(self) -> dict[str, Any]:
        """Keyword arguments placing a motion."""
        return {"position_m": (self.x_m, self.distance_m), "yaw_rad": self.yaw_rad}

    def idle(self, duration_s: float = 1.0) -> Segment:
        return idle_motion(duration_s, **self.where)

    def frames(self, *segments: Segment) -> list[Frame]:
        """Render the segments; ``drops`` become isolated dropped frames (one-frame gaps) and
        ``dropout`` is the chance of each landmark having visibility ~0 in a frame."""
        seg = sequence(*segments)
        n = round(seg.duration_s * self.fps)
        dropped: set[int] = set()
        for d in self.drops:
            i = int(d * (n - 1))
            if not {i - 1, i, i + 1} & dropped:
                dropped.add(i)
        return render(
            seg,
            fps=self.fps,
            shape=BodyShape(self.height_m),
            seed=self.seed,
            noise_px=self.noise_px,
            jitter=self.jitter,
            landmark_dropout=self.dropout,
            dropped_frames=dropped,
        )
