"""``exhibit graph``: the designer's machine as a Graphviz diagram."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from exhibit.cli import main
from exhibit.config.load import loads
from exhibit.show.graph import reachable_states, to_dot

CONFIG = """
[show]
initial = "attract"
any_state = [{ on = "presence.leave", to = "attract" }]
[show.states.attract]
transitions = [{ on = "presence.enter", to = "welcome" }]
[show.states.welcome]
transitions = [{ on = "gesture.wave", to = "attract" }, { after = "20s", to = "attract" }]
[show.states.orphan]
transitions = [{ on = "gesture.wave", to = "attract" }]
"""


def test_dot_has_every_state_and_transition() -> None:
    show = loads(CONFIG).show
    dot = to_dot(show, title='The "cell"')
    assert dot.startswith("digraph show {")
    assert 'label="The \\"cell\\""' in dot
    assert '"attract" -> "welcome" [label="presence.enter"];' in dot
    assert '"welcome" -> "attract" [label="after 20s", style=dashed];' in dot
    assert '__any -> "attract" [label="presence.leave", color=grey40];' in dot
    assert '"attract" [peripheries=2, label="attract"];' in dot


def test_unreachable_states_are_drawn_dashed() -> None:
    show = loads(CONFIG).show
    assert reachable_states(show) == {"attract", "welcome"}
    assert '"orphan" [style="rounded,dashed", color=grey50' in to_dot(show)


def test_graph_command_writes_dot_beside_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "exhibit.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert main(["graph", str(config)]) == 0
    assert (tmp_path / "exhibit.dot").read_text(encoding="utf-8") == to_dot(
        loads(CONFIG).show, title="exhibit"
    )
    assert "3 states" in capsys.readouterr().out


def test_svg_needs_graphviz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "exhibit.toml"
    config.write_text(CONFIG, encoding="utf-8")
    svg = tmp_path / "show.svg"
    code = main(["graph", str(config), "-o", str(svg)])
    if shutil.which("dot") is None:
        assert code == 2
        assert "apt install graphviz" in capsys.readouterr().err
    else:
        assert code == 0
        assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
