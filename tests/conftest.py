"""Test-suite settings shared by every test module.

Hypothesis runs derandomized by default, so that CI on a clean clone explores the same examples
every time: a red run is reproducible from its log, and a green one does not turn red by luck.
Set ``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples while developing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# Fixtures of real peers (a liblo OSC server) for every test module.
pytest_plugins = ["tests.peers"]

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _private_state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Runs and demos store visitor sessions in the state folder (``$STATE_DIRECTORY``, else
    ``$XDG_STATE_HOME/exhibit``): point both at a fresh folder so that no test writes into the
    home of whoever runs the suite, and no test sees another's sessions."""
    folder = tmp_path_factory.mktemp("state")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("STATE_DIRECTORY", raising=False)
        patch.setenv("XDG_STATE_HOME", str(folder))
        yield
