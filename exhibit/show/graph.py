"""The designer's state machine as a diagram: Graphviz DOT text, and SVG/PNG where ``dot`` is.

A designer reviews a show by looking at it: which state leads where, on which gesture, after
how long, and which states can never be reached. ``exhibit graph CONFIG`` writes the DOT text
(always possible, no dependency) and, when Graphviz's ``dot`` program is installed, renders it.

Example:
    >>> from exhibit.config.load import loads
    >>> cfg = loads('[show]\\ninitial = "a"\\n[show.states.a]\\n'
    ...             'transitions = [{ on = "gesture.wave", to = "a" }]\\n')
    >>> print(to_dot(cfg.show).splitlines()[0])
    digraph show {
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from exhibit.config.schema import ShowConfig, TransitionConfig
from exhibit.errors import ExhibitError


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped + '"'


def transition_label(tr: TransitionConfig) -> str:
    """``gesture.wave``, ``after 20s``; with the guard, when there is one."""
    label = tr.on if tr.on is not None else f"after {tr.after_s:g}s"
    guard = getattr(tr, "guard_text", "")
    return f"{label} [{guard}]" if guard else label


def reachable_states(show: ShowConfig) -> set[str]:
    """States reachable from the initial state (transitions from any state reach their target
    from everywhere)."""
    seen = {show.initial}
    seen.update(tr.to for tr in show.any_state)
    frontier = list(seen)
    while frontier:
        state = frontier.pop()
        for tr in show.states[state].transitions:
            if tr.to not in seen:
                seen.add(tr.to)
                frontier.append(tr.to)
    return seen


def to_dot(show: ShowConfig, title: str = "show") -> str:
    """The machine as DOT: the initial state double-circled, unreachable states dashed and
    grey, transitions from any state drawn from a small "any state" node."""
    reachable = reachable_states(show)
    lines = [
        "digraph show {",
        f"  label={_quote(title)}; labelloc=t; rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        '  __start [shape=point, width=0.15, label=""];',
        f"  __start -> {_quote(show.initial)};",
    ]
    for name, state in show.states.items():
        attrs = []
        if name == show.initial:
            attrs.append("peripheries=2")
        if name not in reachable:
            attrs.append('style="rounded,dashed", color=grey50, fontcolor=grey50')
        cues = len(state.on_enter)
        label = f"{name}\n{cues} cue(s) on entry" if cues else name
        attrs.append(f"label={_quote(label)}")
        lines.append(f"  {_quote(name)} [{', '.join(attrs)}];")
    for name, state in show.states.items():
        for tr in state.transitions:
            style = ", style=dashed" if tr.on is None else ""
            label = _quote(transition_label(tr))
            lines.append(f"  {_quote(name)} -> {_quote(tr.to)} [label={label}{style}];")
    if show.any_state:
        lines.append('  __any [shape=plaintext, label="any state", fontcolor=grey30];')
        for tr in show.any_state:
            label = _quote(transition_label(tr))
            lines.append(f"  __any -> {_quote(tr.to)} [label={label}, color=grey40];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, output: Path) -> Path:
    """Render DOT text with Graphviz to ``output`` (format from its suffix: .svg, .png, .pdf).

    Raises ``ExhibitError`` when Graphviz is not installed (``apt install graphviz``) or fails.
    """
    fmt = output.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ExhibitError(f"{output}: unknown diagram format {fmt!r}; expected .svg, .png or .pdf")
    dot = shutil.which("dot")
    if dot is None:
        raise ExhibitError(
            f"cannot render {output}: Graphviz's dot program is not installed "
            "(apt install graphviz); the .dot file can be opened in any Graphviz viewer"
        )
    result = subprocess.run(
        [dot, f"-T{fmt}", "-o", str(output)],
        input=dot_text,
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise ExhibitError(f"dot failed on {output}: {result.stderr.strip()}")
    return output
