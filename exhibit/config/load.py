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

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from exhibit.analytics.config import parse_analytics
from exhibit.config.checker import Checker, join, show, suggest
from exhibit.config.schema import (
    BUILTIN_GESTURES,
    NARRATION_LEVELS,
    CameraConfig,
    Config,
    CueConfig,
    FilterConfig,
    GesturesConfig,
    GuardConfig,
    HandsUpConfig,
    PoseConfig,
    PresenceConfig,
    ShowConfig,
    Side,
    StateConfig,
    StreamConfig,
    TaughtConfig,
    TransitionConfig,
    WaveConfig,
    WaveModelKind,
    sensor_types,
)
from exhibit.control.osc_in import parse_control
from exhibit.cues.gpio_out import (
    OutputConfig,
    OutputCue,
    is_output_cue_table,
    parse_output_cue,
    parse_outputs,
)
from exhibit.cues.osc.targets import TargetSpec, parse_target
from exhibit.cues.osc.url import resolves
from exhibit.cues.sound.config import (
    SoundsConfig,
    is_sound_cue_table,
    parse_audio,
    parse_sound_cue,
    parse_sounds,
)
from exhibit.cues.sound.cue import SoundCue
from exhibit.depth.config import parse_calibration, parse_depth
from exhibit.engagement import parse_engagement
from exhibit.errors import ConfigError, ConfigSyntaxError
from exhibit.fusion.config import parse_fusion
from exhibit.gestures.rule_parse import parse_custom_gestures
from exhibit.presence import presence_zone
from exhibit.sensors.config import parse_sensors
from exhibit.service.http_status import parse_status
from exhibit.show.visitors import VISITOR_MODES
from exhibit.skeleton import LANDMARK_NAMES
from exhibit.telemetry.config import parse_telemetry
from exhibit.zones import ZonesConfig, parse_zones, zone_events
from firmware_bridge.config import parse_bridge

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
    "engagement",
    "sounds",
    "audio",
    "outputs",
    "control",
    "sensors",
    "fusion",
    "bridge",
    "zones",
    "calibration",
    "depth",
    "analytics",
    "status",
    "telemetry",
)
PRESENCE_EVENTS = (
    "presence.enter",
    "presence.leave",
    "presence.arrive",
    "presence.depart",
    "presence.primary",
)
SHOW_KEYS = ("initial", "states", "any_state", "shutdown", "levels", "counters", "visitors")
OTHER_EVENTS = ("engagement.high", "engagement.low", "sensor.fault", "sensor.ok")


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
    return loads(text, source=str(file), resolve_hosts=resolve_hosts, base_dir=file.parent)


