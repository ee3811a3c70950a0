"""OSC cues: encoding (``encode``), target URLs (``url``), sending (``sender``), and the
technician's listener (``monitor``)."""

from __future__ import annotations

from exhibit.cues.osc.encode import encode_message, type_tags, validate_address
from exhibit.cues.osc.monitor import format_message, run_monitor
from exhibit.cues.osc.sender import OscSender, TargetStats
from exhibit.cues.osc.url import parse_target_url, resolves

__all__ = [
    "OscSender",
    "TargetStats",
    "encode_message",
    "format_message",
    "parse_target_url",
    "resolves",
    "run_monitor",
    "type_tags",
    "validate_address",
]
