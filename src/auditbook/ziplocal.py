"""A zip member's data as the archive stores it, found through its local header in the archive's bytes.

The reader inflates a return's parts from the bytes it holds (returns/safety.py) and the master's writing copies
the parts xlsxwriter wrote as they are (outputs/zipraw.py): both find a member's data here, and only where its
local header agrees with its directory entry.
"""

from __future__ import annotations

import struct
from typing import NamedTuple
from zipfile import ZipInfo

#: A local file header: signature, flags, method, sizes, name and extra lengths.
_LOCAL = struct.Struct("<4s2xHH8x2I2H")
_SIGNATURE = b"PK\x03\x04"
#: Encrypted, patched data, strong encryption: zipfile refuses them, and so does this.
ENCRYPTED_FLAGS = 0x1 | 0x20 | 0x40


class Stored(NamedTuple):
    """A member's data as stored (deflated or not) and the method its local header gives."""

    method: int
    data: bytes


def stored(archive: bytes, info: ZipInfo) -> Stored | str:
    """The data of the member `info` of the zip held in `archive`, or why it cannot be taken from there: no local
    header where the directory says, one naming another member, encryption, or data cut short."""
    at = info.header_offset
    try:
        sig, flags, method, _, _, name_len, extra_len = _LOCAL.unpack_from(archive, at)
    except struct.error:
        sig = b""
    if sig != _SIGNATURE:
        return f"no local header for {info.filename} at {at}"
    name_at = at + _LOCAL.size
    local_name = archive[name_at:name_at + name_len].decode("utf-8" if flags & 0x800 else "cp437", "replace")
    if local_name != info.orig_filename:
        return f"the local header at {at} is not {info.filename}'s"
    if flags & ENCRYPTED_FLAGS or info.flag_bits & ENCRYPTED_FLAGS:
        return f"{info.filename} is encrypted"
    data_at = name_at + name_len + extra_len
    data = archive[data_at:data_at + info.compress_size]
    if len(data) != info.compress_size:
        return f"{info.filename} is cut short"
    return Stored(method, data)
