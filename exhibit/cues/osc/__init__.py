"""OSC cues: encoding (``encode``, ``bundle``), decoding (``decode``), stream framing
(``framing``), target URLs and specs (``url``, ``targets``), receiver profiles (``profiles``),
replies (``replies``), sending over UDP and TCP (``sender``, ``links``), and the technician's
listener (``monitor``)."""

from __future__ import annotations

from exhibit.cues.osc.bundle import IMMEDIATELY, encode_bundle, encode_cue_bundle
from exhibit.cues.osc.decode import DecodedMessage, decode_packet
from exhibit.cues.osc.encode import encode_message, type_tags, validate_address
from exhibit.cues.osc.framing import (
    LengthPrefixDecoder,
    SlipDecoder,
    length_prefix_encode,
    slip_encode,
)
from exhibit.cues.osc.monitor import format_message, run_monitor
from exhibit.cues.osc.profiles import PROFILES, Profile, make_cue
from exhibit.cues.osc.replies import QLabReply, ReplyStats, parse_qlab_reply
from exhibit.cues.osc.sender import OscSender, TargetStats
from exhibit.cues.osc.targets import TargetSpec, parse_target
from exhibit.cues.osc.url import parse_target_url, resolves

__all__ = [
    "IMMEDIATELY",
    "PROFILES",
    "DecodedMessage",
    "LengthPrefixDecoder",
    "OscSender",
    "Profile",
    "QLabReply",
    "ReplyStats",
    "SlipDecoder",
    "TargetSpec",
    "TargetStats",
    "decode_packet",
    "encode_bundle",
    "encode_cue_bundle",
    "encode_message",
    "format_message",
    "length_prefix_encode",
    "make_cue",
    "parse_qlab_reply",
    "parse_target",
    "parse_target_url",
    "resolves",
    "run_monitor",
    "slip_encode",
    "type_tags",
    "validate_address",
]