def loads(
    text: str,
    *,
    source: str = "config",
    resolve_hosts: bool = False,
    base_dir: str | Path | None = None,
) -> Config:
    """Parse and validate config text; see :func:`load`. Files the config names (sounds,
    taught gestures) are relative to ``base_dir`` (default: the current folder)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigSyntaxError(f"{source}: not valid TOML: {exc}") from exc
    checker = Checker()
    config = _build(raw, checker, Path(base_dir) if base_dir is not None else Path("."))
    if resolve_hosts and config is not None:
        _check_hosts(config, checker)
    if checker.problems or config is None:
        raise ConfigError(checker.problems, source)
    return config


def _build(raw: dict[str, Any], c: Checker, base_dir: Path) -> Config | None:
    c.unknown_keys(raw, "", TOP_LEVEL_KEYS)
    exhibit = c.table(raw, "", "exhibit")
    name = c.string(exhibit, "exhibit", "name", "exhibit") or "exhibit"
    c.unknown_keys(exhibit, "exhibit", ("name",))

    camera = _camera(c.table(raw, "", "camera"), c)
    pose = _pose(c.table(raw, "", "pose"), c)
    filt = _filter(c.table(raw, "", "filter"), c)
    presence = _presence(c.table(raw, "", "presence"), c)
    gestures = _gestures(c.table(raw, "", "gestures"), c, base_dir)
    targets = _targets(c.table(raw, "", "targets"), c)
    sensors = parse_sensors(c.table(raw, "", "sensors"), "sensors", c)
    locals_ = _LocalCues(
        parse_sounds(
            c.table(raw, "", "sounds"),
            "sounds",
            c,
            base_dir,
            parse_audio(c.table(raw, "", "audio"), "audio", c),
        ),
        parse_outputs(c.table(raw, "", "outputs"), "outputs", c, used_pins=sensors.pins()),
    )
    cues = _named_cues(c.table(raw, "", "cues"), c, targets, locals_)
    stream = _stream(c.table(raw, "", "stream"), c, targets)
    engagement = parse_engagement(c.table(raw, "", "engagement"), "engagement", c)
    control = parse_control(c.table(raw, "", "control"), "control", c)
    bridge = parse_bridge(c.table(raw, "", "bridge"), "bridge", c)
    zones = parse_zones(c.table(raw, "", "zones"), "zones", c)
    calibration = parse_calibration(c.table(raw, "", "calibration"), "calibration", c)
    depth = parse_depth(c.table(raw, "", "depth"), "depth", c)
    presence = presence_zone(presence, zones, calibration, base_dir, c)  # [presence] zone
    analytics = parse_analytics(c.table(raw, "", "analytics"), "analytics", c)
    status = parse_status(c.table(raw, "", "status"), "status", c)
    telemetry = parse_telemetry(
        c.table(raw, "", "telemetry"), "telemetry", c, base_dir=base_dir, exhibit_name=name
    )
    fusion = parse_fusion(c.table(raw, "", "fusion"), "fusion", c, sensor_types(sensors, bridge))
    show_cfg = _show(raw, c, targets, cues, gestures, locals_, zones)
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
        engagement=engagement,
        sounds=locals_.sounds,
        outputs=locals_.outputs,
        control=control,
        sensors=sensors,
        fusion=fusion,
        bridge=bridge,
        zones=zones,
        calibration=calibration,
        depth=depth,
        analytics=analytics,
        status=status,
        telemetry=telemetry,
        base_dir=str(base_dir),
        warnings=tuple(c.warnings),
    )


@dataclass(frozen=True)
class _LocalCues:
    """What cues played on this machine may name: sounds and GPIO outputs."""

    sounds: SoundsConfig
    outputs: dict[str, OutputConfig]


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


def _zone_name(t: dict[str, Any], p: str, c: Checker) -> str:
    """``[presence] zone``: a zone's name, or "" (the default) for none."""
    value = t.get("zone", "")
    if not isinstance(value, str):
        c.error(f"{p}.zone", "not a string", value, 'the name of a [zones.NAME] table, or ""')
        return ""
    return value


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
        zone=_zone_name(t, p, c),  # checked against [zones] in exhibit/presence.py
    )
    c.unknown_keys(t, p, ("area", "enter_after_s", "leave_after_s", "min_visibility", "zone"))
    return cfg


