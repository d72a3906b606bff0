"""Zip members put in as deflated data: copied out of another archive as they are, or deflated here in one pass.

zipfile can only write a member by deflating it itself, with zlib. The master's writing copies the parts xlsxwriter
wrote and FastRows leaves as they are without inflating and deflating them again, and deflates its big sheets with
ISA-L when it is installed (`pip install auditbook[fast]`: the same deflate format, about three times zlib's speed at
level 1). Putting a member in uses ZipFile's own bookkeeping (`fp`, `filelist`, `NameToInfo`, `start_dir`) as its
`mkdir` does; tests read every member back through zipfile, which checks each one's CRC.
"""

from __future__ import annotations

import functools
import importlib
import zlib
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from zipfile import ZIP64_LIMIT, ZIP_DEFLATED, ZIP_STORED, BadZipFile, ZipFile, ZipInfo

from auditbook import ziplocal


def stored_data(archive: bytes, info: ZipInfo) -> bytes:
    """A member's data as `archive` holds it (deflated), found through its local header (BadZipFile when it cannot
    be: see ziplocal.stored)."""
    found = ziplocal.stored(archive, info)
    if isinstance(found, str):
        raise BadZipFile(found)
    return found.data


def put_raw(dst: ZipFile, info: ZipInfo, data: bytes) -> None:
    """Put a member into `dst` whose `data` is given as stored (deflated, or not compressed), `info` carrying its
    method, CRC and both sizes."""
    if info.compress_type not in (ZIP_DEFLATED, ZIP_STORED):
        raise ValueError(f"{info.filename}: only deflated or stored data is put in as it is")
    if max(info.file_size, info.compress_size) >= ZIP64_LIMIT:
        # Zip64 fields are never written (Office has been reported to refuse them in small members).
        raise ValueError(f"{info.filename} is too large for a zip member without Zip64 fields")
    if len(data) != info.compress_size:
        raise ValueError(f"{info.filename}: {len(data)} bytes of data, {info.compress_size} said")
    with dst._lock:  # type: ignore[attr-defined]  # as ZipFile.mkdir does, with the member's data after its header
        fp = dst.fp
        if fp is None or getattr(dst, "_writing", False):
            raise ValueError(f"cannot put {info.filename} into a closed archive or while a member is being written")
        if dst._seekable:  # type: ignore[attr-defined]
            fp.seek(dst.start_dir)
        info.header_offset = fp.tell()
        info.flag_bits &= ~0x08  # sizes and CRC in the header: no data descriptor follows
        dst._writecheck(info)  # type: ignore[attr-defined]
        dst._didModify = True  # type: ignore[attr-defined]
        fp.write(info.FileHeader(False))
        fp.write(data)
        dst.filelist.append(info)
        dst.NameToInfo[info.filename] = info
        dst.start_dir = fp.tell()


def member_like(source: ZipInfo, compress_type: int = ZIP_DEFLATED) -> ZipInfo:
    """A new member named, dated and with the attributes of `source`, its data stored by `compress_type`."""
    info = ZipInfo(source.filename, date_time=source.date_time)
    info.compress_type = compress_type
    info.external_attr = source.external_attr
    return info


def copy_member(archive: bytes, info: ZipInfo, dst: ZipFile) -> None:
    """Copy the member `info` of the zip `archive` into `dst` as it is: never inflated, never deflated again."""
    target = member_like(info, info.compress_type)
    target.CRC, target.file_size, target.compress_size = info.CRC, info.file_size, info.compress_size
    put_raw(dst, target, stored_data(archive, info))


Deflater = tuple[Any, Callable[[bytes, int], int]]


def zlib_deflater(level: int) -> Deflater:
    """zlib's raw deflate compressor at `level` and its CRC-32."""
    return zlib.compressobj(level, zlib.DEFLATED, -15), zlib.crc32


