"""Test-suite settings shared by every test module.

Hypothesis runs derandomized by default, so that CI on a clean clone explores the same examples
every time: a red run is reproducible from its log, and a green one does not turn red by luck.
Set ``HYPOTHESIS_PROFILE=explore`` to search with fresh random examples while developing.
"""

from __future__ import annotations

import os

from hypothesis import settings

# Fixtures of real peers (a liblo OSC server) for every test module.
pytest_plugins = ["tests.peers"]

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