# The built-in gestures after wave and hands_up: for each, its numeric keys as
# (minimum, maximum, exclusive_minimum, unit). Every one also has ``enabled``; those listed in
# _HAND_GESTURES have ``hand``. Defaults and meanings: exhibit.config.schema, docs/gestures.md.
_Range = tuple[float | None, float | None, bool, str]
_SECONDS: _Range = (0, 600, False, "seconds")
_BODY_SIZES: _Range = (0, 10, True, "body sizes")
_SWIPE: dict[str, _Range] = {
    "min_distance": _BODY_SIZES,
    "max_duration_s": (0, 5, True, "seconds"),
    "max_vertical": (0, 10, False, "times the horizontal travel"),
    "refractory_s": _SECONDS,
}
_LEAN: dict[str, _Range] = {
    "min_angle_deg": (0, 80, True, "degrees"),
    "hold_s": _SECONDS,
    "refractory_s": _SECONDS,
}
_GESTURE_NUMBERS: dict[str, dict[str, _Range]] = {
    "hand_up": {
        "hold_s": _SECONDS,
        "margin": (-2, 2, False, "body sizes"),
        "refractory_s": _SECONDS,
    },
    "t_pose": {
        "hold_s": _SECONDS,
        "min_reach": _BODY_SIZES,
        "max_angle_deg": (0, 80, True, "degrees"),
        "refractory_s": _SECONDS,
    },
    "swipe_left": _SWIPE,
    "swipe_right": _SWIPE,
    "lean_left": _LEAN,
    "lean_right": _LEAN,
    "crouch": {
        "min_drop": (0, 0.9, True, "a fraction of the standing hip height"),
        "hold_s": _SECONDS,
        "refractory_s": _SECONDS,
    },
    "jump": {
        "min_rise": _BODY_SIZES,
        "max_duration_s": (0, 5, True, "seconds"),
        "refractory_s": _SECONDS,
    },
    "approach": {
        "min_change": (0, 10, True, "a fraction of the body's apparent size"),
        "min_change_m": (0, 20, True, "metres"),
        "window_s": (0, 60, True, "seconds"),
        "refractory_s": _SECONDS,
    },
    "retreat": {
        "min_change": (0, 0.9, True, "a fraction of the body's apparent size"),
        "min_change_m": (0, 20, True, "metres"),
        "window_s": (0, 60, True, "seconds"),
        "refractory_s": _SECONDS,
    },
    "still": {
        "hold_s": (0, 600, True, "seconds"),
        "max_motion": _BODY_SIZES,
        "refractory_s": _SECONDS,
    },
}
_HAND_GESTURES = ("hand_up", "swipe_left", "swipe_right")


def _builtin_gesture(t: dict[str, Any], c: Checker, name: str, default: Any) -> Any:
    """One ``[gestures.NAME]`` table read into a copy of ``default`` (a config dataclass)."""
    table = c.table(t, "gestures", name)
    p = join("gestures", name)
    values: dict[str, Any] = {"enabled": c.boolean(table, p, "enabled", default.enabled)}
    if name in _HAND_GESTURES:
        values["hand"] = c.choice(table, p, "hand", default.hand, ("left", "right", "either"))
    for key, (low, high, exclusive, unit) in _GESTURE_NUMBERS[name].items():
        values[key] = c.number(
            table,
            p,
            key,
            getattr(default, key),
            minimum=low,
            maximum=high,
            exclusive_minimum=exclusive,
            unit=unit,
        )
    c.unknown_keys(table, p, values)
    return type(default)(**values)


def _taught(t: dict[str, Any], c: Checker, base_dir: Path) -> TaughtConfig:
    """``[gestures.taught]``; the names come from the template file when it exists."""
    p = "gestures.taught"
    d = TaughtConfig()
    c.unknown_keys(t, p, ("enabled", "file", "threshold_scale", "refractory_s"))
    cfg = TaughtConfig(
        enabled=c.boolean(t, p, "enabled", d.enabled),
        file=c.string(t, p, "file", d.file) or d.file,
        threshold_scale=c.number(
            t, p, "threshold_scale", d.threshold_scale, minimum=0, maximum=1, exclusive_minimum=True
        ),
        refractory_s=c.number(t, p, "refractory_s", d.refractory_s, minimum=0, unit="seconds"),
    )
    path = base_dir / cfg.file
    try:
        found = path.exists()
    except (OSError, ValueError) as exc:  # a name too long, a NUL in it (found by fuzzing)
        c.error(
            join(p, "file"),
            f"not a usable file name ({getattr(exc, 'strerror', None) or exc})",
            cfg.file,
            "a file name relative to the config's folder",
        )
        return cfg
    if not cfg.enabled or not found:
        if "file" in t and cfg.enabled:  # not taught yet: a warning, the rest still runs
            c.warnings.append(
                f"{join(p, 'file')}: no such file ({path}); teach a gesture with "
                "exhibit gestures learn NAME REC.jsonl ... --config THIS_FILE"
            )
        return cfg
    from exhibit.gestures.taught import TaughtGestures
    from exhibit.gestures.templates import TemplateError

    try:
        names = TaughtGestures.from_file(path).names()
    except TemplateError as exc:
        c.error(join(p, "file"), f"unusable template file: {exc}", cfg.file, show_got=False)
        return cfg
    return replace(cfg, names=tuple(names))


