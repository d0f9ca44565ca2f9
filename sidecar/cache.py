"""This machine's cache folder: what SFX Sidecar can make again (model graphs, label vectors,
the approximate indexes of a shared database), never what a person made."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def user_cache_dir(name: str) -> Path:
    """~/.cache/sfx-sidecar/NAME (or $XDG_CACHE_HOME/sfx-sidecar/NAME), made if missing; a private
    folder in the temporary directory when the home folder cannot be written (a service account,
    a read-only home)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "sfx-sidecar" / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
    except OSError:
        pass
    private = Path(tempfile.gettempdir()) / f"sfx-sidecar-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    try:
        private.mkdir(mode=0o700, exist_ok=True)
        st = private.lstat()
        # a folder someone else made there (or left open to others) could hand us their files
        if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o077 or private.is_symlink()):
            raise PermissionError
    except OSError:
        private = Path(tempfile.mkdtemp(prefix="sfx-sidecar-"))
    folder = private / name
    folder.mkdir(exist_ok=True, mode=0o700)
    return folder
