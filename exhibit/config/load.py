"""Load and validate the designer's TOML config, completely, before anything starts.

Validation is a pipeline of steps (sections, then cross-references, then optional network
checks); every step adds to one list of problems, and only a config with none becomes a
``Config``. A typo in a state name fails here, at ``exhibit check``, never in front of a visitor.

Example:
    >>> cfg = loads('''
    ... [show]
    ... initial = "idle"
    ... [show.states.idle]
    ... ''')
    >>> cfg.show.initial
    'idle'
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from exhibit.config.checker import Checker, join, show, suggest
from exhibit.config.schema import (
    CameraConfig,
    Config,
    CueConfig,
    FilterConfig,
    GesturesConfig,
    HandsUpConfig,
    PoseConfig,
    PresenceConfig,
    ShowConfig,
    Side,
    StateConfig,
    StreamConfig,
    TargetConfig,
    TransitionConfig,
    WaveConfig,
)
from exhibit.cues.osc.url import parse_target_url, resolves
from exhibit.errors import ConfigError, ConfigSyntaxError
from exhibit.skeleton import LANDMARK_NAMES

TOP_LEVEL_KEYS = (
    "exhibit",
    "camera",
    "pose",
    "filter",
    "presence",
    "gestures",
    "targets",
    "cues",
    "stream",
    "show",
)
PRESENCE_EVENTS = ("presence.enter", "presence.leave")


def load(path: str | Path, *, resolve_hosts: bool = False) -> Config:
    """Read, parse and validate a config file.

    Raises ConfigSyntaxError when the file cannot be read or parsed (with line and column), and
    ConfigError with every problem found otherwise.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigSyntaxError(f"{file}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigSyntaxError(f"{file}: cannot be read ({exc})") from exc
    return loads(text, source=str(file), resolve_hosts=resolve_hosts)


def loads(text: str, *, source: str = "config", resolve_hosts: bool = False) -> Config:
    """Parse and validate config text; see :func:`load`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigSyntaxError(f"{source}: not valid TOML: {exc}") from exc
    checker = Checker()
    config = _build(raw, checker)
    if resolve_hosts and config is not None:
        _check_hosts(config, checker)
    if checker.problems or config is None:
        raise ConfigError(checker.problems, source)
    return config


def _build(raw: dict[str, Any], c: Checker) -> Config | None:
    c.unknown_keys(raw, "", TOP_LEVEL_KEYS)
    exhibit = c.table(raw, "", "exhibit")
    name = c.string(exhibit, "exhibit", "name", "exhibit") or "exhibit"
    c.unknown_keys(exhibit, "exhibit", ("name",))

    camera = _camera(c.table(raw, "", "camera"), c)
    pose = _pose(c.table(raw, "", "pose"), c)
    filt = _filter(c.table(raw, "", "filter"), c)
    presence = _presence(c.table(raw, "", "presence"), c)
    gestures = _gestures(c.table(raw, "", "gestures"), c)
    targets = _targets(c.table(raw, "", "targets"), c)
    cues = _named_cues(c.table(raw, "", "cues"), c, targets)
    stream = _stream(c.table(raw, "", "stream"), c, targets)
    show_cfg = _show(raw, c, targets, cues, gestures)
    if show_cfg is None:
        return None
    return Config(
        name=name,
        show=show_cfg,
        camera=camera,
        pose=pose,
        filter=filt,
        presence=presence,
        gestures=gestures,
        targets=targets,
        cues=cues,
        stream=stream,
    )


def _camera(t: dict[str, Any], c: Checker) -> CameraConfig:
    d = CameraConfig()
    device: int | str = d.device
    if "device" in t:
        value = t["device"]
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            c.error(
                "camera.device", "not a camera", value, 'an index (0) or a path ("/dev/video0")'
            )
        elif isinstance(value, int) and value < 0:
            c.error("camera.device", "out of range", value, "an index >= 0")
        else:
            device = value
    cfg = CameraConfig(
        device=device,
        width_px=c.integer(t, "camera", "width_px", d.width_px, minimum=16, maximum=7680),
        height_px=c.integer(t, "camera", "height_px", d.height_px, minimum=16, maximum=4320),
        fps=c.number(t, "camera", "fps", d.fps, minimum=1, maximum=240, unit="frames per second"),
    )
    c.unknown_keys(t, "camera", ("device", "width_px", "height_px", "fps"))
    return cfg


def _pose(t: dict[str, Any], c: Checker) -> PoseConfig:
    d = PoseConfig()
    complexity = c.integer(t, "pose", "model_complexity", d.model_complexity, minimum=0, maximum=2)
    if complexity != 1:
        c.error(
            "pose.model_complexity",
            "this model is not bundled with mediapipe 0.10.18 and would be downloaded at run "
            "time, which an offline exhibit cannot do",
            complexity,
            "1",
        )
        complexity = 1
    cfg = PoseConfig(
        model_complexity=complexity,
        min_detection_confidence=c.number(
            t, "pose", "min_detection_confidence", d.min_detection_confidence, minimum=0, maximum=1
        ),
        min_tracking_confidence=c.number(
            t, "pose", "min_tracking_confidence", d.min_tracking_confidence, minimum=0, maximum=1
        ),
    )
    c.unknown_keys(
        t, "pose", ("model_complexity", "min_detection_confidence", "min_tracking_confidence")
    )
    return cfg


def _filter(t: dict[str, Any], c: Checker) -> FilterConfig:
    d = FilterConfig()
    p = "filter"
    cfg = FilterConfig(
        enabled=c.boolean(t, p, "enabled", d.enabled),
        min_cutoff_hz=c.number(
            t, p, "min_cutoff_hz", d.min_cutoff_hz, minimum=0, exclusive_minimum=True, unit="hertz"
        ),
        beta=c.number(t, p, "beta", d.beta, minimum=0),
        d_cutoff_hz=c.number(
            t, p, "d_cutoff_hz", d.d_cutoff_hz, minimum=0, exclusive_minimum=True, unit="hertz"
        ),
        reset_after_s=c.number(
            t,
            p,
            "reset_after_s",
            d.reset_after_s,
            minimum=0,
            exclusive_minimum=True,
            unit="seconds",
        ),
    )
    c.unknown_keys(t, p, ("enabled", "min_cutoff_hz", "beta", "d_cutoff_hz", "reset_after_s"))
    return cfg


def _presence(t: dict[str, Any], c: Checker) -> PresenceConfig:
    d = PresenceConfig()
    p = "presence"
    area = d.area
    if "area" in t:
        value = t["area"]
        ok = (
            isinstance(value, list)
            and len(value) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        )
        if not ok:
            c.error(f"{p}.area", "not a rectangle", value, "[x_min, y_min, x_max, y_max] in 0..1")
        else:
            x0, y0, x1, y1 = (float(v) for v in value)
            if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
                c.error(
                    f"{p}.area",
                    "not a rectangle inside the image",
                    value,
                    "0 <= x_min < x_max <= 1 and 0 <= y_min < y_max <= 1",
                )
            else:
                area = (x0, y0, x1, y1)
    cfg = PresenceConfig(
        area=area,
        enter_after_s=c.number(t, p, "enter_after_s", d.enter_after_s, minimum=0, unit="seconds"),
        leave_after_s=c.number(t, p, "leave_after_s", d.leave_after_s, minimum=0, unit="seconds"),
        min_visibility=c.number(t, p, "min_visibility", d.min_visibility, minimum=0, maximum=1),
    )
    c.unknown_keys(t, p, ("area", "enter_after_s", "leave_after_s", "min_visibility"))
    return cfg


def _gestures(t: dict[str, Any], c: Checker) -> GesturesConfig:
    c.unknown_keys(t, "gestures", ("wave", "hands_up"))
    w = c.table(t, "gestures", "wave")
    p = "gestures.wave"
    dw = WaveConfig()
    wave = WaveConfig(
        enabled=c.boolean(w, p, "enabled", dw.enabled),
        hand=cast(Side, c.choice(w, p, "hand", dw.hand, ("left", "right", "either"))),
        min_swings=c.integer(w, p, "min_swings", dw.min_swings, minimum=2, maximum=20),
        min_amplitude=c.number(
            w,
            p,
            "min_amplitude",
            dw.min_amplitude,
            minimum=0,
            exclusive_minimum=True,
            unit="shoulder widths",
        ),
        window_s=c.number(
            w, p, "window_s", dw.window_s, minimum=0, exclusive_minimum=True, unit="seconds"
        ),
        refractory_s=c.number(w, p, "refractory_s", dw.refractory_s, minimum=0, unit="seconds"),
    )
    c.unknown_keys(
        w, p, ("enabled", "hand", "min_swings", "min_amplitude", "window_s", "refractory_s")
    )
    h = c.table(t, "gestures", "hands_up")
    p = "gestures.hands_up"
    dh = HandsUpConfig()
    hands_up = HandsUpConfig(
        enabled=c.boolean(h, p, "enabled", dh.enabled),
        hold_s=c.number(h, p, "hold_s", dh.hold_s, minimum=0, unit="seconds"),
        margin=c.number(h, p, "margin", dh.margin, minimum=-2, maximum=2, unit="shoulder widths"),
        refractory_s=c.number(h, p, "refractory_s", dh.refractory_s, minimum=0, unit="seconds"),
    )
    c.unknown_keys(h, p, ("enabled", "hold_s", "margin", "refractory_s"))
    return GesturesConfig(wave=wave, hands_up=hands_up)


def _targets(t: dict[str, Any], c: Checker) -> dict[str, TargetConfig]:
    targets: dict[str, TargetConfig] = {}
    for name, value in t.items():
        path = join("targets", name)
        if isinstance(value, str):
            value = {"url": value}
        if not isinstance(value, dict):
            c.error(path, "not a target", value, 'a table with url = "udp://host:port"')
            continue
        url = c.string(value, path, "url")
        c.unknown_keys(value, path, ("url",))
        if url is None:
            continue
        try:
            protocol, host, port = parse_target_url(url)
        except ValueError as exc:
            c.error(
                join(path, "url"), str(exc), url, '"udp://host:port", e.g. "udp://127.0.0.1:9000"'
            )
            continue
        targets[name] = TargetConfig(name=name, url=url, host=host, port=port, protocol="udp")
        del protocol
    return targets


def _check_target_name(
    c: Checker, where: str, target: Any, targets: Mapping[str, TargetConfig]
) -> bool:
    if not isinstance(target, str) or target not in targets:
        hint = suggest(target, targets) if isinstance(target, str) else None
        known = ", ".join(f'"{n}"' for n in sorted(targets)) or "none defined in [targets]"
        c.error(where, "unknown target", target, f"one of {known}", f'"{hint}"' if hint else None)
        return False
    return True


def _cue_table(
    value: dict[str, Any], path: str, name: str, c: Checker, targets: Mapping[str, TargetConfig]
) -> CueConfig | None:
    target = value.get("target")
    if "target" not in value:
        c.error(
            join(path, "target"),
            "missing",
            show_got=False,
            expected="the name of a [targets] entry",
        )
    address = c.string(value, path, "address")
    args_raw = value.get("args", [])
    args: list[int | float | str | bool] = []
    if not isinstance(args_raw, list):
        c.error(
            join(path, "args"), "not an array", args_raw, 'an array such as [1, 0.5, "text", true]'
        )
    else:
        for i, arg in enumerate(args_raw):
            if isinstance(arg, bool | int | float | str):
                if (
                    isinstance(arg, int)
                    and not isinstance(arg, bool)
                    and not -(2**31) <= arg < 2**31
                ):
                    c.error(
                        join(join(path, "args"), i),
                        "integer too large for OSC",
                        arg,
                        "a 32-bit integer",
                    )
                args.append(arg)
            else:
                c.error(
                    join(join(path, "args"), i),
                    "not an OSC argument",
                    arg,
                    "an integer, float, string or boolean",
                )
    c.unknown_keys(value, path, ("target", "address", "args"))
    ok = "target" in value and _check_target_name(c, join(path, "target"), target, targets)
    if address is not None and not address.startswith("/"):
        c.error(
            join(path, "address"), "not an OSC address", address, 'an address starting with "/"'
        )
        ok = False
    if not ok or address is None or not isinstance(target, str):
        return None
    return CueConfig(name=name, target=target, address=address, args=tuple(args))


def _named_cues(
    t: dict[str, Any], c: Checker, targets: Mapping[str, TargetConfig]
) -> dict[str, CueConfig]:
    cues: dict[str, CueConfig] = {}
    for name, value in t.items():
        path = join("cues", name)
        if not isinstance(value, dict):
            c.error(path, "not a cue", value, "a table with target, address and args")
            continue
        cue = _cue_table(value, path, name, c, targets)
        if cue is not None:
            cues[name] = cue
    return cues


def _cue_list(
    raw: Any,
    path: str,
    c: Checker,
    targets: Mapping[str, TargetConfig],
    cues: Mapping[str, CueConfig],
) -> tuple[CueConfig, ...]:
    """A list of cue names (from [cues]) and inline cue tables."""
    if isinstance(raw, str | dict):
        raw = [raw]
    if not isinstance(raw, list):
        c.error(
            path,
            "not a list of cues",
            raw,
            'an array of cue names or inline tables, e.g. ["welcome_scene"]',
        )
        return ()
    result: list[CueConfig] = []
    for i, item in enumerate(raw):
        where = join(path, i)
        if isinstance(item, str):
            if item in cues:
                result.append(cues[item])
            else:
                hint = suggest(item, cues)
                known = ", ".join(f'"{n}"' for n in sorted(cues)) or "none defined in [cues]"
                c.error(
                    where, "unknown cue", item, f"one of {known}", f'"{hint}"' if hint else None
                )
        elif isinstance(item, dict):
            address = item.get("address")
            cue = _cue_table(item, where, address if isinstance(address, str) else "", c, targets)
            if cue is not None:
                result.append(cue)
        else:
            c.error(
                where, "not a cue", item, "a cue name or an inline table {target, address, args}"
            )
    return tuple(result)


def _stream(t: dict[str, Any], c: Checker, targets: Mapping[str, TargetConfig]) -> StreamConfig:
    d = StreamConfig()
    p = "stream"
    enabled = c.boolean(t, p, "enabled", bool(t))
    target = d.target
    if enabled:
        if "target" not in t:
            c.error(
                f"{p}.target", "missing", show_got=False, expected="the name of a [targets] entry"
            )
        elif _check_target_name(c, f"{p}.target", t["target"], targets):
            target = t["target"]
    joints = d.joints
    if "joints" in t:
        raw = t["joints"]
        if not isinstance(raw, list) or not raw:
            c.error(
                f"{p}.joints",
                "not a list of joints",
                raw,
                'an array of landmark names, e.g. ["nose", "left_wrist"]',
            )
        else:
            good: list[str] = []
            for i, joint in enumerate(raw):
                if isinstance(joint, str) and joint in LANDMARK_NAMES:
                    good.append(joint)
                else:
                    hint = suggest(joint, LANDMARK_NAMES) if isinstance(joint, str) else None
                    c.error(
                        join(f"{p}.joints", i),
                        "unknown joint",
                        joint,
                        "a MediaPipe landmark name such as nose, left_wrist, right_hip",
                        f'"{hint}"' if hint else None,
                    )
            joints = tuple(good)
    address = c.string(t, p, "address", d.address) or d.address
    if not address.startswith("/"):
        c.error(f"{p}.address", "not an OSC address", address, 'an address starting with "/"')
    else:
        try:
            address.format(joint="x")
        except (KeyError, IndexError, ValueError) as exc:
            c.error(
                f"{p}.address",
                f"bad template ({exc})",
                address,
                "a template whose only field is {joint}",
            )
    cfg = StreamConfig(
        enabled=enabled,
        target=target,
        rate_hz=c.number(
            t, p, "rate_hz", d.rate_hz, minimum=0, maximum=240, exclusive_minimum=True, unit="hertz"
        ),
        joints=joints,
        address=address,
    )
    c.unknown_keys(t, p, ("enabled", "target", "rate_hz", "joints", "address"))
    return cfg


def _event_names(gestures: GesturesConfig) -> list[str]:
    names = list(PRESENCE_EVENTS)
    if gestures.wave.enabled:
        names.append("gesture.wave")
    if gestures.hands_up.enabled:
        names.append("gesture.hands_up")
    return names


def _transitions(
    raw: Any, path: str, c: Checker, state_names: list[str], events: list[str]
) -> tuple[TransitionConfig, ...]:
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        c.error(
            path,
            "not a list of transitions",
            raw,
            'an array of tables such as { on = "gesture.wave", to = "explain" }',
        )
        return ()
    result: list[TransitionConfig] = []
    for i, item in enumerate(raw):
        where = join(path, i)
        if not isinstance(item, dict):
            c.error(
                where,
                "not a transition",
                item,
                'a table such as { on = "presence.leave", to = "attract" }',
            )
            continue
        c.unknown_keys(item, where, ("on", "after", "to"))
        to = item.get("to")
        ok = True
        if "to" not in item:
            c.error(join(where, "to"), "missing", show_got=False, expected="the name of a state")
            ok = False
        elif not isinstance(to, str) or to not in state_names:
            hint = suggest(to, state_names) if isinstance(to, str) else None
            c.error(
                join(where, "to"),
                "unknown state",
                to,
                "one of " + ", ".join(f'"{s}"' for s in state_names),
                f'"{hint}"' if hint else None,
            )
            ok = False
        on = item.get("on")
        after_s: float | None = None
        if "after" in item:
            after_s = c.duration(item["after"], join(where, "after"))
            ok = ok and after_s is not None
        if "on" in item and (not isinstance(on, str) or on not in events):
            hint = suggest(on, events) if isinstance(on, str) else None
            c.error(
                join(where, "on"),
                "unknown event",
                on,
                "one of " + ", ".join(f'"{e}"' for e in events),
                f'"{hint}"' if hint else None,
            )
            ok = False
        if ("on" in item) == ("after" in item):
            c.error(
                where,
                "needs exactly one of on or after",
                item,
                'on = "gesture.wave" or after = "30s"',
                show_got=False,
            )
            ok = False
        if ok and isinstance(to, str):
            result.append(
                TransitionConfig(to=to, on=on if isinstance(on, str) else None, after_s=after_s)
            )
    return tuple(result)


def _show(
    raw: dict[str, Any],
    c: Checker,
    targets: Mapping[str, TargetConfig],
    cues: Mapping[str, CueConfig],
    gestures: GesturesConfig,
) -> ShowConfig | None:
    if "show" not in raw:
        c.error(
            "show",
            "missing",
            show_got=False,
            expected='a [show] table with initial = "..." and [show.states.NAME] tables',
        )
        return None
    t = c.table(raw, "", "show")
    c.unknown_keys(t, "show", ("initial", "states", "any_state", "shutdown"))
    states_raw = c.table(t, "show", "states")
    state_names = list(states_raw)
    if not state_names:
        c.error(
            "show.states",
            "no states",
            show_got=False,
            expected="at least one [show.states.NAME] table",
        )
    initial = c.string(t, "show", "initial")
    if initial is not None and state_names and initial not in state_names:
        hint = suggest(initial, state_names)
        c.error(
            "show.initial",
            "unknown state",
            initial,
            "one of " + ", ".join(f'"{s}"' for s in state_names),
            f'"{hint}"' if hint else None,
        )
    events = _event_names(gestures)
    states: dict[str, StateConfig] = {}
    for name, value in states_raw.items():
        path = join("show.states", name)
        if not isinstance(value, dict):
            c.error(path, "not a state", value, "a table with on_enter, on_exit and transitions")
            continue
        c.unknown_keys(value, path, ("on_enter", "on_exit", "transitions"))
        states[name] = StateConfig(
            name=name,
            on_enter=_cue_list(value.get("on_enter", []), join(path, "on_enter"), c, targets, cues),
            on_exit=_cue_list(value.get("on_exit", []), join(path, "on_exit"), c, targets, cues),
            transitions=_transitions(
                value.get("transitions", []), join(path, "transitions"), c, state_names, events
            ),
        )
    any_state = _transitions(t.get("any_state", []), "show.any_state", c, state_names, events)
    for i, tr in enumerate(any_state):
        if tr.after_s is not None:
            c.error(
                join("show.any_state", i),
                "a timer cannot apply in every state",
                show(tr.after_s),
                'an event such as on = "presence.leave"',
                show_got=False,
            )
    shutdown = _cue_list(t.get("shutdown", []), "show.shutdown", c, targets, cues)
    if initial is None or initial not in states:
        return None
    return ShowConfig(initial=initial, states=states, any_state=any_state, shutdown=shutdown)


def _check_hosts(config: Config, c: Checker) -> None:
    """The network step of validation, run by ``exhibit check``: every target host resolves."""
    for name, target in config.targets.items():
        if not resolves(target.host):
            c.error(
                f"targets.{name}.url",
                f"host {target.host!r} does not resolve",
                target.url,
                "a reachable host name or IP address (check the name, /etc/hosts, or DNS)",
            )
