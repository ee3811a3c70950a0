"""One way to say where frames come from: a recording, a camera, a video or an image folder.

The command line, the demo, the gesture tools and the evaluation all accept the same kinds of
input; this is the one place that turns such a spec into ``Frame`` objects, so they agree on what
a spec means.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack

from exhibit.config.schema import CameraConfig, PoseConfig
from exhibit.skeleton import Frame


def open_frames(
    spec: str,
    stack: ExitStack,
    *,
    camera: CameraConfig | None = None,
    pose: PoseConfig | None = None,
    stop_hooks: list[Callable[[], None]] | None = None,
    report: bool = True,
    gate: Callable[[float], bool] | None = None,
    tick_s: float | None = None,
) -> Iterator[Frame]:
    """Frames from a recording (``.jsonl``), or from a camera (index or ``/dev/video*``), video
    file or image folder through MediaPipe.

    Whatever is opened is closed by ``stack``. A live source's ``request_stop`` is appended to
    ``stop_hooks`` (a signal handler calls them, so a camera that was unplugged does not hold the
    process). With ``report``, the pose source's statistics (frames, poses found, dropped frames,
    inference time) go to stderr when the stack closes. ``gate`` and ``tick_s``: see
    :class:`~exhibit.sources.pose_source.PoseFrameSource`.
    """
    if spec.endswith(".jsonl"):
        from exhibit.recording.reader import read_recording

        return read_recording(spec).frames()
    from exhibit.sources.images import open_image_source
    from exhibit.sources.pose import PoseEstimator
    from exhibit.sources.pose_source import PoseFrameSource

    images = open_image_source(spec, camera or CameraConfig())
    stack.callback(images.close)
    if stop_hooks is not None:
        stop_hooks.append(images.request_stop)
    estimator = stack.enter_context(PoseEstimator(pose or PoseConfig()))
    source = PoseFrameSource(images, estimator, gate=gate, tick_s=tick_s)
    if report:
        stack.callback(lambda: print(source.stats_line(), file=sys.stderr))
    return iter(source)
