"""Recordings: frames with their skeletons as JSON Lines, written live and replayed exactly.

``format`` holds the pure encode/decode functions, ``writer`` and ``reader`` the file side,
``controls`` the commands and config reloads a live run applied (kept on the frames, so a
replay gives the same events). The schema is in docs/recording-format.md.
"""
