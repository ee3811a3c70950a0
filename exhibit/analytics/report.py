"""``exhibit report``: what visitors did over a period, for a curator, from the session store.

The figures are computed from stored sessions by pure functions (:func:`summarize`); the page
is one self-contained HTML file whose plots are PNG images (matplotlib, Agg backend, no display)
embedded as base64, so it can be mailed or opened from a USB stick. Hours and days are in the
local time of the machine that makes the report.

- **Visitors per hour of the day and per day.**
- **Dwell**: how long visits lasted, binned (under 10 s, 10-30 s, ... over 5 min); median and
  90th percentile.
- **Funnel**: how many visits reached each state and each narration level.
- **Gestures**: for each gesture, in how many visits the show offered it (a state listened for
  it), in how many it was recognized, and in how many it was recognized when offered.
- **Attract-loop conversion**: the share of visits that went on from the attract loop (the
  initial state) into the content, i.e. reached a narration level.
- **How visits ended**: left, timed out, reset, shutdown.

Example:
    >>> parse_since("7d"), parse_since("36h"), parse_since("all")
    (604800.0, 129600.0, None)
    >>> summarize([]).visits
    0
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from exhibit.analytics.sessions import ENDINGS
from exhibit.analytics.store import StoredSession

CURVE_MIN_SHARE = 0.02
"""A point of the mean engagement curve needs this share of the visits."""
SINCE_UNITS_S = {"m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
DWELL_EDGES_S = (0.0, 10.0, 30.0, 60.0, 120.0, 300.0)
DWELL_LABELS = ("< 10 s", "10-30 s", "30-60 s", "1-2 min", "2-5 min", "> 5 min")
CSV_COLUMNS = (
    "id",
    "started_at",
    "exhibit",
    "dwell_s",
    "ended",
    "states",
    "levels",
    "zones",
    "gestures",
    "gestures_offered",
    "gestures_used",
    "engagement_max",
    "engagement_mean",
)


def parse_since(text: str) -> float | None:
    """``"7d"``, ``"36h"``, ``"90m"``, ``"2w"`` in seconds; ``"all"`` is None (no bound).

    Raises ValueError with the accepted forms."""
    value = text.strip().lower()
    if value == "all":
        return None
    number, unit = value[:-1], value[-1:]
    try:
        amount = float(number)
    except ValueError:
        amount = math.nan
    if unit not in SINCE_UNITS_S or not math.isfinite(amount) or amount <= 0:
        raise ValueError(
            f"--since {text!r}: expected a positive number and a unit, e.g. 90m, 36h, 7d, 2w, "
            "or all"
        )
    return amount * SINCE_UNITS_S[unit]


def _local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts)


@dataclass
class GestureFigures:
    offered: int = 0
    recognized: int = 0
    used: int = 0


@dataclass
class Summary:
    """Everything the report shows, computed from the sessions."""

    visits: int = 0
    people: int = 0
    first: float | None = None
    last: float | None = None
    per_hour: list[int] = field(default_factory=lambda: [0] * 24)
    per_day: dict[str, int] = field(default_factory=dict)
    dwell_bins: list[int] = field(default_factory=lambda: [0] * len(DWELL_LABELS))
    dwell_median_s: float = 0.0
    dwell_p90_s: float = 0.0
    dwell_total_s: float = 0.0
    states: list[tuple[str, int]] = field(default_factory=list)
    levels: list[tuple[str, int]] = field(default_factory=list)
    gestures: dict[str, GestureFigures] = field(default_factory=dict)
    converted: int = 0
    converted_per_day: dict[str, int] = field(default_factory=dict)
    endings: dict[str, int] = field(default_factory=dict)
    engagement_curve: list[tuple[float, float]] = field(default_factory=list)
    exhibits: set[str] = field(default_factory=set)

    @property
    def conversion(self) -> float:
        return self.converted / self.visits if self.visits else 0.0


class _Funnel:
    """Each name with the number of visits that reached it, most first (ties: first seen)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.order: dict[str, int] = {}

    def add(self, names: Iterable[str]) -> None:
        for name in dict.fromkeys(names):
            self.counts[name] += 1
            self.order.setdefault(name, len(self.order))

    def ranked(self) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], self.order[kv[0]]))


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(sessions: Iterable[StoredSession]) -> Summary:
    """The report's figures for these sessions, in one pass (they may come from
    :meth:`SessionStore.iter_sessions`, never all in memory)."""
    out = Summary()
    dwells: list[float] = []
    curve: dict[float, list[float]] = {}
    states, levels = _Funnel(), _Funnel()
    for session in sessions:
        s = session.summary
        out.visits += 1
        out.people += int(s.get("people", 1))
        t = session.started_at
        out.first = t if out.first is None else min(out.first, t)
        out.last = t if out.last is None else max(out.last, t)
        if s.get("exhibit"):
            out.exhibits.add(str(s["exhibit"]))
        states.add(s.get("states", ()))
        levels.add(s.get("levels", ()))
        when = _local(session.started_at)
        day = when.strftime("%Y-%m-%d")
        out.per_hour[when.hour] += 1
        out.per_day[day] = out.per_day.get(day, 0) + 1
        dwell = float(s.get("dwell_s", 0.0))
        dwells.append(dwell)
        index = sum(1 for edge in DWELL_EDGES_S[1:] if dwell >= edge)
        out.dwell_bins[index] += 1
        ended = str(s.get("ended", "left"))
        out.endings[ended] = out.endings.get(ended, 0) + 1
        if s.get("levels"):
            out.converted += 1
            out.converted_per_day[day] = out.converted_per_day.get(day, 0) + 1
        offered = set(s.get("gestures_offered", ()))
        recognized = set(s.get("gestures", {}))
        used = set(s.get("gestures_used", ()))
        for name in offered | recognized:
            figures = out.gestures.setdefault(name, GestureFigures())
            figures.offered += name in offered
            figures.recognized += name in recognized
            figures.used += name in used
        own: dict[float, list[float]] = {}  # this visit's points, by 10 s of the visit
        for offset_s, score in s.get("engagement", ()):
            own.setdefault(10.0 * math.floor(float(offset_s) / 10.0), []).append(float(score))
        for bucket, scores in own.items():  # then one value per visit and bucket
            curve.setdefault(bucket, []).append(statistics.fmean(scores))
    if out.visits == 0:
        return out
    out.dwell_total_s = sum(dwells)
    out.dwell_median_s = statistics.median(dwells)
    out.dwell_p90_s = _percentile(dwells, 0.9)
    out.states = states.ranked()
    out.levels = levels.ranked()
    out.gestures = dict(sorted(out.gestures.items()))
    # Only where enough visits lasted that long: one lingering visitor is not a trend.
    enough = math.ceil(CURVE_MIN_SHARE * out.visits)
    out.engagement_curve = [
        (t, statistics.fmean(v)) for t, v in sorted(curve.items()) if len(v) >= enough
    ]
    return out


