"""Library roots: is one online, is it on a remote file system, which observer watches it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

#: file systems that deliver no inotify events for changes made by other machines
REMOTE_FS = frozenset({"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afpfs", "webdav", "davfs",
                       "fuse.sshfs", "sshfs", "fuse.rclone", "9p", "afs", "ceph", "glusterfs",
                       "fuse.glusterfs", "lustre", "gpfs", "beegfs", "fuse.s3fs", "fuse.gcsfuse"})


@dataclass
class RootState:
    path: str
    observer: str = ""        # native | polling, once watched
    online: bool = False
    reason: str = ""          # why it is offline, or why it is polled
    fstype: str = ""

    def to_json(self) -> dict:
        return {"path": self.path, "observer": self.observer, "online": self.online,
                "reason": self.reason, "fstype": self.fstype}


def offline_reason(path: str, has_indexed_files: bool) -> str:
    """Empty when the root can be trusted; otherwise why its files must not be taken as deleted."""
    if not os.path.exists(path):
        return "missing (an unmounted drive or share?)"
    if not os.path.isdir(path):
        return "not a folder"
    try:
        with os.scandir(path) as entries:
            empty = next(entries, None) is None
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if empty and has_indexed_files:
        return "empty while the index holds files under it (an unmounted drive?)"
    return ""


def filesystem_type(path: str) -> str:
    """The type of the file system holding path ('' when it cannot be told)."""
    real = os.path.realpath(path)
    if sys.platform.startswith("linux"):
        return _linux_fstype(real)
    try:
        out = subprocess.run(["mount"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    best, kind = "", ""
    for line in out.splitlines():
        # macOS and BSD: "//user@server/share on /Volumes/x (smbfs, nodev, ...)"
        if " on " not in line or "(" not in line:
            continue
        point = line.split(" on ", 1)[1].rsplit(" (", 1)[0]
        fs = line.rsplit("(", 1)[1].split(",")[0].strip(" )")
        if _under(real, point) and len(point) > len(best):
            best, kind = point, fs
    return kind


def _linux_fstype(real: str) -> str:
    best, kind = "", ""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                point = parts[1].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
                if _under(real, point) and len(point) >= len(best):
                    best, kind = point, parts[2]
    except OSError:
        return ""
    return kind


def _under(path: str, point: str) -> bool:
    return point == "/" or path == point or path.startswith(point.rstrip("/") + "/")


def is_remote(fstype: str) -> bool:
    return fstype in REMOTE_FS or fstype.startswith(("nfs", "smb", "cifs"))


def inotify_limit_hint() -> str:
    """The sysctl to raise when inotify runs out, with its current value where it can be read."""
    values = []
    for name in ("max_user_watches", "max_user_instances"):
        try:
            with open(f"/proc/sys/fs/inotify/{name}") as f:
                values.append(f"fs.inotify.{name} = {f.read().strip()}")
        except OSError:
            pass
    now = f" (now {', '.join(values)})" if values else ""
    return (f"raise fs.inotify.max_user_watches (and max_user_instances){now}, e.g. "
            f"`sysctl fs.inotify.max_user_watches=524288` and a line in /etc/sysctl.d/")
