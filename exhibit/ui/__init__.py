"""Designer tools with a window: ``stage`` (a stand-in for the projector, driven by OSC cues)
and ``simulate`` (the real pipeline on a recording or on a keyboard-driven visitor).

Both draw with pygame and keep their logic apart from their drawing: a plain state object that
events update (``StageState.apply``, ``simulate.step``) and a ``render(state, surface)`` that
only reads it, so tests check state without a window and pixels without a screen (SDL's dummy
video driver).

pygame prints a greeting on first import; it is imported here, quietly, so that a command
whose output a technician reads (or a demo parses) starts with its own first line. (pygame 2.6
also imports ``pkg_resources``, which newer setuptools releases deprecate with a warning that
is not ours to fix.) Code outside this package that needs pygame before importing one of its
modules (a test, a tool) takes it from here: ``from exhibit.ui import pygame``.
"""

from __future__ import annotations

import contextlib
import io
import warnings

with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    import pygame

__all__ = ["pygame"]
