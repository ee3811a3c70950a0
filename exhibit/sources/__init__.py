"""Edges that produce frames: raw images (camera, video, folder) and MediaPipe pose on them.

``images`` and ``devices`` need only OpenCV; ``pose`` and ``pose_source`` import MediaPipe, so
they are imported from their modules when needed rather than here.
"""
