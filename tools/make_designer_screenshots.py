"""Make the screenshots in ``docs/designer-tools.md`` with the tools themselves.

- ``docs/img/stage.png``: ``exhibit stage`` after the cues of the demo's *explain* state, a
  narration level, an engagement value, a second of the right-wrist stream and a sound cue
  (sent over UDP, as the show sends them);
- ``docs/img/simulate.png``: ``exhibit simulate`` on the demo config and the demo recording,
  12 s in (the visitor has walked up and waved; the show is in *explain*);
- ``docs/img/simulate-keys.png``: the keyboard visitor: E (enter), W (wave), then the right
  hand held up by the mouse.

Run from the repository root (no screen needed)::

    SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy .venv/bin/python tools/make_designer_screenshots.py
"""

from __future__ import annotations

import argparse
import contextlib
import math
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pythonosc.udp_client import SimpleUDPClient  # noqa: E402

from exhibit.ui.simulate import run_simulate  # noqa: E402
from exhibit.ui.stage import run_stage  # noqa: E402

DEMO = ROOT / "media" / "demo"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def stage_shot(path: Path) -> None:
    port = free_port()
    stop, ready = threading.Event(), threading.Event()

    def send() -> None:
        try:
            if not ready.wait(10.0):
                return
            with contextlib.closing(SimpleUDPClient(LOOPBACK, port)) as client:
                client.send_message("/scene", "explain")
                client.send_message("/title", "Raise both hands to split the cell")
                client.send_message("/level", "detail")
                client.send_message("/engagement", 0.8)
                client.send_message("/sound/play", ["narration_overview", 1.0])
                for i in range(16):  # a hand sweeping up and to the side
                    a = i / 15
                    x = 0.22 + 0.18 * a
                    y = 0.72 - 0.3 * math.sin(a * math.pi / 2)
                    client.send_message("/exhibit/visitor/right_wrist", [x, y, 0.0])
                    time.sleep(0.06)
            time.sleep(0.3)
        finally:
            stop.set()

    thread = threading.Thread(target=send)
    thread.start()
    code = run_stage(port, host=LOOPBACK, size=(960, 540), stop=stop, screenshot=path, ready=ready)
    thread.join()
    if code != 0:
        raise SystemExit(f"stage failed ({code})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    stage_shot(out / "stage.png")
    config = DEMO / "exhibit.toml"
    code = run_simulate(
        config,
        recording=DEMO / "visitor.jsonl",
        frames=360,
        speed=None,
        screenshot=out / "simulate.png",
    )
    keys = [(0.2, "e"), (1.0, "w"), (4.5, "mouse 0.36 0.3")]
    code |= run_simulate(
        config, frames=150, speed=None, script=keys, screenshot=out / "simulate-keys.png"
    )
    for name in ("stage.png", "simulate.png", "simulate-keys.png"):
        print(f"{out / name}: {(out / name).stat().st_size // 1024} KB")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
