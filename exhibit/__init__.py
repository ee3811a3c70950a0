"""The exhibit controller: pose, sensors, gestures, the designer's show, and cues.

Data flows one way (sources -> deterministic core -> sinks); see docs/architecture.md.
"""

__version__ = "0.1.0"
