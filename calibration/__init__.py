"""Technician tools: floor plane, zones, sensor check, cue test, gesture recording.

Filled in by the calibration issue; kept as a package now so that the layout is the design card's.
"""