def _wave_model_file(w: dict[str, Any], c: Checker, base_dir: Path) -> str:
    """``[gestures.wave] model_file``: absolute, and loadable (else an error naming the key)."""
    p = "gestures.wave"
    if w.get("model_file", "") == "":  # the shipped model
        return ""
    name = c.string(w, p, "model_file", "") or ""
    if not name:
        return ""
    from exhibit.gestures.wave_model import WaveModelError, load_model

    try:
        path = (base_dir / name).absolute()
        load_model(str(path))
    except (OSError, ValueError) as exc:  # a name too long, a NUL in it
        c.error(join(p, "model_file"), f"not a usable file name ({exc})", name, show_got=False)
        return ""
    except WaveModelError as exc:
        c.error(join(p, "model_file"), str(exc), name, show_got=False)
        return ""
    return str(path)


def _gestures(t: dict[str, Any], c: Checker, base_dir: Path = Path(".")) -> GesturesConfig:
    c.unknown_keys(t, "gestures", (*BUILTIN_GESTURES, "custom", "taught"))
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
        model=cast(WaveModelKind, c.choice(w, p, "model", dw.model, ("rules", "learned", "both"))),
        model_file=_wave_model_file(w, c, base_dir),
    )
    c.unknown_keys(
        w,
        p,
        (
            "enabled",
            "hand",
            "min_swings",
            "min_amplitude",
            "window_s",
            "refractory_s",
            "model",
            "model_file",
        ),
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
    d = GesturesConfig()
    others = {n: _builtin_gesture(t, c, n, getattr(d, n)) for n in _GESTURE_NUMBERS}
    taught = _taught(c.table(t, "gestures", "taught"), c, base_dir)
    custom = parse_custom_gestures(
        c.table(t, "gestures", "custom"),
        "gestures.custom",
        c,
        reserved=(*BUILTIN_GESTURES, *taught.names),
    )
    return GesturesConfig(wave=wave, hands_up=hands_up, custom=custom, taught=taught, **others)


def _targets(t: dict[str, Any], c: Checker) -> dict[str, TargetSpec]:
    targets: dict[str, TargetSpec] = {}
    for name, value in t.items():
        path = join("targets", name)
        if ":" in name:
            c.error(
                path,
                "a target name cannot contain ':'",
                name,
                'a plain name such as "projector" ("sound:" and "output:" are local cues)',
            )
            continue
        spec = parse_target(value, path, c, name=name)
        if spec is not None:
            targets[name] = spec
    return targets


def _check_target_name(
    c: Checker, where: str, target: Any, targets: Mapping[str, TargetSpec]
) -> bool:
    if not isinstance(target, str) or target not in targets:
        hint = suggest(target, targets) if isinstance(target, str) else None
        known = ", ".join(f'"{n}"' for n in sorted(targets)) or "none defined in [targets]"
        c.error(where, "unknown target", target, f"one of {known}", f'"{hint}"' if hint else None)
        return False
    return True


def _local_cue(
    value: dict[str, Any], path: str, name: str, c: Checker, locals_: _LocalCues
) -> CueConfig | None:
    """A sound cue (``sound = ...``) or a GPIO output cue (``output = ...``) as a ``CueConfig``
    whose target is ``sound:NAME`` or ``output:NAME`` (played here, not sent over OSC)."""
    local: SoundCue | OutputCue | None
    if is_sound_cue_table(value):
        local = parse_sound_cue(value, path, c, locals_.sounds, name=name)
    else:
        local = parse_output_cue(value, path, c, locals_.outputs, name=name)
    if local is None:
        return None
    cue = local.to_cue()
    return CueConfig(name=name, target=cue.target, address=cue.address, args=cue.args)


def _cue_table(
    value: dict[str, Any],
    path: str,
    name: str,
    c: Checker,
    targets: Mapping[str, TargetSpec],
    locals_: _LocalCues | None = None,
) -> CueConfig | None:
    if locals_ is not None and (is_sound_cue_table(value) or is_output_cue_table(value)):
        return _local_cue(value, path, name, c, locals_)
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
    t: dict[str, Any], c: Checker, targets: Mapping[str, TargetSpec], locals_: _LocalCues
) -> dict[str, CueConfig]:
    cues: dict[str, CueConfig] = {}
    for name, value in t.items():
        path = join("cues", name)
        if not isinstance(value, dict):
            c.error(path, "not a cue", value, "a table with target, address and args")
            continue
        cue = _cue_table(value, path, name, c, targets, locals_)
        if cue is not None:
            cues[name] = cue
    return cues


