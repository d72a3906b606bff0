"""outputs/zipraw.py: members copied as they are, or deflated in one pass, read back whole through zipfile, which
checks every member's CRC."""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from auditbook.outputs import zipraw
from auditbook.outputs.zipraw import Deflater, copy_member, deflater, put_chunks, put_raw, stored_data, zlib_deflater

#: Parts like a workbook's: small XML, a larger repetitive sheet, bytes that do not compress, an empty part.
PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
    "xl/worksheets/sheet1.xml": b"".join(b'<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>' % (i, i, i % 97)
                                         for i in range(1, 20000)),
    "xl/media/image1.png": os.urandom(5000),
    "docProps/empty.xml": b"",
}


def _source(stored: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in PARTS.items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _copied(source: bytes, path: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            copy_member(source, info, dst)
    return path


def test_copied_members_read_back_byte_identical(tmp_path: Path) -> None:
    source = _source(stored=("xl/media/image1.png",))
    path = _copied(source, tmp_path / "copy.zip")
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(io.BytesIO(source)) as src:
        assert zf.testzip() is None
        assert [i.filename for i in zf.infolist()] == list(PARTS)
        for info in zf.infolist():
            assert zf.read(info) == PARTS[info.filename]
            was = src.getinfo(info.filename)
            # The data as it was: not deflated again.
            assert stored_data(path.read_bytes(), info) == stored_data(source, was)
            assert (info.CRC, info.compress_size, info.file_size, info.compress_type, info.date_time) == (
                was.CRC, was.compress_size, was.file_size, was.compress_type, was.date_time)


def test_copies_mix_with_members_zipfile_writes(tmp_path: Path) -> None:
    source = _source()
    path = tmp_path / "mixed.zip"
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            copy_member(source, info, dst)
            dst.writestr(info.filename + ".again", PARTS[info.filename])
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert {i.filename: zf.read(i) for i in zf.infolist()} == {
            **PARTS, **{name + ".again": data for name, data in PARTS.items()}}


def test_a_wrong_crc_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as dst:
        info = zipfile.ZipInfo("a.xml")
        info.compress_type = zipfile.ZIP_STORED
        info.CRC, info.file_size, info.compress_size = 12345, 4, 4
        put_raw(dst, info, b"<a/>")
    with zipfile.ZipFile(path) as zf, pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        zf.read("a.xml")


def test_corrupted_copied_data_is_caught(tmp_path: Path) -> None:
    path = _copied(_source(), tmp_path / "copy.zip")
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        stored = stored_data(bytes(data), zf.getinfo("[Content_Types].xml"))
    at = bytes(data).index(stored) + len(stored) // 2
    data[at] ^= 0x01
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf, pytest.raises((zipfile.BadZipFile, OSError)):
        zf.read("[Content_Types].xml")


def test_a_member_not_where_its_header_should_be_is_refused() -> None:
    source = _source()
    with zipfile.ZipFile(io.BytesIO(source)) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        offset = info.header_offset
        info.header_offset += 1
        with pytest.raises(zipfile.BadZipFile, match="no local header"):
            stored_data(source, info)
        info.header_offset = zf.getinfo("[Content_Types].xml").header_offset
        with pytest.raises(zipfile.BadZipFile, match=re.escape("is not xl/worksheets/sheet1.xml's")):
            stored_data(source, info)
        info.header_offset = offset
        with pytest.raises(zipfile.BadZipFile, match="cut short"):
            stored_data(source[:offset + 100], info)


def test_put_raw_refuses_sizes_that_do_not_match_and_other_methods(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as dst:
        info = zipfile.ZipInfo("a.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.CRC, info.file_size, info.compress_size = 0, 4, 9
        with pytest.raises(ValueError, match="4 bytes of data, 9 said"):
            put_raw(dst, info, b"abcd")
        info.compress_type = zipfile.ZIP_BZIP2
        with pytest.raises(ValueError, match="only deflated or stored"):
            put_raw(dst, info, b"abcd")
        info.compress_type, info.file_size = zipfile.ZIP_DEFLATED, 1 << 32
        with pytest.raises(ValueError, match="too large"):
            put_raw(dst, info, b"abcd")


@pytest.mark.parametrize("make", [zlib_deflater, deflater, None])
def test_chunks_deflated_in_one_pass_read_back_whole(tmp_path: Path, make: Callable[[int], Deflater] | None) -> None:
    sheet = PARTS["xl/worksheets/sheet1.xml"]
    pieces = [sheet[i:i + 7000] for i in range(0, len(sheet), 7000)]
    path = tmp_path / "chunks.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("first.xml", b"<a/>")
        put_chunks(dst, zipfile.ZipInfo("xl/worksheets/sheet1.xml", (2026, 12, 7, 10, 0, 0)), iter(pieces), 1,
                   make)
        put_chunks(dst, zipfile.ZipInfo("empty.xml"), [], 1, make)
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert [(i.filename, zf.read(i)) for i in zf.infolist()] == [
            ("first.xml", b"<a/>"), ("xl/worksheets/sheet1.xml", sheet), ("empty.xml", b"")]
        info = zf.getinfo("xl/worksheets/sheet1.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < len(sheet) // 4
        assert info.date_time == (2026, 12, 7, 10, 0, 0)
        # Sizes and CRC in the local header (no data descriptor), as in the central directory.
        fields = struct.unpack_from("<4s2B4HL2L2H", raw, info.header_offset)
        assert (fields[3] & 0x08, fields[7], fields[8], fields[9]) == (0, info.CRC, info.compress_size, len(sheet))


def test_without_isal_zlib_deflates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(zipraw, "_isal", lambda: None)
    compressor, crc32 = deflater(1)
    assert crc32 is zlib.crc32
    data = compressor.compress(b"<a/>" * 100) + compressor.flush()
    assert zlib.decompress(data, -15) == b"<a/>" * 100


def test_isal_is_used_when_installed() -> None:
    # The test extra installs it (pyproject.toml): its deflate is what the master's big sheets are made with.
    fast = zipraw._isal()
    assert fast is not None
    assert deflater(1)[1] is fast.crc32


@pytest.mark.parametrize("isal", [True, False], ids=["isal", "zlib"])
def test_segments_deflated_apart_join_into_one_member_whose_crc_checks(tmp_path: Path, isal: bool,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if not isal:  # the CRCs joined by zlib alone, as where ISA-L is not installed
        monkeypatch.setattr(zipraw, "_isal", lambda: None)
    # Sizes across the zeros' buffer (65,536 bytes) and an empty segment: each joined CRC is worked out by its length.
    pieces = [PARTS["xl/worksheets/sheet1.xml"][:n] for n in (70_000, 0, 1, 65_536, 150_000)] + [os.urandom(3000)]
    segments = [zipraw.segment((p[:10], p[10:]), rows=i, level=1) for i, p in enumerate(pieces)]
    assert all(zlib.decompressobj(-15).decompress(s.data) == p for s, p in zip(segments, pieces, strict=True))
    path = tmp_path / "joined.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zipraw.put_segments(zf, zipfile.ZipInfo("xl/worksheets/sheet1.xml"), b"<head>", segments, b"</tail>", 1)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every member's CRC checked
        assert zf.read("xl/worksheets/sheet1.xml") == b"<head>" + b"".join(pieces) + b"</tail>"
    crc = 0
    for s in segments:
        crc = zipraw.crc_combine(crc, s.crc, s.size)
    assert crc == zlib.crc32(b"".join(pieces))
