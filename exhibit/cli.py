"""Command line of the exhibit controller: one subcommand per task, listed below.

Exit codes are part of the interface: 0 success, 1 the input is invalid (config errors, a bad
recording), 2 the input cannot be read at all (missing file, not TOML, no camera).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

from calibration.cli import add_calibrate_commands
from exhibit.analytics.cli import add_analytics_commands
from exhibit.config.load import load
from exhibit.config.schema import Config
from exhibit.errors import (
    ConfigError,
    ConfigSyntaxError,
    ExhibitError,
    RecordingError,
    RecordingUnreadableError,
)
from exhibit.gestures.commands import add_gesture_commands
from exhibit.skeleton import Frame
from exhibit.telemetry.probe import add_telemetry_commands

log = logging.getLogger("exhibit")

DEMO_DIR = Path(__file__).resolve().parent.parent / "media" / "demo"
DEMO_CONFIG = DEMO_DIR / "exhibit.toml"
DEMO_RECORDING = DEMO_DIR / "visitor.jsonl"


DEPTH_HELP = (
    "recorded depth (16-bit PNGs in mm + intrinsics.json) paired by time with the frames: "
    "visitors' floor positions for [zones] and engagement (needs [calibration] file; "
    "replaces a [depth] device)"
)


def _load_config(path: str, *, resolve_hosts: bool = False) -> Config:
    return load(path, resolve_hosts=resolve_hosts)


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = load(args.config, resolve_hosts=not args.offline)
    except ConfigSyntaxError as exc:
        print(exc, file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    counts = f"{len(config.show.states)} states, {len(config.targets)} targets"
    for warning in config.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.config}: ok ({counts}, {len(config.cues)} cues)")
    return 0


class _StopOnSignal:
    """SIGINT/SIGTERM set ``stop``, so the loop ends after sending the shutdown cues.

    ``hooks`` run in the handler too: a camera source that waits for a frame from an
    unplugged device is told to stop waiting (its ``request_stop`` only sets an event).
    """

    hooks: list[Callable[[], None]]

    def __init__(self, *, cues: bool = True) -> None:
        """``cues=False`` for commands with no shutdown cues (monitor, stage, sensors): they stop
        quietly, so ``make demo`` does not end with a monitor announcing cues it never sends."""
        self.stop = threading.Event()
        self.hooks = []
        self._cues = cues
        self._previous: dict[int, object] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self._cues:
            log.info("signal %d: stopping after the shutdown cues", signum)
        else:
            log.debug("signal %d: stopping", signum)
        self.stop.set()
        for hook in self.hooks:
            hook()

    def __enter__(self) -> _StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def open_frames(
    spec: str,
    config: Config,
    stack: ExitStack,
    signals: _StopOnSignal | None = None,
    gate: Callable[[float], bool] | None = None,
    tick_s: float | None = None,
) -> Iterator[Frame]:
    """Frames for ``spec`` with the config's camera and pose settings (see
    :func:`exhibit.sources.frames.open_frames`); a signal ends a wait on a camera."""
    from exhibit.sources.frames import open_frames as open_source

    hooks = signals.hooks if signals is not None else None
    return open_source(
        spec,
        stack,
        camera=config.camera,
        pose=config.pose,
        stop_hooks=hooks,
        gate=gate,
        tick_s=tick_s,
    )


def _with_metric(
    frames: Iterator[Frame],
    config: Config,
    depth: str | None,
    stack: ExitStack | None = None,
    watch: dict[str, Callable[[], Any]] | None = None,
) -> Iterator[Frame]:
    """Skeletons with their floor spots when there is a calibration, ``--depth`` or (with
    ``stack``: the live camera of ``exhibit run``) a ``[depth] device``, closed by ``stack``
    (see exhibit/depth/pairing.py); else the frames unchanged. A live camera's health goes
    into ``watch`` as ``depth`` (shown by ``exhibit status``)."""
    from exhibit.depth.pairing import metric_frames

    metric = metric_frames(config, depth, device=stack is not None)
    if metric is not None and stack is not None:
        stack.callback(metric.close)
    if metric is not None and watch is not None and metric.health() is not None:
        watch["depth"] = metric.health
    return frames if metric is None else metric.frames(frames)


def _record_alongside(
    frames: Iterator[Frame], path: str, spec: str, stack: ExitStack
) -> Iterator[Frame]:
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter

    first = next(frames, None)
    if first is None:
        return
    header = RecordingHeader(
        source=spec, fps=0.0, width_px=first.width_px, height_px=first.height_px
    )
    writer = stack.enter_context(RecordingWriter(path, header))
    writer.write(first)
    yield first
    for frame in frames:
        writer.write(frame)
        yield frame


class _ServiceTicks:
    """The ``between`` hook of ``exhibit run``: live controls, then systemd's READY (once the
    first frame went through) and a watchdog ping per frame (sent every few seconds at most),
    so a hung main loop is restarted by systemd."""

    def __init__(self, live: Any, notifier: Any, name: str) -> None:
        self.live, self.notifier, self.name = live, notifier, name
        self.calls = 0
        self._state = ""

    def __call__(self, pipeline: Any) -> tuple[Any, list[Any]]:
        pipeline, events = self.live(pipeline)
        self.calls += 1
        if self.calls == 2:
            self.notifier.ready(f"showing {self.name!r}")
        if pipeline.show.state != self._state:
            self._state = pipeline.show.state
            self.notifier.status(f"state {self._state}, {self.live.fps:.1f} fps")
        self.notifier.watchdog()
        return pipeline, events


def cmd_run(args: argparse.Namespace, *, timeline_default: bool = True) -> int:
    from exhibit.live import CueSinks, LiveControls, commanded
    from exhibit.pipeline import Pipeline
    from exhibit.runtime import LogSink, Pacer, Sink, TimelineSink, run_frames
    from exhibit.service import Notifier
    from exhibit.service.writes import WriteHealth, record_alongside

    config = _load_config(args.config)
    spec = args.replay or args.video or str(config.camera.device)
    paced = args.replay is not None or args.video is not None
    with ExitStack() as stack, _StopOnSignal() as signals:
        stop = signals.stop
        live: LiveControls | None = None
        feed = None
        gate = None
        if not spec.endswith(".jsonl") and config.sensor_types():
            from exhibit.sensors.feed import SensorFeed

            feed = SensorFeed(config)  # live sensors; a recording carries its own readings
            stack.callback(feed.close)
            if config.fusion.gating.enabled:
                gate = feed.gate(
                    config, lambda: live.current.last_fusion if live and live.current else None
                )
        # A live camera: while it gives no image, frames come from the clock twice a second.
        camera = args.replay is None and args.video is None
        frames = open_frames(spec, config, stack, signals, gate, 0.5 if camera else None)
        camera_health = getattr(frames, "health", None)  # a camera or video through MediaPipe
        if feed is not None:
            frames = feed.attach(frames)
        # floor spots: --depth, the [depth] device (live camera only), the calibration
        watched: dict[str, Callable[[], Any]] = {}  # health of what opens here, for status
        frames = _with_metric(frames, config, args.depth, stack if camera else None, watched)
        files: dict[str, WriteHealth] = {}  # a full disk stops none of them: see docs/faults.md
        frames = commanded(frames, lambda: live)  # commands and reloads go into --record too
        if args.record:  # what visitors did, to replay later (frames, readings; never images)
            files["recording"] = WriteHealth(args.record, "recording")
            frames = record_alongside(frames, args.record, spec, files["recording"])
        cues = CueSinks(config)
        sinks: list[Sink] = [cues]
        from exhibit.analytics.sink import live_session_sink

        sessions = live_session_sink(config, owns_store=False)  # [analytics]: one per visit
        if sessions is not None:
            stack.callback(sessions.store.close)  # last: the telemetry reads it until it stops
            sinks.append(sessions)
        if args.log:
            log_sink = LogSink(args.log)
            files["event_log"] = log_sink.health
            sinks.append(log_sink)
        if not args.quiet:
            sinks.append(TimelineSink())
        store = sessions.store if sessions is not None else None
        live = LiveControls(args.config, config, cues, sessions=store)
        stack.callback(live.close)
        if live.telemetry is not None:  # [telemetry]: sensor faults out; closed before the store
            sinks.insert(0, live.telemetry)
        live.watch.update(watched)
        if callable(camera_health):
            live.watch["camera"] = camera_health
        if feed is not None and feed.link is not None:
            live.watch["bridge"] = feed.health
        if files:
            live.watch["files"] = lambda: {name: h.snapshot() for name, h in files.items()}
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGHUP, lambda signum, frame: live.request_reload())
            stack.callback(signal.signal, signal.SIGHUP, previous)
        pacer = Pacer(speed=args.speed, stop=stop) if paced else None
        notifier = Notifier.from_env()  # systemd: READY after the first frame, watchdog pings
        stack.callback(notifier.close)
        if notifier.enabled:
            faulthandler.enable()  # a watchdog kill (SIGABRT) leaves every thread's traceback
        between = _ServiceTicks(live, notifier, config.name)
        result = run_frames(
            frames, Pipeline(config), sinks, pacer=pacer, stop=stop, between=between
        )
        notifier.stopping(f"stopped after {result.frames} frames")
    print(
        f"done: {result.frames} frames, {result.events} events, "
        f"{live.reloads} reload(s), {live.rejected} rejected",
        file=sys.stderr,
    )
    for health in files.values():
        if health.lost:
            print(
                f"{health.what} {health.path}: {health.lost} record(s) not written "
                f"({health.last_error})",
                file=sys.stderr,
            )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from exhibit.pipeline import Pipeline
    from exhibit.recording.controls import RecordedControls
    from exhibit.runtime import LogSink, Sink, TimelineSink, run_frames

    config = _load_config(args.config)
    sessions = None
    if args.sessions:  # the visits as sessions, to compare configs (docs/analytics.md)
        from exhibit.analytics.cli import replay_session_sink

        sessions = replay_session_sink(config, args.sessions, args.input, args.sessions_start)
    with ExitStack() as stack:
        if sessions is not None:
            stack.callback(sessions.close)  # also when the input cannot be read
        frames = open_frames(args.input, config, stack)
        frames = _with_metric(frames, config, args.depth)  # floor spots: depth, calibration
        recorded = RecordedControls(Path(args.config).parent)  # a live run's commands, reloads
        frames = recorded.frames(frames)
        if args.save_recording:
            frames = _record_alongside(frames, args.save_recording, args.input, stack)
        sinks: list[Sink] = []
        if args.log:
            sinks.append(LogSink(args.log, include_stream=args.include_stream))
        if args.timeline or not args.log:
            sinks.append(TimelineSink())
        if args.send:
            from exhibit.runtime import cue_sinks

            sinks += cue_sinks(config)
        if sessions is not None:
            sinks.append(sessions)
        result = run_frames(frames, Pipeline(config), sinks, between=recorded)
    print(f"replayed {result.frames} frames, {result.events} events", file=sys.stderr)
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from exhibit.config.schema import CameraConfig, PoseConfig
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter
    from exhibit.sources.images import open_image_source
    from exhibit.sources.pose import PoseEstimator
    from exhibit.sources.pose_source import PoseFrameSource

    camera, pose = CameraConfig(), PoseConfig()
    if args.config:
        config = _load_config(args.config)
        camera, pose = config.camera, config.pose
    with ExitStack() as stack, _StopOnSignal() as signals:
        stop = signals.stop
        images = open_image_source(args.input, camera)
        stack.callback(images.close)
        signals.hooks.append(images.request_stop)
        estimator = stack.enter_context(PoseEstimator(pose, static_image_mode=args.photos))
        source = PoseFrameSource(images, estimator)
        header = RecordingHeader(
            source=images.describe(),
            fps=images.fps,
            width_px=images.width_px,
            height_px=images.height_px,
        )
        writer = stack.enter_context(
            RecordingWriter(args.output, header, max_frames=args.max_frames)
        )
        frames = with_pose = 0
        for frame in source:
            writer.write(frame)
            frames += 1
            with_pose += bool(frame.skeletons)
            if stop.is_set() or writer.full:
                break
    share = with_pose / frames if frames else 0.0
    print(f"{args.output}: {frames} frames, {with_pose} with a pose ({share:.0%})")
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from exhibit.cues.osc.monitor import run_monitor

    ready = threading.Event()
    with _StopOnSignal(cues=False) as signals:
        stop = signals.stop
        thread = threading.Thread(
            target=run_monitor,
            args=(args.ports, sys.stdout, stop),
            kwargs={"host": args.host, "ready": ready},
            daemon=True,
        )
        thread.start()
        if ready.wait(5.0):
            ports = ", ".join(str(p) for p in args.ports)
            print(f"monitor: listening on {args.host} port(s) {ports}; Ctrl-C to stop", flush=True)
        while thread.is_alive() and not stop.wait(0.2):
            pass
        stop.set()
        thread.join(5.0)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from exhibit.demo import run_demo

    return run_demo(
        video=args.video,
        speed=args.speed,
        config_path=args.config,
        stage=args.stage,
        sensors=args.sensors,
        sessions=args.sessions,
    )


def cmd_bench(args: argparse.Namespace) -> int:
    if args.soak:
        from exhibit.soak import TARGET_GROWTH_MIB, run_soak

        soak = run_soak(args.soak, as_json=args.json)
        steady = soak["open_files"][1] <= soak["open_files"][0] and (
            soak["threads"][1] <= soak["threads"][0]
        )
        return 0 if soak["rss_growth_mib"] < TARGET_GROWTH_MIB and steady else 1
    if args.gating:
        from exhibit.fusion.bench import run_gating_bench

        run_gating_bench(hours=args.hours, as_json=args.json, out=sys.stdout)
        return 0
    from exhibit.bench import run_bench

    return run_bench(frames=args.frames, as_json=args.json, image=args.image)


def cmd_synth(args: argparse.Namespace) -> int:
    from exhibit.recording.format import RecordingHeader
    from exhibit.recording.writer import RecordingWriter
    from exhibit.synth.group import two_visitors
    from exhibit.synth.script import scripted_visitor

    scene = "two_visitors" if args.two else "scripted_visitor"
    frames = (two_visitors if args.two else scripted_visitor)(fps=args.fps, seed=args.seed)
    header = RecordingHeader(
        source=f"synth:{scene} seed={args.seed}",
        fps=args.fps,
        width_px=frames[0].width_px,
        height_px=frames[0].height_px,
    )
    with RecordingWriter(args.output, header) as writer:
        for frame in frames:
            writer.write(frame)
    print(f"{args.output}: {len(frames)} frames ({frames[-1].t_s:.1f} s) of {scene}")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from exhibit.show.graph import render, to_dot

    config = _load_config(args.config)
    dot_text = to_dot(config.show, title=config.name)
    output = Path(args.output) if args.output else Path(args.config).with_suffix(".dot")
    # DOT always: beside an SVG/PNG/PDF too, so it is there even where Graphviz is not.
    dot_path = output.with_suffix(".dot")
    dot_path.write_text(dot_text, encoding="utf-8")
    if output.suffix != ".dot":
        print(f"{dot_path}: {len(config.show.states)} states")
        render(dot_text, output)
    print(f"{output}: {len(config.show.states)} states")
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    from exhibit.ui.stage import run_stage

    width, _, height = args.size.partition("x")
    with _StopOnSignal(cues=False) as signals:
        return run_stage(
            args.port,
            host=args.host,
            size=(int(width), int(height)),
            fullscreen=args.fullscreen,
            stop=signals.stop,
            frames=args.frames,
            screenshot=Path(args.screenshot) if args.screenshot else None,
            images=Path(args.images) if args.images else DEMO_DIR / "stage",
            out=sys.stdout,
            echo=args.echo,
        )


def cmd_simulate(args: argparse.Namespace) -> int:
    from exhibit.ui.simulate import run_simulate

    with _StopOnSignal() as signals:
        return run_simulate(
            args.config,
            recording=args.recording,
            frames=args.frames,
            screenshot=Path(args.screenshot) if args.screenshot else None,
            speed=args.speed,
            send=args.send,
            log=args.log,
            stop=signals.stop,
            out=sys.stdout,
        )


def cmd_sensors(args: argparse.Namespace) -> int:
    from exhibit.sensors.gpio_in import run_sensors_view

    config = _load_config(args.config)
    with _StopOnSignal(cues=False) as signals:
        return run_sensors_view(config.sensors, sys.stdout, signals.stop, args.refresh)


def cmd_bridge_sim(args: argparse.Namespace) -> int:
    from firmware_bridge.sim import main as sim_main

    return sim_main(args.sim_args)


def cmd_status(args: argparse.Namespace) -> int:
    """Ask a running exhibit (its [control] port) how it is: state, fps, targets, temperature."""
    import json
    import socket

    from exhibit.cues.osc.decode import decode_packet
    from exhibit.cues.osc.encode import encode_message

    config = _load_config(args.config)
    if config.status.enabled:  # [status]: the whole health over HTTP, with /healthz's verdict
        from exhibit.service.http_status import print_status

        return print_status(config.status, args.timeout, sys.stdout)
    control = config.control
    if not control.enabled:
        print(
            f"error: {args.config}: neither [status] nor [control] is enabled; nothing to ask",
            file=sys.stderr,
        )
        return 2
    host = "127.0.0.1" if control.host in ("0.0.0.0", "::") else control.host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(args.timeout)
        sock.bind(("127.0.0.1", 0))
        sock.sendto(encode_message("/exhibit/status", []), (host, control.port))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            print(
                f"error: no answer from {host}:{control.port} within {args.timeout:g} s "
                "(is the exhibit running? is this address allowed in [control] allow?)",
                file=sys.stderr,
            )
            return 1
    message = decode_packet(data)[0]
    values = [str(a) for a in message.args]  # state, visitors, fps, uptime[, health JSON]
    if message.address != "/exhibit/status" or len(values) < 4:
        print(f"error: unexpected answer {message.address} {values}", file=sys.stderr)
        return 1
    print(f"state      {values[0]}")
    print(f"visitors   {values[1]}")
    print(f"fps        {float(values[2]):.1f}")
    print(f"uptime     {float(values[3]):.0f} s")
    if len(values) > 4:
        for key, value in sorted(json.loads(values[4]).items()):  # as JSON, as over HTTP
            print(f"{key:<10} {json.dumps(value, sort_keys=True, default=str)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exhibit", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate a config; exit 0 valid, 1 errors, 2 unreadable")
    p.add_argument("config")
    p.add_argument("--offline", action="store_true", help="do not resolve target host names")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "run", help="run the exhibit live (camera), or on a video or recording in real time"
    )
    p.add_argument("config")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--video", help="a video file or image folder instead of the camera")
    src.add_argument("--replay", help="a recording (.jsonl) instead of the camera")
    p.add_argument("--log", help="write the event log (JSON Lines) here")
    p.add_argument(
        "--record", help="also record the frames (skeletons, sensor readings) to this .jsonl"
    )
    p.add_argument("--speed", type=float, default=1.0, help="pace factor for --video/--replay")
    p.add_argument("--depth", metavar="DIR", help=DEPTH_HELP)
    p.add_argument("--quiet", action="store_true", help="do not print the timeline")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("record", help="record a camera, video or image folder to JSON Lines")
    p.add_argument("input", help="camera index or /dev/video*, a video file, or an image folder")
    p.add_argument("-o", "--output", required=True, help="the recording to write (.jsonl)")
    p.add_argument("--config", help="take camera and pose settings from this config")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.add_argument(
        "--photos",
        action="store_true",
        help="unrelated photos, not a sequence: detect afresh in every image (no tracking)",
    )
    p.set_defaults(func=cmd_record)

    p = sub.add_parser(
        "replay", help="run the pipeline over a recording or video as fast as possible"
    )
    p.add_argument("config")
    p.add_argument("input", help="a recording (.jsonl), a video file or an image folder")
    p.add_argument("--log", help="write the event log (JSON Lines) here")
    p.add_argument("--timeline", action="store_true", help="also print the timeline")
    p.add_argument("--include-stream", action="store_true", help="log joint stream messages too")
    p.add_argument("--send", action="store_true", help="also send the cues to the OSC targets")
    p.add_argument("--save-recording", help="when the input is a video, keep its recording here")
    p.add_argument("--depth", metavar="DIR", help=DEPTH_HELP)
    p.add_argument("--sessions", metavar="DB", help="store the visits as sessions in this database")
    p.add_argument(
        "--sessions-start",
        metavar="ISO",
        help="wall-clock time of the input's start for --sessions (default: the file's date)",
    )
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("monitor", help="print every OSC message received on the given UDP ports")
    p.add_argument("ports", type=int, nargs="+")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 for all)")
    p.set_defaults(func=cmd_monitor)

    p = sub.add_parser("demo", help="the demo exhibit: scripted visitor, cues to a local monitor")
    p.add_argument("--video", help="run the demo on this video instead of the scripted visitor")
    p.add_argument("--speed", type=float, default=1.0, help="pace factor (8: eight times faster)")
    p.add_argument(
        "--config", default=str(DEMO_CONFIG), help="another exhibit (default: the demo's)"
    )
    p.add_argument(
        "--stage",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the projector's cues in a stage window (default: when a display is present)",
    )
    p.add_argument(
        "--sensors",
        action="store_true",
        help="attach the firmware simulator (serial, via a pty) and a PIR on a mock GPIO pin",
    )
    p.add_argument("--sessions", metavar="DB", help="store the visits here (default: [analytics])")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("bench", help="per-frame cost of the pipeline against MediaPipe inference")
    p.add_argument("--frames", type=int, default=200, help="MediaPipe inferences to time")
    p.add_argument("--image", help="photo to time MediaPipe on (default: scikit-image's astronaut)")
    p.add_argument("--json", action="store_true", help="the figures as JSON")
    p.add_argument(
        "--gating",
        action="store_true",
        help="instead: CPU saved by sensor-gated pose inference over a scripted day",
    )
    p.add_argument("--hours", type=float, default=8.0, help="length of the day for --gating")
    p.add_argument(
        "--soak",
        type=int,
        metavar="FRAMES",
        help="instead: this many frames through the pipeline, watching memory, files, threads",
    )
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "status", help="ask a running exhibit how it is (needs [status] or [control])"
    )
    p.add_argument("config")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("graph", help="the show's state machine as a diagram (DOT; SVG/PNG via dot)")
    p.add_argument("config")
    p.add_argument(
        "-o",
        "--output",
        help="FILE.dot (default: beside the config), or .svg, .png, .pdf (the .dot beside it)",
    )
    p.set_defaults(func=cmd_graph)

    p = sub.add_parser("stage", help="a window standing in for the projector: shows the cues")
    p.add_argument("port", type=int, help="UDP port to receive OSC on (the projector's)")
    p.add_argument("--host", default="127.0.0.1", help="interface (0.0.0.0 for all)")
    p.add_argument("--size", default="960x540", help="window size WxH")
    p.add_argument("--fullscreen", action="store_true", help="full screen (on the projector)")
    p.add_argument("--frames", type=int, help="stop after this many frames (for screenshots)")
    p.add_argument("--screenshot", help="save the last frame as PNG here")
    p.add_argument("--images", help="folder of scene images NAME.png (default: the demo's)")
    p.add_argument("--echo", action="store_true", help="print every message received")
    p.set_defaults(func=cmd_stage)

    p = sub.add_parser(
        "simulate", help="try a config with no hardware: keyboard/mouse visitor or a recording"
    )
    p.add_argument("config")
    p.add_argument("--recording", help="play this recording first (.jsonl)")
    p.add_argument("--frames", type=int, help="stop after this many frames")
    p.add_argument("--screenshot", help="save the last frame as PNG here")
    p.add_argument("--speed", type=float, default=1.0, help="pace factor (4: four times faster)")
    p.add_argument("--send", action="store_true", help="also send the cues to the targets")
    p.add_argument("--log", help="write the event log (JSON Lines) here")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("sensors", help="show every configured sensor's live state")
    p.add_argument("config")
    p.add_argument("--refresh", type=float, default=0.5, help="seconds between refreshes")
    p.set_defaults(func=cmd_sensors)

    p = sub.add_parser(
        "bridge-sim",
        help="run the reference firmware on this machine behind a pseudo-terminal",
        add_help=False,
        # Every argument, options and --help included, is the simulator's own: with "-" as a
        # prefix here, argparse would refuse them before REMAINDER could take them.
        prefix_chars="\0",
    )
    p.add_argument("sim_args", nargs=argparse.REMAINDER, help="see exhibit bridge-sim --help")
    p.set_defaults(func=cmd_bridge_sim)

    add_gesture_commands(sub)
    add_calibrate_commands(sub)
    add_analytics_commands(sub)
    add_telemetry_commands(sub)

    p = sub.add_parser("synth", help="write the scripted demo visitor as a recording")
    p.add_argument("-o", "--output", default=str(DEMO_RECORDING), help="default: the demo's")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second")
    p.add_argument("--seed", type=int, default=0, help="noise seed (same seed, same bytes)")
    p.add_argument("--two", action="store_true", help="two visitors (try [show] visitors)")
    p.set_defaults(func=cmd_synth)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except ConfigSyntaxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, RecordingUnreadableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecordingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ExhibitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
