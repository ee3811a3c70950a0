"""Landmark smoothing: the One Euro filter and its per-skeleton wrapper (docs/filtering.md)."""

from exhibit.filtering.one_euro import OneEuroFilter
from exhibit.filtering.skeleton_filter import SkeletonFilter

__all__ = ["OneEuroFilter", "SkeletonFilter"]
