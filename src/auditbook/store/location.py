"""Where a collection's ledger lives by default (the collator's own disk, one per collected folder), and
whether a path is on a network file system (SQLite advises against a database there)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from auditbook.text import slug
from auditbook.userdata import data_dir

#: File systems that are network shares (Linux /proc/mounts names).
NETWORK_FS = frozenset({"cifs", "smb3", "smbfs", "nfs", "nfs4", "afs", "ncpfs", "9p", "ceph", "glusterfs",
                        "fuse.sshfs", "sshfs", "davfs", "fuse.davfs2", "fuse.rclone", "lustre", "gpfs"})


def folder_identity(folder: Path) -> str:
    """The collected folder as the ledger records it: its resolved path."""
    return str(folder.resolve())


def default_ledger(folder: Path) -> Path:
    """The ledger for a folder in the user data folder: one per resolved folder path, named so a person can
    tell which is which."""
    identity = folder_identity(folder)
    digest = hashlib.sha256(os.fsencode(identity)).hexdigest()[:16]
    return data_dir() / "ledgers" / f"{slug(folder.resolve().name)[:40]}-{digest}.sqlite3"


def _unescape_mount(field: str) -> str:
    # /proc/mounts writes spaces, tabs, newlines and backslashes in paths as octal escapes.
    for code, ch in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, ch)
    return field


def network_fs(path: Path, mounts: str | None = None) -> str | None:
    """The kind of network share a path is on ("UNC path", "cifs", "nfs4", ...), or None when it is local.

    `mounts` is the text of /proc/mounts (read when not given, on Linux).
    """
    text = str(path)
    if text.startswith(("\\\\", "//")):
        return "UNC path"
    if sys.platform == "win32":
        return _windows_remote(path)
    if mounts is None:
        try:
            mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    target = str(path.resolve()) if path.exists() else str(path.parent.resolve())
    best, kind = "", ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape_mount(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind if kind in NETWORK_FS else None


def _windows_remote(path: Path) -> str | None:  # pragma: no cover - Windows only
    import ctypes

    drive = path.resolve().drive
    if not drive:
        return None
    remote = 4  # DRIVE_REMOTE
    kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009 - windll exists only on Windows
    return "network drive" if kernel32.GetDriveTypeW(drive + "\\") == remote else None
