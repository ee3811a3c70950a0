"""Technician tools: floor plane, zones, sensor check, cue test, gesture recording, overlay.

``exhibit calibrate ...`` (:mod:`calibration.cli`): ``floor`` and ``verify``
(:mod:`calibration.floor`, :mod:`calibration.verify`), ``zones``
(:mod:`calibration.zones_capture`), ``report`` (:mod:`calibration.report`); zones drawn in
image pixels by :mod:`calibration.project`. docs/calibration.md says how and why.
"""
