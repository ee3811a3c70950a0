"""Running as a system service: telling systemd we are ready, alive and stopping."""

from exhibit.service.notify import Notifier

__all__ = ["Notifier"]