def _period_text(since: float | None, until: float) -> str:
    end = _local(until).strftime("%Y-%m-%d %H:%M")
    if since is None:
        return f"all sessions up to {end}"
    return f"{_local(since).strftime('%Y-%m-%d %H:%M')} to {end}"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def render_text(summary: Summary, since: float | None, until: float, database: str) -> str:
    """The terminal's version of the report."""
    period = _period_text(since, until)
    if summary.visits == 0:
        return f"No visitors in this period ({period}) in {database}.\n"
    lines = [
        f"{summary.visits} visit(s), {summary.people} "
        f"{'person' if summary.people == 1 else 'people'}, {period} ({database})",
        f"dwell: median {_minutes(summary.dwell_median_s)}, 90% under "
        f"{_minutes(summary.dwell_p90_s)}, total {_minutes(summary.dwell_total_s)}",
        f"attract-loop conversion: {summary.converted}/{summary.visits} "
        f"({summary.conversion:.0%}) went on into the content (reached a narration level)",
        "per day: " + ", ".join(f"{d} {n}" for d, n in sorted(summary.per_day.items())),
        "busiest hours: "
        + ", ".join(
            f"{h:02d}h {n}"
            for h, n in sorted(enumerate(summary.per_hour), key=lambda hn: -hn[1])[:3]
            if n
        ),
        "states reached: " + ", ".join(f"{name} {n}" for name, n in summary.states),
        "levels reached: " + (", ".join(f"{name} {n}" for name, n in summary.levels) or "none"),
        "gestures (offered / recognized / recognized when offered): "
        + (
            ", ".join(
                f"{name} {g.offered}/{g.recognized}/{g.used}"
                for name, g in summary.gestures.items()
            )
            or "none"
        ),
        "ended: "
        + ", ".join(f"{e} {summary.endings[e]}" for e in ENDINGS if summary.endings.get(e)),
    ]
    return "\n".join(lines) + "\n"


