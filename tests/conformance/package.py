"""The package around the parts (ECMA-376 Part 2, Open Packaging Conventions): the zip's own records, read here
byte by byte rather than through zipfile."""

from __future__ import annotations

import struct
from dataclasses import dataclass

ZIP64_EXTRA = 0x0001
_LOCAL, _CENTRAL, _END = 0x04034B50, 0x02014B50, 0x06054B50
#: A local file header and a central directory header, up to their variable-length fields (APPNOTE 4.3.7, 4.3.12).
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<IHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<IHHHHIIH")


@dataclass(frozen=True)
class Member:
    """One member of the zip as its central directory entry and its local header describe it."""

    name: str
    local_name: str
    central_extra: tuple[int, ...]
    local_extra: tuple[int, ...]


def _extra_ids(extra: bytes) -> tuple[int, ...]:
    """The header ids of the extra fields in an extra field block."""
    ids, at = [], 0
    while at + 4 <= len(extra):
        field_id, size = struct.unpack_from("<HH", extra, at)
        ids.append(field_id)
        at += 4 + size
    return tuple(ids)


def zip_members(data: bytes) -> list[Member]:
    """Every member of the zip in `data`, from its central directory and each member's local header."""
    end = data.rfind(struct.pack("<I", _END), max(0, len(data) - _END_RECORD.size - 0xFFFF))
    if end < 0:
        raise ValueError("no end of central directory record: not a zip")
    *_, count, _, offset, _ = _END_RECORD.unpack_from(data, end)
    if count == 0xFFFF or offset == 0xFFFFFFFF:
        raise ValueError("the end of central directory record defers to a Zip64 one")
    members, at = [], offset
    for _ in range(count):
        head = _CENTRAL_HEADER.unpack_from(data, at)
        if head[0] != _CENTRAL:
            raise ValueError(f"no central directory header at byte {at}")
        name_len, extra_len, comment_len, local_at = head[10], head[11], head[12], head[16]
        name = data[at + 46:at + 46 + name_len].decode("utf-8")
        central_extra = data[at + 46 + name_len:at + 46 + name_len + extra_len]
        at += 46 + name_len + extra_len + comment_len
        local = _LOCAL_HEADER.unpack_from(data, local_at)
        if local[0] != _LOCAL:
            raise ValueError(f"{name}: no local file header at byte {local_at}")
        start = local_at + _LOCAL_HEADER.size
        local_name = data[start:start + local[9]].decode("utf-8")
        local_extra = data[start + local[9]:start + local[9] + local[10]]
        members.append(Member(name, local_name, _extra_ids(central_extra), _extra_ids(local_extra)))
    return members
