"""The designer's content state machine: states with cues, changed by events and timers."""

from exhibit.show.machine import ShowMachine

__all__ = ["ShowMachine"]