# -- plots ----------------------------------------------------------------------------------

BAR = "#3a6ea5"
BAR_2 = "#e0a030"
BAR_3 = "#5aa469"


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _legend_above(ax: Any) -> None:
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=3, frameon=False)


def _figure(height_in: float = 3.0) -> tuple[Any, Any]:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(8.0, height_in), layout="constrained")
    ax = fig.add_subplot()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of visits
    return fig, ax


def plots(summary: Summary) -> list[tuple[str, str]]:
    """``(title, base64 PNG)`` for each plot of a non-empty summary."""
    images: list[tuple[str, str]] = []

    fig, ax = _figure()
    ax.bar(range(24), summary.per_hour, color=BAR)
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("hour of the day")
    ax.set_ylabel("visits")
    images.append(("Visitors per hour of the day", _png(fig)))

    days = sorted(summary.per_day)
    fig, ax = _figure()
    x = list(range(len(days)))  # positions, not dates: one bar per day that had visits
    # Side by side, not overlaid: on a day when every visit converted, the second bar would
    # hide the first.
    ax.bar([i - 0.2 for i in x], [summary.per_day[d] for d in days], 0.4, color=BAR, label="visits")
    ax.bar(
        [i + 0.2 for i in x],
        [summary.converted_per_day.get(d, 0) for d in days],
        0.4,
        color=BAR_3,
        label="went into the content",
    )
    ax.set_xticks(x, days, rotation=45 if len(days) > 7 else 0)
    ax.set_xlim(-0.5, max(len(days), 7) - 0.5)  # a day's bar as wide as in a week's chart
    ax.set_ylabel("visits")
    _legend_above(ax)
    images.append(("Visitors per day, and how many the attract loop converted", _png(fig)))

    fig, ax = _figure()
    ax.bar(range(len(DWELL_LABELS)), summary.dwell_bins, color=BAR)
    ax.set_xticks(range(len(DWELL_LABELS)), DWELL_LABELS)
    ax.set_xlabel("how long the visit lasted")
    ax.set_ylabel("visits")
    images.append(("Dwell time", _png(fig)))

    from matplotlib.ticker import MaxNLocator

    rows = [(f"state: {n}", c) for n, c in summary.states]
    rows += [(f"level: {n}", c) for n, c in summary.levels]
    fig, ax = _figure(0.6 + 0.35 * len(rows))
    names = [r[0] for r in rows][::-1]
    ax.barh(range(len(rows)), [r[1] for r in rows][::-1], color=BAR)
    ax.set_yticks(range(len(rows)), names)
    ax.set_xlabel("visits that reached it")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0, summary.visits * 1.18)  # room for the labels
    ax.bar_label(
        ax.containers[0],
        labels=[f"{c} ({c / summary.visits:.0%})" for _, c in rows][::-1],
        padding=3,
    )
    images.append(("Funnel: how far visitors went", _png(fig)))

    if summary.gestures:
        names = list(summary.gestures)
        g = [summary.gestures[n] for n in names]
        fig, ax = _figure()
        x = list(range(len(names)))
        width = 0.27
        ax.bar([i - width for i in x], [f.offered for f in g], width, label="offered", color=BAR)
        ax.bar(x, [f.recognized for f in g], width, label="recognized", color=BAR_2)
        ax.bar(
            [i + width for i in x],
            [f.used for f in g],
            width,
            label="recognized when offered",
            color=BAR_3,
        )
        ax.set_xticks(x, names)
        ax.set_ylabel("visits")
        _legend_above(ax)
        images.append(("Gestures: offered by the show vs recognized", _png(fig)))

    if summary.engagement_curve:
        from matplotlib.ticker import AutoLocator

        fig, ax = _figure()
        ax.plot(
            [t for t, _ in summary.engagement_curve],
            [v for _, v in summary.engagement_curve],
            color=BAR,
            marker="o",
        )
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_locator(AutoLocator())
        ax.set_xlabel("seconds since arrival")
        ax.set_ylabel("mean engagement (0..1)")
        images.append(("Engagement during a visit (mean over visits)", _png(fig)))
    return images


