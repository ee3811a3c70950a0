"""Files that survive a power cut: written whole or not at all, with the previous one kept.

An exhibit is switched off at the wall socket. A calibration, a state file or a template set
written with a plain ``open(...).write`` can be left half-written by that, and the exhibit then
fails at 9 a.m. in front of a guard who cannot fix it. Everything the controller keeps across
restarts goes through :func:`write_atomic`: the bytes go to a temporary file in the same folder,
are flushed to the card (``fsync``), and only then replace the old file in one ``os.replace``
(atomic on POSIX); the folder is synced too, so the rename itself survives. With ``backup`` the
file being replaced is kept as ``NAME.bak``, so a technician can go back to it. A process
killed mid-write leaves at most a hidden ``.NAME.*.tmp``, removed by the next write.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> target = folder / "floor.json"
    >>> write_atomic(target, b'{"height_m": 2.1}')
    >>> write_atomic(target, b'{"height_m": 2.2}', backup=True)
    >>> target.read_text(), backup_path(target).read_text()
    ('{"height_m": 2.2}', '{"height_m": 2.1}')
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
from pathlib import Path

BACKUP_SUFFIX = ".bak"


class AtomicWriteError(OSError):
    """A file could not be written; the old file, if any, is untouched.

    ``strerror`` is the reason (``No space left on device``), ``filename`` the file; ``str``
    says both: ``floor.json: cannot write: No space left on device``.
    """

    def __str__(self) -> str:
        return f"{self.filename}: cannot write: {self.strerror}"


def backup_path(path: str | os.PathLike[str]) -> Path:
    """Where :func:`write_atomic` keeps the previous version of ``path``."""
    target = Path(path)
    return target.with_name(target.name + BACKUP_SUFFIX)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, backup: bool = False) -> None:
    """Replace ``path`` with ``data`` so that a crash at any moment leaves either the old
    file or the new one, never a mix. With ``backup`` the old file is kept as ``NAME.bak``.

    Raises AtomicWriteError (an OSError) naming the file, e.g. when the disk is full; the old
    file and its backup are then as they were, and no temporary file is left behind.
    """
    target = Path(path)
    _remove_stale_temporaries(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise AtomicWriteError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            # mkstemp makes the file 0600: keep the mode of the file replaced, or give a new
            # one the mode open() would (a calibration saved by a technician's account must
            # stay readable by the service's user).
            os.fchmod(f.fileno(), _mode_for(target))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if backup and target.exists():
            bak = backup_path(target)
            # A hard link keeps the old contents under the backup name without a copy, and
            # replaces the old backup in one rename (a kill never leaves no backup); the rename
            # below then swaps in the new file. Where links are refused, copy.
            link = tmp.with_name(tmp.name + ".bak.tmp")
            try:
                os.link(target, link)
                os.replace(link, bak)
            except OSError:
                link.unlink(missing_ok=True)
                write_atomic(bak, target.read_bytes())
        os.replace(tmp, target)
        _sync_folder(target.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AtomicWriteError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str, *, backup: bool = False) -> None:
    """:func:`write_atomic` for text, as UTF-8."""
    write_atomic(path, text.encode("utf-8"), backup=backup)


def _mode_for(target: Path) -> int:
    """``target``'s permission bits, or for a new file 0o666 less the process's umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The umask, read without changing it (``os.umask`` would, for every thread): Linux
    says it in /proc; elsewhere assume the usual 022."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _remove_stale_temporaries(target: Path) -> None:
    """A power cut during a write leaves its temporary file behind; the next write of the same
    file removes it, so such leftovers never pile up on the card (one writer per file)."""
    with contextlib.suppress(OSError):
        for stale in target.parent.glob(glob.escape(f".{target.name}.") + "*.tmp"):
            stale.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; some file systems refuse, which is harmless."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
