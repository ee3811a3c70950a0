"""Synthesize the demo exhibit's sounds into media/demo/sounds/, the same bytes every time.

    .venv/bin/python tools/make_demo_sounds.py            # writes media/demo/sounds/*.wav
    .venv/bin/python tools/make_demo_sounds.py --out DIR  # somewhere else

Six 22 050 Hz mono 16-bit WAV files (about 0.5 MB in all), made with numpy only (no samples,
no downloads, no text-to-speech engine):

- ``ambient.wav``: a 3.2 s pad that loops seamlessly: every partial and every slow modulation
  completes a whole number of cycles in the loop, so sample N would be sample 0 again.
- ``chime.wav``: a two-note bell (inharmonic partials, exponential decays).
- ``fanfare.wav``: a brass-like arpeggio up to a held, vibrato chord.
- ``narration_overview.wav``, ``narration_detail.wav``, ``narration_deep_dive.wav``: babble
  placeholders for the narrations of the three levels, by formant synthesis (a glottal
  harmonic series shaped by the first three formants of five vowels, with a falling pitch
  contour and noise bursts for consonants); longer for deeper levels.

Bit-for-bit reproducible on any machine: the only floating-point work is single IEEE
operations (+, -, x, /, sqrt, floor), which are correctly rounded everywhere; sine and
exponential come from tables built by power series in plain Python, never from libm or SIMD
math kernels, which may differ in the last bit between CPUs; the noise comes from numpy's
PCG64 generator, which is platform independent. tests/test_sound.py checks that the committed
files are exactly what this script writes.
"""

from __future__ import annotations

import argparse
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt

Signal = npt.NDArray[np.float64]

RATE_HZ = 22050
OUT_DIR = Path(__file__).resolve().parent.parent / "media" / "demo" / "sounds"
PI = 3.141592653589793

_TABLE_SIZE = 8192  # sine table entries per cycle (linear interpolation: error < 1e-7)
_EXP_STEP = 1.0 / 64.0  # exp(-x) table spacing
_EXP_MAX = 40.0  # exp(-x) is taken as 0 beyond this


# -- deterministic sine and exponential -------------------------------------------------------


def _sin_series(x: float) -> float:
    """sin(x) for |x| <= pi/2 by its Taylor series (plain Python floats: same bits anywhere)."""
    term = x
    total = x
    x2 = x * x
    for k in range(1, 14):
        term = -term * x2 / ((2 * k) * (2 * k + 1))
        total += term
    return total


def _build_sin_table() -> Signal:
    quarter = _TABLE_SIZE // 4
    first = [_sin_series((2.0 * PI) * k / _TABLE_SIZE) for k in range(quarter + 1)]
    values = [0.0] * (_TABLE_SIZE + 1)
    for k in range(quarter + 1):
        values[k] = first[k]  # rising to 1
        values[2 * quarter - k] = first[k]  # falling back to 0
        values[2 * quarter + k] = -first[k]
        values[_TABLE_SIZE - k] = -first[k]
    values[0] = values[2 * quarter] = values[_TABLE_SIZE] = 0.0
    return np.array(values, dtype=np.float64)


def _build_exp_table() -> Signal:
    step = 0.0  # exp(-_EXP_STEP) by its series
    term = 1.0
    for k in range(1, 20):
        term = term * -_EXP_STEP / k
        step += term
    ratio = 1.0 + step
    count = int(_EXP_MAX / _EXP_STEP) + 2
    values = [1.0] * count
    for k in range(1, count):
        values[k] = values[k - 1] * ratio
    values[-1] = 0.0
    return np.array(values, dtype=np.float64)


_SIN = _build_sin_table()
_EXP = _build_exp_table()


def _lookup(table: Signal, position: Signal) -> Signal:
    """Linear interpolation in ``table`` at fractional indices ``position`` (>= 0)."""
    index = np.floor(position)
    frac = np.subtract(position, index)
    i = index.astype(np.int64)
    low = table[i]
    rise = np.subtract(table[i + 1], low)
    return np.add(low, np.multiply(frac, rise))


def sine(cycles: Signal) -> Signal:
    """sin(2 pi x) for phases given in cycles."""
    frac = np.subtract(cycles, np.floor(cycles))
    return _lookup(_SIN, np.multiply(frac, float(_TABLE_SIZE)))


def decay(t_s: Signal, tau_s: float) -> Signal:
    """exp(-t / tau) for t >= 0."""
    x = np.minimum(np.multiply(t_s, 1.0 / (tau_s * _EXP_STEP)), len(_EXP) - 2.0)
    return _lookup(_EXP, x)


def times(duration_s: float) -> Signal:
    return np.arange(round(duration_s * RATE_HZ), dtype=np.float64) / float(RATE_HZ)


def ramp(t_s: Signal, start_s: float, length_s: float) -> Signal:
    """0 before ``start_s``, rising linearly to 1 over ``length_s``, then 1."""
    x = np.multiply(np.subtract(t_s, start_s), 1.0 / length_s)
    return np.clip(x, 0.0, 1.0)


