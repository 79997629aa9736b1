"""Atomic file writes: a crash mid-write never leaves a half-written README or page.

A temporary file is named `.NAME.PID.xxxx.tmp` beside its target. A process killed between
the write and the rename leaves it behind; the next write (or unchanged-content check) of
the same target removes leftovers whose process is gone, never a live writer's.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Leftovers named without a process id (older versions) count as stale after this long.
_UNNAMED_STALE_S = 60.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


# Inside `one_listing()`: the temporary files of each folder, listed once. A site of 3,000
# pages used to list its folder (and match every name) for each page it wrote, 24 million
# matches (issue 14). Outside, every write lists afresh.
_seen: dict[Path, set[str]] | None = None


@contextmanager
def one_listing() -> Iterator[None]:
    """Writes within this block list each folder's temporary files once (a leftover that
    appears meanwhile is removed by the next write outside it)."""
    global _seen
    outer = _seen
    _seen = {} if outer is None else outer
    try:
        yield
    finally:
        _seen = outer


def _list_temps(folder: Path) -> set[str]:
    try:
        with os.scandir(folder) as entries:
            return {e.name for e in entries if e.name[:1] == "." and e.name[-4:] == ".tmp"}
    except OSError:
        return set()


def _temps(folder: Path) -> set[str]:
    if _seen is None:
        return _list_temps(folder)
    if folder not in _seen:
        _seen[folder] = _list_temps(folder)
    return _seen[folder]


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove the temporary files a killed writer of `path` left beside it."""
    removed: list[Path] = []
    prefix = f".{path.name}."
    listed = _temps(path.parent)
    candidates = [path.parent / name for name in listed if name.startswith(prefix)]
    for tmp in candidates:
        middle = tmp.name[len(path.name) + 2 : -len(".tmp")]
        pid_text, _, _ = middle.partition(".")
        try:
            if pid_text.isdigit():
                if int(pid_text) == os.getpid() or _alive(int(pid_text)):
                    continue
            elif time.time() - tmp.stat().st_mtime < _UNNAMED_STALE_S:
                continue
            tmp.unlink()
            removed.append(tmp)
            listed.discard(tmp.name)
        except FileNotFoundError:
            listed.discard(tmp.name)
            continue
    return removed


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file beside `path`, fsync (unless not `durable`: a file the
    next run rebuilds anyway, where thousands of fsyncs cost seconds), then `os.replace`
    over it: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path)
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
    )
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
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


def write_if_changed(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """Write only when the bytes differ (no new mtime, no spurious commit)."""
    clean_stale_temps(path)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data, durable=durable)
    return True


def write_text_atomic(path: Path, text: str) -> None:
    """`write_atomic` for text: UTF-8, line endings exactly as given."""
    write_atomic(path, text.encode("utf-8"))
