"""Recordings: frames with their skeletons as JSON Lines, written live and replayed exactly.

``format`` holds the pure encode/decode functions, ``writer`` and ``reader`` the file side. The
schema is in docs/recording-format.md.
"""