# -- page -----------------------------------------------------------------------------------

_STYLE = """
body { font-family: sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; } td, th { padding: 0.2rem 0.8rem; text-align: left; }
th { background: #eee; } img { max-width: 100%; display: block; }
.key { font-size: 1.1rem; } .empty { font-size: 1.2rem; padding: 2rem; background: #f4f4f4; }
"""


def render_html(
    summary: Summary, since: float | None, until: float, exhibit: str, database: str
) -> str:
    """One self-contained page (inline CSS, images as ``data:`` URLs, no scripts)."""
    esc = html.escape
    period = _period_text(since, until)
    title = f"Visitors at {exhibit}" if exhibit else "Visitors"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{esc(period)} &middot; from <code>{esc(database)}</code></p>",
    ]
    if summary.visits == 0:
        parts.append(
            '<p class="empty" id="empty">No visitors in this period: nobody was recorded '
            "between these dates. Try a longer period (<code>--since 30d</code> or "
            "<code>--since all</code>).</p>"
        )
    else:
        parts += [
            '<table class="key">',
            f"<tr><th>visits</th><td>{summary.visits}</td></tr>",
            f"<tr><th>people (a group is one visit)</th><td>{summary.people}</td></tr>",
            f"<tr><th>median dwell</th><td>{_minutes(summary.dwell_median_s)}</td></tr>",
            f"<tr><th>90% of visits shorter than</th><td>{_minutes(summary.dwell_p90_s)}</td></tr>",
            "<tr><th>attract-loop conversion</th>"
            f"<td>{summary.converted} of {summary.visits} ({summary.conversion:.0%}) went on "
            "into the content</td></tr>",
            "<tr><th>how visits ended</th><td>"
            + esc(", ".join(f"{e} {summary.endings[e]}" for e in ENDINGS if summary.endings.get(e)))
            + "</td></tr>",
            "</table>",
        ]
        for caption, png in plots(summary):
            parts.append(f"<h2>{esc(caption)}</h2>")
            parts.append(f'<img alt="{esc(caption)}" src="data:image/png;base64,{png}">')
        if summary.gestures:
            parts.append("<h2>Gestures in figures</h2><table>")
            parts.append(
                "<tr><th>gesture</th><th>offered</th><th>recognized</th>"
                "<th>recognized when offered</th></tr>"
            )
            for name, g in summary.gestures.items():
                parts.append(
                    f"<tr><td>{esc(name)}</td><td>{g.offered}</td><td>{g.recognized}</td>"
                    f"<td>{g.used}</td></tr>"
                )
            parts.append("</table>")
        parts.append(
            "<p>A visit is one person (or group) from arriving in the interaction area to "
            "leaving it. Nothing here identifies anyone: no image, no face, no visitor number "
            "is stored.</p>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_csv(sessions: Iterable[StoredSession], out: IO[str]) -> int:
    """One row per session to ``out``; lists joined with ``|``, gestures as ``name:count``.
    Returns the number of rows."""
    rows = 0
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for session in sessions:
        s = session.summary
        series = [float(v) for _, v in s.get("engagement", ())]
        writer.writerow(
            [
                session.id,
                _local(session.started_at).isoformat(timespec="seconds"),
                s.get("exhibit", ""),
                f"{float(s.get('dwell_s', 0.0)):.1f}",
                s.get("ended", ""),
                "|".join(s.get("states", ())),
                "|".join(s.get("levels", ())),
                "|".join(s.get("zones", ())),
                "|".join(f"{k}:{v}" for k, v in s.get("gestures", {}).items()),
                "|".join(s.get("gestures_offered", ())),
                "|".join(s.get("gestures_used", ())),
                "" if s.get("engagement_max") is None else s["engagement_max"],
                f"{statistics.fmean(series):.3f}" if series else "",
            ]
        )
        rows += 1
    return rows


def csv_text(sessions: Iterable[StoredSession]) -> str:
    """:func:`write_csv` into a string."""
    out = io.StringIO()
    write_csv(sessions, out)
    return out.getvalue()
