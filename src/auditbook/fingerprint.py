"""What was read of a file in its one open: the SHA-256 of the very bytes read, and its size and time as opened."""

from __future__ import annotations

import hashlib
import os
from typing import NamedTuple


class Fingerprint(NamedTuple):
    """A file as read: the SHA-256 of the bytes read (or "large:SIZE:TIME" for one refused unread for its size), and
    its size and modification time from the open file itself, never from a look taken before or after."""

    sha256: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, data: bytes, st: os.stat_result) -> Fingerprint:
        """The fingerprint of bytes read from a file whose status (fstat of the open file) is `st`."""
        return cls(hashlib.sha256(data).hexdigest(), st.st_size, st.st_mtime_ns)

    @classmethod
    def large(cls, st: os.stat_result) -> Fingerprint:
        """A file refused unread for its size: known by its size and time (as the ledger's file_hash says)."""
        return cls(large_key(st.st_size, st.st_mtime_ns), st.st_size, st.st_mtime_ns)


def large_key(size: int, mtime_ns: int) -> str:
    """What stands for the hash of a file too large to read: its size and time."""
    return f"large:{size}:{mtime_ns}"
