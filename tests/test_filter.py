"""The One Euro filter and the skeleton filter: exactness, bounds, timing, resets, jitter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exhibit.config.schema import FilterConfig
from exhibit.filtering import OneEuroFilter, SkeletonFilter
from exhibit.filtering.one_euro import smoothing_factor
from exhibit.skeleton import NUM_LANDMARKS, Skeleton

SETTINGS = settings(max_examples=60, deadline=None)

dts = st.floats(min_value=1e-3, max_value=0.5, allow_nan=False)
params = st.tuples(
    st.floats(min_value=0.05, max_value=5.0),  # min_cutoff_hz
    st.floats(min_value=0.0, max_value=100.0),  # beta
    st.floats(min_value=0.1, max_value=5.0),  # d_cutoff_hz
)


def alpha(dt_s: float, cutoff_hz: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


def skeleton(value: float, vis: float = 0.9, world: bool = True) -> Skeleton:
    lm = np.full((NUM_LANDMARKS, 4), value)
    lm[:, 3] = vis
    return Skeleton(lm, np.full((NUM_LANDMARKS, 3), value * 2) if world else None)


# --- OneEuroFilter -------------------------------------------------------------------------


@SETTINGS
@given(
    p=params,
    values=st.lists(st.floats(-10, 10), min_size=1, max_size=6),
    steps=st.lists(st.one_of(dts, st.just(0.0)), min_size=1, max_size=60),
)
def test_constant_input_stays_exactly_constant(
    p: tuple[float, float, float], values: list[float], steps: list[float]
) -> None:
    f = OneEuroFilter(*p)
    x = np.array(values)
    t = 0.0
    assert np.array_equal(f(t, x), x)
    for dt in steps:
        t += dt
        assert np.array_equal(f(t, x), x)


@SETTINGS
@given(
    p=params,
    a=st.floats(-5, 5),
    b=st.floats(-5, 5),
    steps=st.lists(st.floats(1 / 60, 1 / 10), min_size=5, max_size=20),
)
def test_step_converges_without_overshoot(
    p: tuple[float, float, float], a: float, b: float, steps: list[float]
) -> None:
    f = OneEuroFilter(*p)
    t = 0.0
    previous = f(t, np.array([a]))[0]
    assert previous == a
    i = 0
    while t < 30.0:  # long enough for the slowest cutoff tried (0.05 Hz: tau ~ 3.2 s)
        t += steps[i % len(steps)]
        i += 1
        out = f(t, np.array([b]))[0]
        assert min(a, b) <= out <= max(a, b)
        # Monotone towards the target: never turns back, never passes it.
        assert abs(b - out) <= abs(b - previous)
        previous = out
    assert abs(previous - b) < 1e-3


@SETTINGS
@given(
    p=params,
    samples=st.lists(
        st.tuples(dts, st.lists(st.floats(-100, 100), min_size=3, max_size=3)),
        min_size=1,
        max_size=40,
    ),
)
def test_output_stays_within_the_inputs_range(
    p: tuple[float, float, float], samples: list[tuple[float, list[float]]]
) -> None:
    f = OneEuroFilter(*p)
    t = 0.0
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    for dt, values in samples:
        t += dt
        x = np.array(values)
        lo, hi = np.minimum(lo, x), np.maximum(hi, x)
        out = f(t, x)
        assert np.all(lo <= out), (lo, out)
        assert np.all(out <= hi), (hi, out)


def test_follows_the_papers_algorithm_with_variable_intervals() -> None:
    mc, beta, dc = 1.0, 2.0, 1.5
    f = OneEuroFilter(mc, beta, dc)
    # Irregular frame times, including a long and a short interval.
    times = [0.0, 0.033, 0.1, 0.105, 0.305, 0.34]
    xs = [0.5, 0.52, 0.61, 0.60, 0.3, 0.31]
    x_hat, dx_hat = xs[0], 0.0
    assert f(times[0], np.array([xs[0]]))[0] == xs[0]
    for i in range(1, len(times)):
        dt = times[i] - times[i - 1]
        dx = (xs[i] - x_hat) / dt  # from the previous *filtered* value, as in the paper
        dx_hat = dx_hat + alpha(dt, dc) * (dx - dx_hat)
        cutoff = mc + beta * abs(dx_hat)
        x_hat = x_hat + alpha(dt, cutoff) * (xs[i] - x_hat)
        assert f(times[i], np.array([xs[i]]))[0] == pytest.approx(x_hat, rel=1e-12)


def test_a_longer_interval_moves_further() -> None:
    outs = []
    for dt in (1 / 60, 1 / 30, 1 / 10):
        f = OneEuroFilter(1.0, 0.0, 1.0)
        f(0.0, np.zeros(1))
        outs.append(f(dt, np.ones(1))[0])
        assert outs[-1] == pytest.approx(alpha(dt, 1.0))
    assert outs[0] < outs[1] < outs[2]


def test_irregular_and_regular_frames_agree() -> None:
    """The same motion sampled at jittery and steady 30 fps gives nearly the same output."""
    rng = np.random.default_rng(1)
    steady = np.arange(0, 2.0, 1 / 30)
    jittery = np.sort(steady + rng.uniform(-0.01, 0.01, steady.shape))
    jittery[0] = 0.0

    def motion(t: float) -> float:
        return 0.5 + 0.1 * math.sin(2 * math.pi * 1.0 * t)

    results = []
    for times in (steady, jittery):
        f = OneEuroFilter(1.0, 10.0, 1.0)
        out = 0.0
        for t in times:
            out = f(float(t), np.array([motion(float(t))]))[0]
        results.append(out - motion(float(times[-1])))
    assert results[0] == pytest.approx(results[1], abs=0.01)


def test_duplicate_and_backwards_timestamps_are_safe() -> None:
    f = OneEuroFilter(1.0, 1.0, 1.0)
    f(0.0, np.array([0.0, 1.0]))
    before = f(0.1, np.array([1.0, 0.0]))
    # dt == 0 and dt < 0: no division by zero (warnings are errors here), previous output kept.
    assert np.array_equal(f(0.1, np.array([9.0, 9.0])), before)
    assert np.array_equal(f(0.05, np.array([9.0, 9.0])), before)
    after = f(0.2, np.array([1.0, 0.0]))
    assert np.all(np.isfinite(after))
    assert after[0] > before[0]


def test_reset_makes_the_next_sample_pass_through() -> None:
    f = OneEuroFilter(1.0, 1.0, 1.0)
    f(0.0, np.zeros(2))
    f(0.1, np.ones(2))
    f.reset()
    assert not f.started
    assert np.array_equal(f(0.2, np.array([5.0, 6.0])), [5.0, 6.0])


def test_output_is_a_fresh_array_and_shape_is_checked() -> None:
    f = OneEuroFilter(1.0, 1.0, 1.0)
    x = np.zeros((33, 3))
    out = f(0.0, x)
    out[:] = 7.0
    x[:] = 7.0
    assert np.array_equal(f(0.1, np.zeros((33, 3))), np.zeros((33, 3)))
    with pytest.raises(ValueError, match="shape"):
        f(0.2, np.zeros((33, 2)))


@pytest.mark.parametrize(
    ("mc", "beta", "dc"), [(0.0, 1.0, 1.0), (1.0, -1.0, 1.0), (1.0, 1.0, 0.0), (math.nan, 1, 1)]
)
def test_bad_parameters_are_refused(mc: float, beta: float, dc: float) -> None:
    with pytest.raises(ValueError):
        OneEuroFilter(mc, beta, dc)


def test_smoothing_factor_matches_the_formula() -> None:
    assert float(smoothing_factor(0.1, 2.0)) == pytest.approx(alpha(0.1, 2.0))
    assert float(smoothing_factor(0.1, 0.0)) == 0.0


@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_defaults_remove_most_jitter_at_rest(fps: float) -> None:
    """A still body with ~2 px of MediaPipe-like jitter: std drops by a large factor."""
    cfg = FilterConfig()
    rng = np.random.default_rng(0)
    f = OneEuroFilter(cfg.min_cutoff_hz, cfg.beta, cfg.d_cutoff_hz)
    n = int(10 * fps)
    noisy = 0.5 + rng.normal(0.0, 0.003, size=(n, 33, 3))
    out = np.array([f(i / fps, noisy[i]) for i in range(n)])
    settled = slice(n // 4, None)
    factor = noisy[settled].std() / out[settled].std()
    assert factor > 2.5, factor


# --- SkeletonFilter ------------------------------------------------------------------------


def test_skeleton_filter_smooths_coordinates_and_passes_visibility() -> None:
    f = SkeletonFilter(FilterConfig())
    first = f.update(0.0, skeleton(0.5, vis=0.2))
    assert first is not None and first.world_m is not None
    assert np.array_equal(first.landmarks[:, :3], np.full((33, 3), 0.5))
    out = f.update(1 / 30, skeleton(0.6, vis=0.95))
    assert out is not None and out.world_m is not None
    assert np.all((out.landmarks[:, :3] > 0.5) & (out.landmarks[:, :3] < 0.6))
    assert np.array_equal(out.landmarks[:, 3], np.full(33, 0.95))  # not delayed
    assert np.all((out.world_m > 1.0) & (out.world_m < 1.2))


def test_skeleton_filter_resets_on_tracking_loss() -> None:
    f = SkeletonFilter(FilterConfig())
    f.update(0.0, skeleton(0.5))
    assert f.update(1 / 30, None) is None
    out = f.update(2 / 30, skeleton(0.8))
    assert out is not None
    assert np.array_equal(out.landmarks[:, :3], np.full((33, 3), 0.8))


@pytest.mark.parametrize(("gap_s", "resets"), [(0.4, False), (0.6, True)])
def test_skeleton_filter_resets_after_a_gap(gap_s: float, resets: bool) -> None:
    f = SkeletonFilter(FilterConfig(reset_after_s=0.5))
    for i in range(10):
        f.update(i / 30, skeleton(0.5))
    out = f.update(9 / 30 + gap_s, skeleton(0.8))
    assert out is not None
    passed_through = np.array_equal(out.landmarks[:, :3], np.full((33, 3), 0.8))
    assert passed_through is resets


def test_skeleton_filter_backwards_clock_starts_again_and_duplicate_holds() -> None:
    f = SkeletonFilter(FilterConfig())
    f.update(1.0, skeleton(0.5))
    held = f.update(1.0, skeleton(0.9, vis=0.4))
    assert held is not None
    assert np.array_equal(held.landmarks[:, :3], np.full((33, 3), 0.5))
    assert np.array_equal(held.landmarks[:, 3], np.full(33, 0.4))
    restarted = f.update(0.0, skeleton(0.7))
    assert restarted is not None
    assert np.array_equal(restarted.landmarks[:, :3], np.full((33, 3), 0.7))


def test_skeleton_filter_world_is_optional_and_separate() -> None:
    f = SkeletonFilter(FilterConfig())
    out = f.update(0.0, skeleton(0.5, world=False))
    assert out is not None and out.world_m is None
    f.update(1 / 30, skeleton(0.5))  # world appears: its own filter starts here
    out = f.update(2 / 30, skeleton(0.5))
    assert out is not None and out.world_m is not None
    assert np.array_equal(out.world_m, np.full((33, 3), 1.0))
    assert np.array_equal(out.landmarks[:, :3], np.full((33, 3), 0.5))


def test_disabled_filter_returns_its_input() -> None:
    f = SkeletonFilter(FilterConfig(enabled=False))
    s = skeleton(0.5)
    assert f.update(0.0, s) is s
    assert f.update(0.1, None) is None