def normalize(signal: Signal, peak: float) -> Signal:
    return np.multiply(signal, peak / float(np.max(np.abs(signal))))


# -- the sounds ---------------------------------------------------------------------------


def ambient() -> Signal:
    """A soft A-major pad, 3.2 s, seamless as a loop."""
    loop_samples = round(3.2 * RATE_HZ)  # 70 560
    n = np.arange(loop_samples, dtype=np.int64)
    base_hz = RATE_HZ / loop_samples  # 0.3125 Hz: every partial is a whole multiple of it

    def periodic(k: int) -> Signal:  # sin of k whole cycles over the loop, phase exact
        return sine(((k * n) % loop_samples).astype(np.float64) / float(loop_samples))

    out = np.zeros(loop_samples)
    chord_hz = (110.0, 164.81, 220.0, 277.18, 329.63)
    for voice, note_hz in enumerate(chord_hz):
        k = round(note_hz / base_hz)
        for detune in (-1, 1):  # pairs one step apart beat gently, 0.625 Hz
            for harmonic, amp in ((1, 1.0), (2, 0.32), (3, 0.1)):
                weight = amp / (1.0 + 0.35 * voice)
                out = np.add(out, np.multiply(periodic(harmonic * k + detune), weight))
    swell = np.add(1.0, np.multiply(periodic(1), 0.18))  # one slow breath per loop
    out = np.multiply(out, swell)
    shimmer_k = round(880.0 / base_hz)
    shimmer = np.multiply(periodic(shimmer_k), np.add(0.5, np.multiply(periodic(2), 0.5)))
    out = np.add(out, np.multiply(shimmer, 0.12))
    return normalize(out, 0.45)


def _bell(t_s: Signal, start_s: float, fundamental_hz: float) -> Signal:
    partials = [(1.0, 1.0, 0.7), (2.0, 0.45, 0.45), (2.76, 0.35, 0.3), (5.4, 0.2, 0.15)]
    partials.append((8.93, 0.1, 0.08))  # (ratio to the fundamental, amplitude, decay s)
    local = np.maximum(np.subtract(t_s, start_s), 0.0)
    out = np.zeros_like(t_s)
    for ratio, amp, tau_s in partials:
        tone = sine(np.multiply(local, fundamental_hz * ratio))
        out = np.add(out, np.multiply(tone, np.multiply(decay(local, tau_s), amp)))
    attack = ramp(t_s, start_s, 0.003)
    return np.multiply(out, attack)


def chime() -> Signal:
    """Two bell strokes, E6 then C6, 1.0 s."""
    t = times(1.0)
    out = np.add(_bell(t, 0.0, 1318.5), np.multiply(_bell(t, 0.16, 1046.5), 0.9))
    tail = np.subtract(1.0, ramp(t, 0.97, 0.03))
    return normalize(np.multiply(out, tail), 0.7)


def _brass(t_s: Signal, start_s: float, end_s: float, note_hz: float, vibrato: bool) -> Signal:
    local = np.maximum(np.subtract(t_s, start_s), 0.0)
    phase = np.multiply(local, note_hz)
    if vibrato:  # +-0.4 % at 5.5 Hz, fading in after 0.25 s, as a phase offset (integrated)
        depth = np.multiply(ramp(t_s, start_s + 0.25, 0.3), note_hz * 0.004 / (2 * PI * 5.5))
        wobble = sine(np.add(np.multiply(local, 5.5), 0.75))  # -cos
        phase = np.add(phase, np.multiply(depth, wobble))
    gate = np.multiply(ramp(t_s, start_s, 0.025), np.subtract(1.0, ramp(t_s, end_s - 0.06, 0.06)))
    brightness = np.add(0.35, np.multiply(ramp(t_s, start_s, 0.08), 0.65))
    out = np.zeros_like(t_s)
    for h in range(1, 9):
        weight = np.multiply(brightness, 1.0 / h) if h > 1 else 1.0
        out = np.add(out, np.multiply(sine(np.multiply(phase, float(h))), weight))
    return np.multiply(out, gate)


def fanfare() -> Signal:
    """C5 E5 G5 then a held C major chord with vibrato, 1.5 s."""
    t = times(1.5)
    out = np.zeros_like(t)
    for i, note_hz in enumerate((523.25, 659.25, 783.99)):
        start = 0.14 * i
        out = np.add(out, _brass(t, start, start + 0.13, note_hz, vibrato=False))
    for note_hz, weight in ((1046.5, 1.0), (783.99, 0.6), (659.25, 0.5), (523.25, 0.5)):
        out = np.add(out, np.multiply(_brass(t, 0.42, 1.5, note_hz, vibrato=True), weight))
    return normalize(out, 0.7)


# Formants (F1, F2, F3 in Hz) of five vowels, and the bandwidths used for all of them.
VOWELS = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
}
BANDWIDTHS_HZ = (90.0, 110.0, 170.0)


