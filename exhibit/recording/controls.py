"""Control commands in recordings: what another controller did to a live exhibit, and the
configs it reloaded, kept with the frames so that a replay gives the very same events.

A running exhibit takes commands between frames (``/exhibit/goto``, ``reset``, ``pause``,
``resume`` over OSC, and the remote commands of ``[telemetry]``) and swaps in a new config when
the file changes or on SIGHUP. None of that is in the camera's frames, so a recording of the
frames alone would replay to other events. With ``exhibit run --record`` each command is
written on the frame it was applied before (format version 3, docs/recording-format.md), as a
:class:`ControlRecord`:

- a command: ``kind`` (``goto``, ``reset``, ``pause``, ``resume``...) and ``arg`` (goto's state);
- a config swap: kind ``config`` with ``toml``, the whole text of the config that was swapped
  in, so the recording replays without the file it came from (file paths in it, such as
  sounds, are taken relative to the replay's config).

A frame that carries commands is a :class:`CommandedFrame` (a ``Frame`` with ``controls``): the
rest of the system sees an ordinary frame. :func:`apply_controls` is the one way both a live
run and a replay apply them, so the two cannot drift apart; :class:`RecordedControls` is the
``between`` hook of a replay.

Example:
    >>> from exhibit.skeleton import Frame
    >>> frame = with_controls(Frame(1.0, 30, 640, 480), [ControlRecord("goto", "welcome")])
    >>> controls_of(frame)
    (ControlRecord(kind='goto', arg='welcome', toml=None),)
    >>> controls_of(Frame(1.0, 30, 640, 480))
    ()
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from exhibit.errors import RecordingError
from exhibit.events import Event
from exhibit.skeleton import Frame

if TYPE_CHECKING:
    from exhibit.config.schema import Config
    from exhibit.pipeline import Pipeline

CONFIG_KIND = "config"
"""The kind of a config swap (hot reload); every other kind is a command for the show."""

MAX_ARG_CHARS = 256


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """One command applied between two frames, or a config swapped in (``kind = "config"``
    with the config file's text in ``toml``). ``loaded`` is the live run's already validated
    config for that text (not written; a replay loads ``toml`` again).

    Example:
        >>> ControlRecord("pause").arg is None
        True
    """

    kind: str
    arg: str | None = None
    toml: str | None = None
    loaded: Config | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CommandedFrame(Frame):
    """A frame with the control records applied just before it was processed, in order.

    Example:
        >>> CommandedFrame(0.5, 15, 640, 480, controls=(ControlRecord("reset"),)).controls[0].kind
        'reset'
    """

    controls: tuple[ControlRecord, ...] = ()


def controls_of(frame: Frame) -> tuple[ControlRecord, ...]:
    """The control records a frame carries (none for an ordinary frame)."""
    return frame.controls if isinstance(frame, CommandedFrame) else ()


def with_controls(frame: Frame, controls: Sequence[ControlRecord]) -> Frame:
    """``frame`` carrying ``controls`` after those it already carries (``frame`` itself when
    there are none)."""
    if not controls:
        return frame
    return CommandedFrame(
        frame.t_s,
        frame.index,
        frame.width_px,
        frame.height_px,
        frame.skeletons,
        frame.sensors,
        frame.pose_ran,
        frame.camera_ok,
        controls=controls_of(frame) + tuple(controls),
    )


# -- wire form (one entry of a frame's "control" list) -----------------------------------------


def encode_control(record: ControlRecord) -> dict[str, Any]:
    """``{"k": kind}`` plus ``"a"`` (the argument) or ``"toml"`` (a config's text)."""
    obj: dict[str, Any] = {"k": record.kind}
    if record.arg is not None:
        obj["a"] = record.arg
    if record.toml is not None:
        obj["toml"] = record.toml
    return obj


def _fail(reason: str) -> NoReturn:
    raise ValueError(reason)


def decode_control(obj: object) -> ControlRecord:
    """Check one entry of a frame's ``control`` list; ``ValueError`` says what is wrong."""
    if not isinstance(obj, dict):
        _fail(f'must be an object such as {{"k": "reset"}}, got {type(obj).__name__}')
    unknown = sorted(obj.keys() - {"k", "a", "toml"})
    if unknown:
        _fail(f"unknown key {', '.join(repr(k) for k in unknown)} (expected k, a, toml)")
    kind = obj.get("k")
    if not isinstance(kind, str) or not kind:
        _fail(f"k must be the command's name (goto, reset, pause, resume, config), got {kind!r}")
    arg = obj.get("a")
    if arg is not None and (not isinstance(arg, str) or len(arg) > MAX_ARG_CHARS):
        _fail(f"a must be a string of at most {MAX_ARG_CHARS} characters, got {arg!r:.80}")
    toml = obj.get("toml")
    if kind == CONFIG_KIND:
        if not isinstance(toml, str):
            _fail(f"a config entry needs toml, the config file's text, got {toml!r:.80}")
    elif toml is not None:
        _fail(f"toml belongs to a config entry, not to {kind!r}")
    return ControlRecord(kind, arg, toml)


# -- applying them ---------------------------------------------------------------------------


def recorded_config(record: ControlRecord, base_dir: str | Path) -> Config:
    """The config a ``config`` record swapped in: the live run's own, or loaded again from its
    text with paths relative to ``base_dir``; ``RecordingError`` if it does not load here."""
    if record.loaded is not None:
        return record.loaded
    from exhibit.config.load import loads
    from exhibit.errors import ConfigError, ConfigSyntaxError

    try:
        return loads(record.toml or "", source="config in the recording", base_dir=base_dir)
    except (ConfigError, ConfigSyntaxError) as exc:
        raise RecordingError(
            f"the config the recording swapped in does not load here (files are taken "
            f"relative to {base_dir}):\n{exc}"
        ) from exc


def apply_controls(
    pipeline: Pipeline, controls: Iterable[ControlRecord], base_dir: str | Path = "."
) -> tuple[Pipeline, list[Event]]:
    """Apply ``controls`` in order, between frames: commands through ``Pipeline.control``,
    configs through ``Pipeline.reconfigured``. Returns the pipeline to go on with and the
    events (the commands' ``control`` events and what the show did)."""
    events: list[Event] = []
    for record in controls:
        if record.kind == CONFIG_KIND:
            pipeline = pipeline.reconfigured(recorded_config(record, base_dir))
        else:
            events += pipeline.control(record.kind, record.arg)
    return pipeline, events


class RecordedControls:
    """The ``between`` hook of a replay: applies the commands a recording holds before the
    frame they were applied before in the live run.

    Why a pair (``frames`` and the call): ``run_frames`` takes a frame, then calls ``between``,
    then steps the frame; ``frames`` notes each frame's records as it passes, the call applies
    them. ``base_dir``: where a recorded config's files (sounds, media) are looked for.

    Example:
        >>> from exhibit.config.load import loads
        >>> from exhibit.pipeline import Pipeline
        >>> from exhibit.runtime import run_frames
        >>> config = loads('[show]\\ninitial = "a"\\n[show.states.a]\\n[show.states.b]\\n')
        >>> replay = RecordedControls()
        >>> first, second = Frame(0.0, 0, 640, 480), Frame(0.1, 1, 640, 480)
        >>> frames = [first, with_controls(second, [ControlRecord("goto", "b")])]
        >>> pipeline = Pipeline(config)
        >>> _ = run_frames(replay.frames(frames), pipeline, [], between=replay)
        >>> replay.applied, pipeline.show.state
        (1, 'b')
    """

    def __init__(self, base_dir: str | Path = ".") -> None:
        self.base_dir = base_dir
        self.applied = 0
        self._pending: tuple[ControlRecord, ...] = ()

    def frames(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        for frame in frames:
            self._pending = controls_of(frame)
            yield frame

    def __call__(self, pipeline: Pipeline) -> tuple[Pipeline, list[Event]]:
        pending, self._pending = self._pending, ()
        self.applied += len(pending)
        return apply_controls(pipeline, pending, self.base_dir)
