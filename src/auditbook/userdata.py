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
    by someone who can write to the share but not to this folder.
    """
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _KEY_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
        path.unlink()  # a truncated key (a crash while it was written): make a new one
        return ledger_key()
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key
