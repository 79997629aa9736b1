"""Where the folders shipped with monitor live: the source tree, or inside a built wheel."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(*parts: str) -> Path:
    """A folder shipped with monitor (`templates`, `db/migrations`).

    Looked up in the source tree first, then in `monitor/_data/<last part>` of a built wheel.
    Raises FileNotFoundError when neither exists.
    """
    for candidate in (PACKAGE_DIR.parent.joinpath(*parts), PACKAGE_DIR / "_data" / parts[-1]):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {'/'.join(parts)!r} folder of monitor")
