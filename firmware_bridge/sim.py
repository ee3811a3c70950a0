"""The reference firmware, run on CPython behind a pseudo-terminal: a Pico without the Pico.

``Simulator`` runs ``firmware/main.py``'s ``Firmware`` (the very code the Pico runs) with
``SimHal``: the "USB serial port" is the master side of a pty pair, whose slave path
(``/dev/pts/N``) the host opens with pyserial like a real device; the distance sensor follows a
scripted visitor (``VisitorScript``); buttons are pressed from the host side
(``press``/``release``); the LED strip is a byte string you can read back (``leds``).

Acts of the world, for tests and demos: ``pause()`` (the device hangs: no heartbeats, no
answers), ``unplug()`` (the pty closes: the host's reads fail as with a pulled USB cable; the
``link_path`` symlink disappears as ``/dev/serial/by-id/...`` does), ``replug()`` (a new pty,
the symlink points to it, and the firmware boots again, as a USB-powered Pico does),
``break_sensor()``.

From a shell, ``python -m firmware_bridge.sim`` prints the device path on its first line and
serves until SIGINT/SIGTERM or ``quit``. Lines on its standard input act on the world:
``press N``, ``release N``, ``pause``, ``resume``, ``unplug``, ``replug``, ``distance MM``,
``distance none``, ``distance script``, ``sensor broken``, ``sensor ok``, ``quit``.

Example:
    >>> import serial
    >>> with Simulator() as sim:
    ...     port = serial.Serial(sim.device_path, timeout=1.0)
    ...     first = port.read_until(b"\\x00")   # HELLO or a HEARTBEAT: frames end with 0x00
    ...     port.close()
    >>> first[-1]
    0
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import random
import select
import signal
import sys
import threading
import time
import tty
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from firmware_bridge import codec
from firmware_bridge.errors import SimulatorError
from firmware_bridge.firmware.main import SAMPLE_MS, Firmware

READ_MAX = 4096


@dataclass(frozen=True)
class Segment:
    """``duration_s`` of a visitor moving from ``from_mm`` to ``to_mm`` (None: nobody there)."""

    duration_s: float
    from_mm: float | None
    to_mm: float | None = None


class VisitorScript:
    """Distance over time, repeating: by default nobody for 3 s, a visitor walks up from 2.5 m
    to 0.9 m in 2 s, stays 5 s, walks away in 2 s; noise ``noise_mm`` (seeded).

    >>> s = VisitorScript(seed=1)
    >>> s.distance_mm(0.0), 880 <= s.distance_mm(7.0) <= 920
    (-1, True)
    """

    DEFAULT = (
        Segment(3.0, None),
        Segment(2.0, 2500.0, 900.0),
        Segment(5.0, 900.0, 900.0),
        Segment(2.0, 900.0, 2500.0),
    )

    def __init__(
        self, segments: Sequence[Segment] = DEFAULT, *, noise_mm: float = 8.0, seed: int = 0
    ) -> None:
        if not segments or any(s.duration_s <= 0 for s in segments):
            raise ValueError("a visitor script needs segments of positive duration")
        self.segments = tuple(segments)
        self.period_s = sum(s.duration_s for s in self.segments)
        self.noise_mm = noise_mm
        self._rng = random.Random(seed)

    @classmethod
    def constant(cls, distance_mm: int | None) -> VisitorScript:
        return cls((Segment(1.0, None if distance_mm is None else float(distance_mm)),), noise_mm=0)

    def distance_mm(self, t_s: float) -> int:
        t = t_s % self.period_s
        for seg in self.segments:
            if t < seg.duration_s:
                if seg.from_mm is None:
                    return codec.NO_TARGET
                end = seg.from_mm if seg.to_mm is None else seg.to_mm
                value = seg.from_mm + (end - seg.from_mm) * (t / seg.duration_s)
                noise = self._rng.gauss(0.0, self.noise_mm) if self.noise_mm else 0.0
                return max(0, round(value + noise))
            t -= seg.duration_s
        return codec.NO_TARGET


class SimHal:
    """The firmware's HAL (firmware/hal.py) over a pty master, a script and host-side inputs."""

    def __init__(
        self,
        master_fd: int,
        *,
        clock: Callable[[], float],
        script: VisitorScript,
        led_count: int = 30,
        input_count: int = 3,
    ) -> None:
        self.master_fd = master_fd
        self.clock = clock
        self.boot_s = clock()
        self.script = script
        self.led_count = led_count
        self.input_count = input_count
        self.has_distance = True
        self.boot_id = random.getrandbits(32)
        self.levels = 0
        self.pixels = bytes(3 * led_count)
        self.sensor_broken = False
        self.override_mm: int | None = None
        self.use_override = False
        self.bytes_dropped = 0

    def ticks_ms(self) -> int:
        return int((self.clock() - self.boot_s) * 1000.0)

    def read(self) -> bytes:
        try:
            return os.read(self.master_fd, READ_MAX)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:  # EIO: no one has the slave open; EBADF: unplugged meanwhile
            return b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master_fd, view)
            except (BlockingIOError, InterruptedError):
                self.bytes_dropped += len(view)  # nobody reads: drop, as USB CDC does
                return
            except OSError:
                self.bytes_dropped += len(view)
                return
            view = view[n:]

    def distance_mm(self) -> int:
        if self.sensor_broken:
            raise OSError(errno.EIO, "I2C read failed (simulated)")
        if self.use_override:
            return codec.NO_TARGET if self.override_mm is None else self.override_mm
        return self.script.distance_mm(self.clock() - self.boot_s)

    def inputs(self) -> int:
        return self.levels

    def show_leds(self, rgb: bytes) -> None:
        self.pixels = bytes(rgb)

    def idle(self, ms: int) -> None:
        if ms <= 0:
            return
        try:
            select.select([self.master_fd], [], [], ms / 1000.0)
        except (OSError, ValueError):
            time.sleep(ms / 1000.0)