class _Lcg:
    """A tiny deterministic random source for the syllable plan (plain integers)."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def below(self, n: int) -> int:
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        return (self.state >> 33) % n


def narration(duration_s: float, pitch_hz: float, seed: int) -> Signal:
    """Speech-like babble: syllables of varying vowels, grouped into words, falling pitch."""
    t = times(duration_s)
    total = len(t)
    rng = _Lcg(seed)
    f0 = np.full(total, pitch_hz)
    formants = [np.zeros(total) for _ in range(3)]
    gain = np.zeros(total)
    onsets: list[int] = []
    position = round(0.05 * RATE_HZ)
    previous = VOWELS["e"]
    while position < total - round(0.25 * RATE_HZ):
        for _ in range(2 + rng.below(3)):  # a word of 2-4 syllables
            length = round((0.15 + 0.02 * rng.below(5)) * RATE_HZ)
            end = min(position + length, total - round(0.05 * RATE_HZ))
            if end - position < round(0.08 * RATE_HZ):
                break
            vowel = VOWELS["aeiou"[rng.below(5)]]
            span = np.arange(end - position, dtype=np.float64)
            glide = np.minimum(np.multiply(span, 1.0 / (0.04 * RATE_HZ)), 1.0)
            for j in range(3):
                moved = np.multiply(glide, vowel[j] - previous[j])
                formants[j][position:end] = np.add(moved, previous[j])
            seconds = np.multiply(span, 1.0 / RATE_HZ)
            rise = ramp(seconds, 0.0, 0.03)
            fall = np.subtract(1.0, ramp(seconds, (end - position) / RATE_HZ - 0.05, 0.05))
            stress = 1.0 if rng.below(3) else 1.12  # some syllables higher and louder
            gain[position:end] = np.multiply(np.multiply(rise, fall), stress)
            f0[position:end] = np.multiply(f0[position:end], stress)
            onsets.append(position)
            previous = vowel
            position = end
        position += round((0.07 + 0.03 * rng.below(3)) * RATE_HZ)  # the gap between words
    declination = np.subtract(1.0, np.multiply(t, 0.22 / duration_s))  # the pitch falls
    f0 = np.multiply(f0, declination)
    phase = np.cumsum(np.multiply(f0, 1.0 / RATE_HZ))
    voiced = np.zeros(total)
    for h in range(1, int(4000.0 / pitch_hz) + 1):
        frequency = np.multiply(f0, float(h))
        shape = np.zeros(total)
        for j in range(3):
            offset = np.multiply(np.subtract(frequency, formants[j]), 2.0 / BANDWIDTHS_HZ[j])
            resonance = np.divide(1.0, np.sqrt(np.add(np.multiply(offset, offset), 1.0)))
            shape = np.add(shape, np.multiply(resonance, 1.0 / (1 + j)))
        weight = np.multiply(shape, 1.0 / h)  # the glottal source's spectral tilt
        voiced = np.add(voiced, np.multiply(sine(np.multiply(phase, float(h))), weight))
    voiced = np.multiply(voiced, gain)
    noise = np.random.default_rng(seed).random(total + 1)
    hiss = np.subtract(noise[1:], noise[:-1])  # first difference: a crude high-pass
    bursts = np.zeros(total)
    for onset in onsets:
        if rng.below(2):
            continue
        length = min(round(0.045 * RATE_HZ), total - onset)
        local = np.multiply(np.arange(length, dtype=np.float64), 1.0 / RATE_HZ)
        bursts[onset : onset + length] = decay(local, 0.012)
    consonants = np.multiply(hiss, np.multiply(bursts, 0.5))
    return normalize(np.add(voiced, np.multiply(consonants, float(np.max(voiced)))), 0.7)


SOUNDS: dict[str, Callable[[], Signal]] = {
    "ambient": ambient,
    "chime": chime,
    "fanfare": fanfare,
    "narration_overview": lambda: narration(1.5, 135.0, 1),
    "narration_detail": lambda: narration(2.0, 125.0, 2),
    "narration_deep_dive": lambda: narration(2.5, 115.0, 3),
}
"""Each demo sound by name (its file is NAME.wav), as a function giving samples in -1..1."""


# -- files ---------------------------------------------------------------------------------


def to_pcm16(signal: Signal) -> bytes:
    """Little-endian 16-bit samples, rounded half to even."""
    scaled = np.rint(np.multiply(np.clip(signal, -1.0, 1.0), 32767.0))
    return bytes(scaled.astype("<i2").tobytes())


def write_wav(path: Path, signal: Signal) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE_HZ)
        out.writeframes(to_pcm16(signal))


def generate(out_dir: Path) -> list[Path]:
    """Write every demo sound into ``out_dir`` (created if needed); return the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in SOUNDS.items():
        path = out_dir / f"{name}.wav"
        write_wav(path, make())
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"folder (default {OUT_DIR})")
    args = parser.parse_args(argv)
    total = 0
    for path in generate(args.out):
        size = path.stat().st_size
        total += size
        print(f"{path}  {size / 1000:.0f} kB")
    print(f"{total / 1000:.0f} kB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