def _cue_list(
    raw: Any,
    path: str,
    c: Checker,
    targets: Mapping[str, TargetSpec],
    cues: Mapping[str, CueConfig],
    locals_: _LocalCues | None = None,
) -> tuple[CueConfig, ...]:
    """A list of cue names (from [cues]) and inline cue tables (OSC, sound or output)."""
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
            label = address if isinstance(address, str) else ""
            cue = _cue_table(item, where, label, c, targets, locals_)
            if cue is not None:
                result.append(cue)
        else:
            c.error(
                where, "not a cue", item, "a cue name or an inline table {target, address, args}"
            )
    return tuple(result)


def _stream(t: dict[str, Any], c: Checker, targets: Mapping[str, TargetSpec]) -> StreamConfig:
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
        engagement=c.boolean(t, p, "engagement", d.engagement),
    )
    c.unknown_keys(t, p, ("enabled", "target", "rate_hz", "joints", "address", "engagement"))
    return cfg


def _event_names(gestures: GesturesConfig) -> list[str]:
    names = list(PRESENCE_EVENTS) + list(OTHER_EVENTS)
    names += [f"gesture.{n}" for n in BUILTIN_GESTURES if getattr(gestures, n).enabled]
    names += [f"gesture.{g.name}" for g in gestures.custom if g.enabled]
    if gestures.taught.enabled:
        names += [f"gesture.{n}" for n in gestures.taught.names]
    return names


def _disabled_gesture(on: Any, gestures: GesturesConfig) -> str | None:
    """The built-in gesture an event names, if that gesture is turned off in the config."""
    if not isinstance(on, str) or not on.startswith("gesture."):
        return None
    name = on[len("gesture.") :]
    if name in BUILTIN_GESTURES and not getattr(gestures, name).enabled:
        return name
    return None


def _transitions(
    raw: Any,
    path: str,
    c: Checker,
    state_names: list[str],
    events: list[str],
    gestures: GesturesConfig | None = None,
    counters: tuple[str, ...] = (),
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
        c.unknown_keys(item, where, ("on", "after", "to", "when", "count", "reset"))
        when = _guard(item["when"], join(where, "when"), c, counters) if "when" in item else None
        count = _counter_names(item.get("count", []), join(where, "count"), c, counters)
        reset = _counter_names(item.get("reset", []), join(where, "reset"), c, counters)
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
        off = _disabled_gesture(on, gestures) if gestures is not None else None
        if "on" in item and off is not None:
            c.error(
                join(where, "on"),
                f"the {off} gesture is not enabled",
                on,
                f"[gestures.{off}] enabled = true, or one of "
                + ", ".join(f'"{e}"' for e in events),
            )
            ok = False
        elif "on" in item and (not isinstance(on, str) or on not in events):
            known = events + [f"gesture.{n}" for n in BUILTIN_GESTURES if gestures is not None]
            hint = suggest(on, known) if isinstance(on, str) else None
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
                TransitionConfig(
                    to=to,
                    on=on if isinstance(on, str) else None,
                    after_s=after_s,
                    when=when,
                    count=count,
                    reset=reset,
                )
            )
    return tuple(result)


