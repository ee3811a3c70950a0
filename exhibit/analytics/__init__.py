"""Visitor analytics: anonymous sessions built from the core's events, kept in SQLite, and the
curator's report (docs/analytics.md)."""
