"""Receiver profiles: what the show's usual OSC receivers listen on, and how to address them.

A profile gives a receiver's default port (where its maker documents one), the transports it
accepts, the TCP framing it reads, whether we can read its replies, and cue builders that spell
its addresses correctly. Each fact is cited in ``docs/osc.md``. Receivers whose addresses are
the designer's own (TouchDesigner, MadMapper, ossia score, sclang) get ``message``.

Example:
    >>> QLab("sound").start("12")
    Cue(target='sound', address='/cue/12/start', args=(), name='qlab start 12')
    >>> Resolume("video").clip(layer=2, clip=3).address
    '/composition/layers/2/clips/3/connect'
    >>> make_cue("scsynth", "synth", "s_new", "ping", -1, 0, 1, {"freq": 440.0}).args
    ('ping', -1, 0, 1, 'freq', 440.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exhibit.config.checker import suggest
from exhibit.cues.osc.encode import validate_address
from exhibit.cues.osc.framing import Framing
from exhibit.errors import CueError
from exhibit.events import Cue, OscArg


@dataclass(frozen=True)
class Profile:
    """What one kind of receiver expects (see ``docs/osc.md`` for the sources).

    ``default_port`` is ``None`` where the receiver has no documented default (the URL must
    name the port). ``protocols`` are the transports its maker documents; ``framing`` is what
    it reads on TCP. ``replies``: we can read its replies (``reply_port`` is where it sends UDP
    replies by default). ``passcode``: it accepts a ``/connect`` passcode.
    """

    name: str
    title: str
    default_port: int | None
    protocols: tuple[str, ...] = ("udp",)
    framing: Framing = "slip"
    replies: bool = False
    reply_port: int | None = None
    passcode: bool = False
    docs: str = ""


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            "qlab",
            "QLab (Figure 53)",
            53000,
            ("udp", "tcp"),
            "slip",
            replies=True,
            reply_port=53001,
            passcode=True,
            docs="https://qlab.app/docs/v5/scripting/osc-dictionary-v5/",
        ),
        Profile(
            "resolume",
            "Resolume Arena / Avenue",
            7000,
            docs="https://resolume.com/support/en/osc",
        ),
        Profile(
            "touchdesigner",
            "TouchDesigner (OSC In CHOP / OSC In DAT)",
            None,
            docs="https://derivative.ca/UserGuide/OSC_In_CHOP",
        ),
        Profile("madmapper", "MadMapper", None, docs="https://madmapper.com/"),
        Profile(
            "millumin",
            "Millumin",
            5000,
            docs="https://github.com/anome/millumin-dev-kit/wiki/OSC-documentation",
        ),
        Profile(
            "ossia",
            "ossia score",
            None,
            docs="https://ossia.io/score-docs/devices/osc-device.html",
        ),
        Profile(
            "sclang",
            "SuperCollider language (sclang)",
            57120,
            docs="https://manpages.ubuntu.com/manpages/noble/man1/sclang.1.html",
        ),
        Profile(
            "scsynth",
            "SuperCollider server (scsynth)",
            57110,
            ("udp", "tcp"),
            "length",
            docs="https://docs.supercollider.online/Reference/Server-Command-Reference.html",
        ),
    )
}
"""Every profile by its config name (``profile = "qlab"``)."""


def _segment(value: object, what: str) -> str:
    """``value`` as one address segment (a cue number, a layer name): no '/' and no space."""
    text = str(value)
    if isinstance(value, bool) or not text or "/" in text or " " in text:
        raise CueError(f"{what} {value!r} cannot be one OSC address segment (no '/' or spaces)")
    validate_address("/" + text)
    return text


def _index(value: object, what: str) -> int:
    """``value`` as a 1-based index (Resolume layers, clips and columns count from 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CueError(f"{what} must be an integer >= 1 (got {value!r})")
    return value


class _Builder:
    """Cues for one named target."""

    prefix = ""

    def __init__(self, target: str) -> None:
        self.target = target

    def _cue(self, address: str, args: tuple[OscArg, ...] = (), name: str = "") -> Cue:
        validate_address(address)
        return Cue(self.target, address, args, name)

    def message(self, address: str, *args: OscArg) -> Cue:
        """Any message, for addresses this profile has no builder for."""
        return self._cue(address, tuple(args), f"{self.prefix} {address}".strip())


class Generic(_Builder):
    """Receivers whose addresses are the designer's (TouchDesigner, MadMapper, ossia, sclang).

    Example:
        >>> Generic("td").message("/exhibit/scene", 2).address
        '/exhibit/scene'
    """


class QLab(_Builder):
    """QLab's OSC dictionary: workspace commands and cue commands by cue number.

    ``workspace`` (a workspace name or unique ID) prefixes every address with
    ``/workspace/{id}``; without it QLab applies the message to every open workspace listening.

    Example:
        >>> QLab("sound", workspace="exhibit").go().address
        '/workspace/exhibit/go'
    """

    prefix = "qlab"

    def __init__(self, target: str, workspace: str | None = None) -> None:
        super().__init__(target)
        self._root = f"/workspace/{_segment(workspace, 'workspace')}" if workspace else ""

    def _workspace(self, command: str, *args: OscArg) -> Cue:
        return self._cue(f"{self._root}/{command}", tuple(args), f"qlab {command}")

    def _cue_command(self, cue_number: object, command: str) -> Cue:
        number = _segment(cue_number, "QLab cue number")
        return self._cue(f"{self._root}/cue/{number}/{command}", (), f"qlab {command} {number}")

    def go(self) -> Cue:
        """``/go``: the GO button."""
        return self._workspace("go")

    def stop(self) -> Cue:
        """``/stop``: stop every cue."""
        return self._workspace("stop")

    def panic(self) -> Cue:
        """``/panic``: fade out and stop everything."""
        return self._workspace("panic")

    def pause(self) -> Cue:
        """``/pause``: pause every running cue."""
        return self._workspace("pause")

    def resume(self) -> Cue:
        """``/resume``: resume every paused cue."""
        return self._workspace("resume")

    def reset(self) -> Cue:
        """``/reset``: stop everything and reset the workspace."""
        return self._workspace("reset")

    def start(self, cue_number: object) -> Cue:
        """``/cue/{number}/start``: start that cue."""
        return self._cue_command(cue_number, "start")

    def stop_cue(self, cue_number: object) -> Cue:
        """``/cue/{number}/stop``: stop that cue."""
        return self._cue_command(cue_number, "stop")

    def load(self, cue_number: object) -> Cue:
        """``/cue/{number}/load``: preload that cue."""
        return self._cue_command(cue_number, "load")

    def connect(self, passcode: str | None = None) -> Cue:
        """``/connect [passcode]``: required before control when the workspace has a passcode."""
        return self._workspace("connect", *((passcode,) if passcode else ()))

    def always_reply(self, on: bool = True) -> Cue:
        """``/alwaysReply 1``: reply to every message, not only to those that ask for data."""
        return self._workspace("alwaysReply", 1 if on else 0)


class Resolume(_Builder):
    """Resolume Arena/Avenue composition addresses (layers, clips, columns count from 1).

    A trigger is sent with the int argument 1, as a button press.
    """

    prefix = "resolume"

    def clip(self, layer: int, clip: int) -> Cue:
        """``/composition/layers/{layer}/clips/{clip}/connect 1``: play that clip."""
        address = f"/composition/layers/{_index(layer, 'layer')}/clips/{_index(clip, 'clip')}"
        return self._cue(address + "/connect", (1,), f"resolume clip {layer}/{clip}")

    def column(self, column: int) -> Cue:
        """``/composition/columns/{n}/connect 1``: play that whole column."""
        address = f"/composition/columns/{_index(column, 'column')}/connect"
        return self._cue(address, (1,), f"resolume column {column}")

    def clear_layer(self, layer: int) -> tuple[Cue, Cue]:
        """``/composition/layers/{layer}/clear`` 1 then 0 (press and release); send them as one
        bundle with ``OscSender.send_bundle``."""
        address = f"/composition/layers/{_index(layer, 'layer')}/clear"
        name = f"resolume clear {layer}"
        return self._cue(address, (1,), name), self._cue(address, (0,), name)

    def disconnect_all(self) -> Cue:
        """``/composition/disconnectall 1``: stop every clip."""
        return self._cue("/composition/disconnectall", (1,), "resolume disconnect all")

    def opacity(self, layer: int, value: float) -> Cue:
        """``/composition/layers/{layer}/video/opacity`` 0.0..1.0."""
        if not 0.0 <= float(value) <= 1.0:
            raise CueError(f"Resolume opacity must be 0.0..1.0 (got {value!r})")
        address = f"/composition/layers/{_index(layer, 'layer')}/video/opacity"
        return self._cue(address, (float(value),), f"resolume opacity {layer}")


class Millumin(_Builder):
    """Millumin's ``/millumin/action/...`` commands (Millumin V5 dictionary)."""

    prefix = "millumin"

    def _action(self, action: str, *args: OscArg) -> Cue:
        return self._cue(f"/millumin/action/{action}", tuple(args), f"millumin {action}")

    def launch_column(self, column: int | str) -> Cue:
        """``/millumin/action/launchColumn`` with the column's index (from 1) or name."""
        if isinstance(column, bool) or not isinstance(column, int | str) or column in ("", 0):
            raise CueError(f"Millumin column must be an index >= 1 or a name (got {column!r})")
        return self._action("launchColumn", column)

    def stop_column(self) -> Cue:
        """``/millumin/action/stopColumn``."""
        return self._action("stopColumn")

    def next_column(self) -> Cue:
        """``/millumin/action/launchNextColumn``."""
        return self._action("launchNextColumn")

    def previous_column(self) -> Cue:
        """``/millumin/action/launchPreviousColumn``."""
        return self._action("launchPreviousColumn")

    def play_timeline(self) -> Cue:
        """``/millumin/action/playTimeline``."""
        return self._action("playTimeline")

    def pause_timeline(self) -> Cue:
        """``/millumin/action/pauseTimeline``."""
        return self._action("pauseTimeline")

    def opacity(self, layer: str, value: float) -> Cue:
        """``/millumin/{layer}/opacity`` 0.0..1.0 for the layer of that name."""
        if not 0.0 <= float(value) <= 1.0:
            raise CueError(f"Millumin opacity must be 0.0..1.0 (got {value!r})")
        name = _segment(layer, "Millumin layer name")
        return self._cue(f"/millumin/{name}/opacity", (float(value),), f"millumin opacity {name}")


class Scsynth(_Builder):
    """SuperCollider server commands (Server Command Reference)."""

    prefix = "scsynth"

    @staticmethod
    def _controls(controls: Mapping[str, float] | None) -> tuple[OscArg, ...]:
        flat: list[OscArg] = []
        for key, value in (controls or {}).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise CueError(f"scsynth control {key!r} must be a number (got {value!r})")
            flat += [str(key), float(value)]
        return tuple(flat)

    def s_new(
        self,
        def_name: str,
        node_id: int = -1,
        add_action: int = 0,
        target_id: int = 1,
        controls: Mapping[str, float] | None = None,
    ) -> Cue:
        """``/s_new defName nodeID addAction targetID [name value ...]``: start a synth.

        ``node_id = -1`` lets the server choose; ``add_action`` 0..4 (0: head of the target
        group); ``target_id = 1`` is the default group.
        """
        if not isinstance(def_name, str) or not def_name:
            raise CueError(f"scsynth SynthDef name must be a non-empty string (got {def_name!r})")
        if add_action not in (0, 1, 2, 3, 4) or isinstance(add_action, bool):
            raise CueError(f"scsynth add action must be 0..4 (got {add_action!r})")
        args = (def_name, int(node_id), int(add_action), int(target_id))
        return self._cue("/s_new", args + self._controls(controls), f"scsynth s_new {def_name}")

    def n_set(self, node_id: int, controls: Mapping[str, float]) -> Cue:
        """``/n_set nodeID name value ...``: change a running node's controls."""
        return self._cue("/n_set", (int(node_id), *self._controls(controls)), "scsynth n_set")

    def n_free(self, *node_ids: int) -> Cue:
        """``/n_free nodeID ...``: free nodes."""
        if not node_ids:
            raise CueError("scsynth n_free needs at least one node ID")
        return self._cue("/n_free", tuple(int(n) for n in node_ids), "scsynth n_free")


BUILDERS: dict[str, type[_Builder]] = {
    "qlab": QLab,
    "resolume": Resolume,
    "touchdesigner": Generic,
    "madmapper": Generic,
    "millumin": Millumin,
    "ossia": Generic,
    "sclang": Generic,
    "scsynth": Scsynth,
}
"""The cue builder class of each profile."""


def actions(profile: str) -> tuple[str, ...]:
    """The action names ``make_cue`` accepts for ``profile`` (its builder's public methods)."""
    builder = BUILDERS.get(profile)
    if builder is None:
        return ()
    return tuple(sorted(n for n in dir(builder) if not n.startswith("_") and n not in ("prefix",)))


def make_cue(profile: str, target: str, action: str, *args: Any) -> Cue:
    """The cue for ``action`` of ``profile`` (e.g. ``make_cue("qlab", "sound", "start", "12")``).

    Raises ``CueError`` naming the closest profile or action for a typo, and for bad arguments.
    A builder that returns several cues (``clear_layer``) is refused here: use the builder.
    """
    builder = BUILDERS.get(profile)
    if builder is None:
        hint = suggest(profile, BUILDERS)
        raise CueError(
            f"unknown OSC profile {profile!r}; expected one of {', '.join(sorted(BUILDERS))}"
            + (f"; did you mean {hint!r}?" if hint else "")
        )
    known = actions(profile)
    if action not in known:
        hint = suggest(action, known)
        raise CueError(
            f"profile {profile!r} has no action {action!r}; expected one of {', '.join(known)}"
            + (f"; did you mean {hint!r}?" if hint else "")
        )
    try:
        result = getattr(builder(target), action)(*args)
    except TypeError as exc:
        raise CueError(f"{profile} {action}: {exc}") from exc
    if not isinstance(result, Cue):
        raise CueError(f"{profile} {action} makes several cues; call the builder instead")
    return result
