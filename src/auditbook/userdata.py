"""The collator's own data folder (never the shared returns folder): ledgers and the per-user ledger key.

$AUDITBOOK_DATA_DIR overrides it (the tests use this so they never write into the real home folder).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs

ENV = "AUDITBOOK_DATA_DIR"
_KEY_NAME = "ledger.key"


def data_dir() -> Path:
    """The user data folder: $AUDITBOOK_DATA_DIR, else e.g. ~/.local/share/auditbook or %LOCALAPPDATA%\\auditbook."""
    override = os.environ.get(ENV)
    return Path(override) if override else platformdirs.user_data_path("auditbook", appauthor=False)


def ledger_key() -> bytes:
    """The key that signs what a ledger stores, made on first use and readable by this user only.

    It is kept here, not in the ledger, so a ledger placed on a share (--ledger) cannot be edited undetected
    by someone who can write to the share but not to this folder. A new key is written whole to a temporary
    file first and only then put in place, so no process ever reads (or deletes) a key still being written;
    when two processes make one at once, the first in place is the one both use.
    """
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _KEY_NAME
    key = _read_key(path)
    if key is not None:
        return key
    tmp = folder / f".{_KEY_NAME}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # in place only if no key is there yet
        except OSError:  # a key is there, or the file system has no hard links
            if _read_key(path) is None:  # none, or a short key left by an older version's crash: replace it
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    found = _read_key(path)
    if found is None:
        raise OSError(f"could not keep the ledger key in {path}")
    return found


#: Bytes of a ledger key.
KEY_BYTES = 32


def _read_key(path: Path) -> bytes | None:
    """The key stored at `path`, or None when there is none or it is too short to be one."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    return key if len(key) >= KEY_BYTES else None