class Simulator:
    """The firmware on a thread behind a pty; see the module docstring.

    ``device_path`` is what the host opens: ``link_path`` when given (a symlink to the pty, kept
    across replugs like ``/dev/serial/by-id/...``), else the pty's own path (which may change on
    replug).
    """

    def __init__(
        self,
        *,
        link_path: str | None = None,
        script: VisitorScript | None = None,
        clock: Callable[[], float] = time.monotonic,
        led_count: int = 30,
        input_count: int = 3,
        sample_ms: int = SAMPLE_MS,
    ) -> None:
        self.link_path = link_path
        self.script = script or VisitorScript()
        self.clock = clock
        self.led_count = led_count
        self.input_count = input_count
        self.sample_ms = sample_ms
        self.pty_path: str | None = None
        self.boots = 0
        self._io = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._master: int | None = None
        self._slave: int | None = None
        self._hal: SimHal | None = None
        self._firmware: Firmware | None = None
        self._paused = False
        self._levels = 0
        self._sensor_broken = False
        self._override: tuple[bool, int | None] = (False, None)

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> str:
        """Make the pty, boot the firmware, serve; returns ``device_path``."""
        if self._thread is not None:
            raise SimulatorError("the simulator is already running")
        link = self.link_path
        if link is not None and os.path.lexists(link) and not os.path.islink(link):
            raise SimulatorError(f"{self.link_path} exists and is not a symlink")
        with self._io:
            self._plug()
        self._thread = threading.Thread(target=self._loop, name="firmware-sim", daemon=True)
        self._thread.start()
        return self.device_path

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        with self._io:
            self._unplug()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def device_path(self) -> str:
        path = self.link_path or self.pty_path
        if path is None:
            raise SimulatorError("the simulator is not plugged in")
        return path

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def boot_time(self) -> float:
        """The host-clock time of the firmware's boot: device time 0."""
        hal = self._hal
        if hal is None:
            raise SimulatorError("the simulator is not plugged in")
        return hal.boot_s

    @property
    def leds(self) -> bytes:
        """The LED strip's pixels, 3 bytes (r, g, b) each."""
        hal = self._hal
        return hal.pixels if hal is not None else bytes(3 * self.led_count)

    @property
    def firmware(self) -> Firmware | None:
        return self._firmware

    # -- acts of the world ---------------------------------------------------------------

    def press(self, input_id: int) -> None:
        self._set_level(input_id, True)

    def release(self, input_id: int) -> None:
        self._set_level(input_id, False)

    def pause(self) -> None:
        """The device hangs: it reads nothing and sends nothing until ``resume()``."""
        with self._io:
            self._paused = True

    def resume(self) -> None:
        with self._io:
            self._paused = False

    def unplug(self) -> None:
        """Pull the cable: the pty closes (the host's reads fail) and the symlink goes away."""
        with self._io:
            self._unplug()

    def replug(self) -> str:
        """Plug it back: a new pty, the symlink to it, and a freshly booted firmware."""
        with self._io:
            self._unplug()
            self._plug()
        return self.device_path

    def set_distance(self, distance_mm: int | None) -> None:
        """Hold the distance (None: nobody there) instead of following the script."""
        with self._io:
            self._override = (True, distance_mm)
            self._apply()

    def follow_script(self) -> None:
        with self._io:
            self._override = (False, None)
            self._apply()

    def break_sensor(self, broken: bool = True) -> None:
        with self._io:
            self._sensor_broken = broken
            self._apply()

    # -- inside --------------------------------------------------------------------------

    def _set_level(self, input_id: int, down: bool) -> None:
        if not 0 <= input_id < self.input_count:
            raise ValueError(f"input {input_id} out of range 0..{self.input_count - 1}")
        with self._io:
            bit = 1 << input_id
            self._levels = (self._levels | bit) if down else (self._levels & ~bit)
            self._apply()

    def _apply(self) -> None:
        hal = self._hal
        if hal is not None:
            hal.levels = self._levels
            hal.sensor_broken = self._sensor_broken
            hal.use_override, hal.override_mm = self._override

    def _plug(self) -> None:
        try:
            master, slave = os.openpty()
        except OSError as exc:
            raise SimulatorError(f"cannot open a pseudo-terminal: {exc}") from exc
        tty.setraw(slave)  # no echo, no line editing: a byte pipe like USB CDC
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.pty_path = os.ttyname(slave)
        self._hal = SimHal(
            master,
            clock=self.clock,
            script=self.script,
            led_count=self.led_count,
            input_count=self.input_count,
        )
        self._apply()
        self._firmware = Firmware(self._hal, sample_ms=self.sample_ms)
        self._firmware.start()
        self.boots += 1
        if self.link_path is not None:
            tmp = f"{self.link_path}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self.pty_path, tmp)
            os.replace(tmp, self.link_path)

    def _unplug(self) -> None:
        if self.link_path is not None and os.path.islink(self.link_path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link_path)
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        self._hal = None
        self._firmware = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._io:
                firmware, hal = self._firmware, self._hal
                if firmware is not None and hal is not None and not self._paused:
                    try:
                        firmware.step()
                    except Exception as exc:  # the firmware's own loop reports and goes on
                        firmware.error(
                            codec.ERR_INTERNAL, f"{type(exc).__name__}: {exc}", firmware.now()
                        )
                    wait_ms = firmware.idle_ms()
                else:
                    hal, wait_ms = None, 10
            if hal is not None:
                hal.idle(wait_ms)
            elif wait_ms:
                self._stop.wait(wait_ms / 1000.0)


