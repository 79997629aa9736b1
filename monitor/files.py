"""Atomic file writes: a crash mid-write never leaves a half-written README or page."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then `os.replace` over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            tmp.chmod(path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            tmp.chmod(0o644)  # mkstemp's 0600 would hide a new page from the web server
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write only when the bytes differ (no new mtime, no spurious commit)."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True


def write_text_atomic(path: Path, text: str) -> None:
    """`write_atomic` for text: UTF-8, line endings exactly as given."""
    write_atomic(path, text.encode("utf-8"))
