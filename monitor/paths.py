"""Where the folders shipped with monitor live: inside the installed package, or the checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(*parts: str) -> Path:
    """A folder shipped with monitor (`templates`, `db/migrations`).

    An installed wheel carries them as `monitor/_data/<last part>`, and only that copy
    counts there: site-packages is shared, and another distribution's empty `templates/`
    beside our package once shadowed ours and broke `monitor report`. The checkout's
    top-level folders are used only in a source tree (a `pyproject.toml` beside `monitor/`,
    as in an editable install). Raises FileNotFoundError when neither exists.
    """
    packaged = PACKAGE_DIR / "_data" / parts[-1]
    if packaged.is_dir():
        return packaged
    source = PACKAGE_DIR.parent.joinpath(*parts)
    if (PACKAGE_DIR.parent / "pyproject.toml").is_file() and source.is_dir():
        return source
    raise FileNotFoundError(f"cannot find the {'/'.join(parts)!r} folder of monitor")