@functools.cache
def _isal() -> Any:
    """ISA-L's zlib module, or None when it is not installed (imported when first needed, not at start-up)."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:
        return None


def deflater(level: int) -> Deflater:
    """A raw deflate compressor at `level` and the CRC-32 to go with it: ISA-L's when installed, else zlib's."""
    fast = _isal()
    if fast is None:
        return zlib_deflater(level)
    # ISA-L has levels 0-3: 1 is its fast level, and it compresses about as well as zlib's 1.
    return fast.compressobj(min(level, fast.ISAL_BEST_COMPRESSION), fast.DEFLATED, -15), fast.crc32


def put_chunks(dst: ZipFile, info: ZipInfo, chunks: Iterable[bytes], level: int,
               make: Callable[[int], Deflater] | None = None) -> None:
    """Put a member made of `chunks` into `dst`, deflated at `level` in one pass (never joined into one string);
    `make` gives the compressor (`deflater` unless given)."""
    data, crc, size = _deflated(chunks, (make or deflater)(level), zlib.Z_FINISH)
    info.compress_type = ZIP_DEFLATED
    info.CRC, info.file_size, info.compress_size = crc, size, len(data)
    put_raw(dst, info, data)


def _deflated(chunks: Iterable[bytes], deflate: Deflater, flush: int) -> tuple[bytes, int, int]:
    """`chunks` deflated in one pass and ended by `flush` (the stream's end, or a sync flush), with the CRC-32 and
    length of what they hold."""
    compressor, crc32 = deflate
    out: list[bytes] = []
    crc = size = 0
    for chunk in chunks:
        crc = crc32(chunk, crc)
        size += len(chunk)
        out.append(compressor.compress(chunk))
    out.append(compressor.flush(flush))
    return b"".join(out), crc, size


class Segment(NamedTuple):
    """Some of a member's data deflated on its own (raw deflate ended by a sync flush, never a final block), so that
    segments made apart, even in other runs, join into one stream; with the CRC-32 and length of what it holds."""

    data: bytes
    crc: int
    size: int
    #: When it holds rows of a sheet: how many, how many of their cells are shared strings, and the first row's number.
    rows: int = 0
    strings: int = 0
    first: int = 0


def segment(chunks: Iterable[bytes], *, rows: int = 0, strings: int = 0, first: int = 0, level: int = 1) -> Segment:
    """`chunks` deflated at `level` as one Segment (that holds these rows)."""
    return Segment(*_deflated(chunks, deflater(level), zlib.Z_SYNC_FLUSH), rows, strings, first)


#: Zero bytes, to work out a joined CRC-32 with zlib when ISA-L (which joins them itself) is not installed.
_ZEROS = bytes(1 << 16)


def _crc_of_zeros(n: int, crc: int) -> int:
    """The CRC-32 of the data `crc` is of, followed by `n` zero bytes."""
    view = memoryview(_ZEROS)
    while n > 0:
        step = min(n, len(_ZEROS))
        crc = zlib.crc32(view[:step], crc)
        n -= step
    return crc


def crc_combine(crc1: int, crc2: int, size2: int) -> int:
    """The CRC-32 of some data whose CRC-32 is `crc1` followed by `size2` bytes whose CRC-32 is `crc2`."""
    fast = _isal()
    if fast is not None:
        return int(fast.crc32_combine(crc1, crc2, size2))
    # CRC-32 is affine in its data: of A then B, it is that of A then as many zeros as B has bytes, with B's own
    # CRC added and that of the zeros alone taken away (both by XOR).
    return _crc_of_zeros(size2, crc1) ^ crc2 ^ _crc_of_zeros(size2, 0)


def put_segments(dst: ZipFile, info: ZipInfo, head: bytes, segments: Iterable[Segment], tail: bytes,
                 level: int) -> None:
    """Put a member into `dst` made of `head`, the data the `segments` hold (joined as they are, never deflated
    again) and `tail`; head and tail are deflated here at `level`."""
    first = segment((head,), level=level)
    last = Segment(*_deflated((tail,), deflater(level), zlib.Z_FINISH))
    data, crc, size = [], 0, 0
    for s in (first, *segments, last):
        data.append(s.data)
        crc, size = crc_combine(crc, s.crc, s.size), size + s.size
    info.compress_type = ZIP_DEFLATED
    info.CRC, info.file_size = crc, size
    joined = b"".join(data)
    info.compress_size = len(joined)
    put_raw(dst, info, joined)
