"""Cues leave the exhibit here: the show decides *what* to send, this package sends it.

``exhibit.cues.osc`` holds the OSC wire format (pure functions), target URLs, the UDP sender the
show uses, and the technician's monitor.
"""
