"""Files that hold the store's data and keys are readable by their owner only.

The SQLite file (every message, every secret's envelope) and the key file are created mode 0600
and the data dir, when slackbridge creates it, 0700, whatever the process's umask would let
through. SQLite gives its ``-wal`` and ``-shm`` files the mode of the database file, so creating
that one right is enough. Existing files and directories keep the mode their owner chose.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["create_private_file", "make_private_dir"]

_DIR_MODE = 0o700
_FILE_MODE = 0o600


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) mode 0700; an existing directory is left alone."""
    if path.is_dir():
        return
    missing = []
    for parent in [path, *path.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=_DIR_MODE)
        except FileExistsError:
            continue  # another process made it a moment ago: theirs stays
        # mkdir's mode passes through the umask, which may only have taken bits away.
        directory.chmod(_DIR_MODE)


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; whether it was created."""
    make_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True