GUARD_KEYS = (
    "engagement_min",
    "engagement_max",
    "dwell_min_s",
    "dwell_max_s",
    "visitors_min",
    "visitors_max",
    "counter_min",
    "counter_max",
)


def _counter_names(raw: Any, path: str, c: Checker, counters: tuple[str, ...]) -> tuple[str, ...]:
    """A counter name or a list of them, each declared in ``[show] counters``."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        c.error(path, "not a counter name or a list of them", raw, '"waves" or ["waves"]')
        return ()
    good: list[str] = []
    for i, item in enumerate(items):
        where = join(path, i) if not isinstance(raw, str) else path
        if isinstance(item, str) and item in counters:
            good.append(item)
            continue
        hint = suggest(item, counters) if isinstance(item, str) else None
        known = ", ".join(f'"{n}"' for n in counters) or "none: declare them in [show] counters"
        c.error(where, "unknown counter", item, f"one of {known}", f'"{hint}"' if hint else None)
    return tuple(good)


def _guard(raw: Any, path: str, c: Checker, counters: tuple[str, ...]) -> GuardConfig | None:
    """``when = { engagement_min = 0.6, counter_max = { waves = 2 } }``; every key must hold."""
    if not isinstance(raw, dict) or not raw:
        c.error(path, "not a guard", raw, "a table such as { engagement_min = 0.6 }")
        return None
    c.unknown_keys(raw, path, GUARD_KEYS)

    def number(key: str, maximum: float | None = None) -> float | None:
        if key not in raw:
            return None
        value = c.number(raw, path, key, math.nan, minimum=0, maximum=maximum)
        return None if math.isnan(value) else value

    def count(key: str) -> int | None:
        return c.integer(raw, path, key, 0, minimum=0) if key in raw else None

    def counter_bounds(key: str) -> tuple[tuple[str, int], ...]:
        table = c.table(raw, path, key)
        where = join(path, key)
        known = _counter_names(list(table), where, c, counters)
        return tuple((name, c.integer(table, where, name, 0, minimum=0)) for name in known)

    guard = GuardConfig(
        engagement_min=number("engagement_min", maximum=1),
        engagement_max=number("engagement_max", maximum=1),
        dwell_min_s=number("dwell_min_s"),
        dwell_max_s=number("dwell_max_s"),
        visitors_min=count("visitors_min"),
        visitors_max=count("visitors_max"),
        counter_min=counter_bounds("counter_min"),
        counter_max=counter_bounds("counter_max"),
    )
    for low, high in (
        ("engagement_min", "engagement_max"),
        ("dwell_min_s", "dwell_max_s"),
        ("visitors_min", "visitors_max"),
    ):
        lo, hi = getattr(guard, low), getattr(guard, high)
        if lo is not None and hi is not None and lo > hi:
            c.error(join(path, low), f"above {high}", lo, f"a value <= {hi:g}")
    return guard


def _show(
    raw: dict[str, Any],
    c: Checker,
    targets: Mapping[str, TargetSpec],
    cues: Mapping[str, CueConfig],
    gestures: GesturesConfig,
    locals_: _LocalCues | None = None,
    zones: ZonesConfig | None = None,
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
    c.unknown_keys(t, "show", SHOW_KEYS)
    levels = _names(t, "show", "levels", c, NARRATION_LEVELS)
    counters = _names(t, "show", "counters", c, ())
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
    events = _event_names(gestures) + (zone_events(zones) if zones is not None else [])
    states: dict[str, StateConfig] = {}
    for name, value in states_raw.items():
        path = join("show.states", name)
        if not isinstance(value, dict):
            c.error(path, "not a state", value, "a table with on_enter, on_exit and transitions")
            continue
        c.unknown_keys(
            value, path, ("on_enter", "on_exit", "transitions", "level", "repeat", "bundle")
        )
        level = c.choice(value, path, "level", "", levels) if "level" in value else None
        repeat_s = c.duration(value["repeat"], join(path, "repeat")) if "repeat" in value else None
        states[name] = StateConfig(
            name=name,
            on_enter=_cue_list(
                value.get("on_enter", []), join(path, "on_enter"), c, targets, cues, locals_
            ),
            on_exit=_cue_list(
                value.get("on_exit", []), join(path, "on_exit"), c, targets, cues, locals_
            ),
            transitions=_transitions(
                value.get("transitions", []),
                join(path, "transitions"),
                c,
                state_names,
                events,
                gestures,
                counters,
            ),
            level=level or None,
            repeat_s=repeat_s,
            bundle=c.boolean(value, path, "bundle", False),
        )
    any_state = _transitions(
        t.get("any_state", []), "show.any_state", c, state_names, events, gestures, counters
    )
    for i, tr in enumerate(any_state):
        if tr.after_s is not None:
            c.error(
                join("show.any_state", i),
                "a timer cannot apply in every state",
                show(tr.after_s),
                'an event such as on = "presence.leave"',
                show_got=False,
            )
    shutdown = _cue_list(t.get("shutdown", []), "show.shutdown", c, targets, cues, locals_)
    if initial is None or initial not in states:
        return None
    show_cfg = ShowConfig(
        initial=initial,
        states=states,
        any_state=any_state,
        shutdown=shutdown,
        levels=levels,
        counters=counters,
        visitors=c.choice(t, "show", "visitors", "one", VISITOR_MODES),
    )
    warnings = _show_warnings(show_cfg)
    c.warnings.extend(warnings)
    return replace(show_cfg, warnings=tuple(warnings))


def _names(
    t: dict[str, Any], path: str, key: str, c: Checker, default: tuple[str, ...]
) -> tuple[str, ...]:
    """A list of distinct names such as ``levels = ["overview", "detail"]``."""
    if key not in t:
        return default
    raw = t[key]
    ok = isinstance(raw, list) and all(isinstance(x, str) and x for x in raw)
    if not ok or len(set(raw)) != len(raw):
        c.error(join(path, key), "not a list of distinct names", raw, '["overview", "detail"]')
        return default
    return tuple(raw)


def _show_warnings(show_cfg: ShowConfig) -> list[str]:
    """Legal but suspicious: states no transition reaches, states with no way out."""
    from exhibit.show.graph import reachable_states

    warnings: list[str] = []
    reachable = reachable_states(show_cfg)
    for name, state in show_cfg.states.items():
        if name not in reachable:
            warnings.append(
                f"show.states.{name}: unreachable (no transition leads here from "
                f'"{show_cfg.initial}")'
            )
        leaves = any(tr.to != name for tr in state.transitions) or any(
            tr.to != name for tr in show_cfg.any_state
        )
        if not leaves:
            warnings.append(
                f"show.states.{name}: no way out (no transition leaves it, and no any_state "
                "transition applies)"
            )
    return warnings


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
    broker = config.telemetry
    if broker.enabled and not resolves(broker.host):
        c.error(
            "telemetry.host",
            f"MQTT broker {broker.host!r} does not resolve",
            broker.host,
            "the broker's host name or IP address (check the name, /etc/hosts, or DNS)",
        )