# -- the command line ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m firmware_bridge.sim",
        description="Run the exhibit's reference firmware behind a pseudo-terminal. Prints the "
        "device path on its first line, then serves until SIGINT/SIGTERM or 'quit' on stdin.",
    )
    p.add_argument("--link", help="also make this symlink to the pty (kept across replugs)")
    p.add_argument(
        "--distance",
        help="hold the distance at this many mm ('none': nobody) instead of the visitor script",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sensor noise (default 0)")
    p.add_argument("--leds", type=int, default=30, help="LED strip length (default 30)")
    p.add_argument("--inputs", type=int, default=3, help="buttons / touch pads (default 3)")
    return p


def _control(sim: Simulator, line: str, out: Callable[[str], None]) -> bool:
    """Act on one control line; False for ``quit``."""
    words = line.split()
    if not words:
        return True
    cmd, args = words[0].lower(), words[1:]
    try:
        if cmd == "quit":
            return False
        if cmd in ("press", "release") and len(args) == 1:
            (sim.press if cmd == "press" else sim.release)(int(args[0]))
        elif cmd in ("pause", "resume", "unplug") and not args:
            getattr(sim, cmd)()
        elif cmd == "replug" and not args:
            out(f"replugged: {sim.replug()}")
            return True
        elif cmd == "distance" and len(args) == 1:
            if args[0] == "script":
                sim.follow_script()
            else:
                sim.set_distance(None if args[0] == "none" else int(args[0]))
        elif cmd == "sensor" and args in (["broken"], ["ok"]):
            sim.break_sensor(args[0] == "broken")
        else:
            out(f"unknown command {line.strip()!r}")
            return True
    except (ValueError, SimulatorError) as exc:
        out(f"{line.strip()}: {exc}")
        return True
    out(f"ok: {line.strip()}")
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m firmware_bridge.sim``: print the device path, then serve."""
    args = _parser().parse_args(argv)
    sim = Simulator(
        link_path=args.link,
        script=VisitorScript(seed=args.seed),
        led_count=args.leds,
        input_count=args.inputs,
    )
    if args.distance is not None:
        try:
            sim.set_distance(None if args.distance == "none" else int(args.distance))
        except ValueError:
            print(f"--distance: not a number of mm (got {args.distance!r})", file=sys.stderr)
            return 2
    try:
        path = sim.start()
    except SimulatorError as exc:
        print(f"bridge simulator: {exc}", file=sys.stderr)
        return 1
    print(path, flush=True)
    done = threading.Event()

    def stop(signum: int, frame: object) -> None:
        done.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}

    def err(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def read_stdin() -> None:
        for line in sys.stdin:
            if not _control(sim, line, err):
                done.set()
                return
        # end of input (e.g. started with </dev/null): keep serving until a signal

    if sys.stdin is not None and not sys.stdin.closed:
        threading.Thread(target=read_stdin, name="sim-control", daemon=True).start()
    try:
        while not done.wait(0.5):
            pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
