"""Tests for auditbook.returns.safety: every fixture is built here, one defect per case."""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from auditbook.errors import UnreadableFileError
from auditbook.returns.safety import DEFAULT_LIMITS, Limits, open_checked, parse_xml, read_member, skip_reason

NAME = "Return 07 - Team A.xlsx"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTENT_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="%s"/></Types>'
)
XLSX_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def make_zip(members: dict[str, bytes], *, workbook: bool = True, content_type: bytes = XLSX_TYPE) -> bytes:
    """A deflated zip with the given members, plus a minimal xl/workbook.xml unless told not to."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if workbook:
            zf.writestr("[Content_Types].xml", CONTENT_TYPES % content_type)
            zf.writestr("xl/workbook.xml", b"<workbook/>")
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def real_workbook(tmp_path: Path) -> bytes:
    """A genuine minimal workbook as openpyxl writes it."""
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Case ref"
    out = tmp_path / "made-by-openpyxl.xlsx"
    wb.save(out)
    return out.read_bytes()


def patch_member(
    data: bytes, member: str, *, size: int | None = None, flags: int | None = None, version: int | None = None
) -> bytes:
    """Rewrite a member's declared size, flags or needed zip version in its local and central headers."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if buf[pos + 46 : pos + 46 + name_len] == member.encode():
            local = struct.unpack_from("<I", buf, pos + 42)[0]
            for hdr, off in ((pos, 8), (local, 6)):  # offsets of the flags field in each header
                if version is not None:
                    struct.pack_into("<H", buf, hdr + off - 2, version)
                if flags is not None:
                    struct.pack_into("<H", buf, hdr + off, flags)
                if size is not None:
                    struct.pack_into("<I", buf, hdr + off + 16, size)
            return bytes(buf)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(f"{member} not in zip")


def refusal(path: Path, limits: Limits = DEFAULT_LIMITS) -> UnreadableFileError:
    """Open path expecting a refusal whose message names the file but not its folder."""
    with pytest.raises(UnreadableFileError) as info:
        open_checked(path, limits).close()
    assert NAME in str(info.value)
    assert str(path.parent) not in str(info.value)
    return info.value


DEFECTS: dict[str, tuple[Callable[[Path], bytes], str, Limits, str]] = {
    "empty": (lambda _: b"", "file-empty", Limits(), "empty"),
    "too-large": (lambda _: b"PK" + b"\0" * 3000, "file-too-large", Limits(max_file_bytes=1024), "limit"),
    "ole-encrypted": (
        lambda _: OLE_MAGIC + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 100,
        "encrypted",
        Limits(),
        "password-protected",
    ),
    "legacy-xls": (lambda _: OLE_MAGIC + b"\0" * 1000, "legacy-xls", Limits(), "Excel 97-2003"),
    "csv-renamed": (lambda _: b"case_ref,worker,grade\nC001,AB,Good\n", "not-a-workbook", Limits(), "CSV"),
    "unicode-text": (
        lambda _: b"\xff\xfe" + "case_ref\tgrade\r\n".encode("utf-16-le"),
        "not-a-workbook",
        Limits(),
        "CSV",
    ),
    "pdf-renamed": (lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not-a-workbook", Limits(), "PDF"),
    "html-renamed": (lambda _: b"\n<!DOCTYPE html><html></html>", "not-a-workbook", Limits(), "HTML"),
    "binary-junk": (lambda _: bytes(range(256)), "not-a-workbook", Limits(), "unrecognised"),
    "plain-zip": (
        lambda _: make_zip({"notes.txt": b"hi"}, workbook=False),
        "not-a-workbook",
        Limits(),
        "not an Excel workbook: it looks like a zip file",
    ),
    "docx": (
        lambda _: make_zip({"word/document.xml": b"<w/>"}, workbook=False),
        "not-a-workbook",
        Limits(),
        "Word document",
    ),
    "ratio-bomb": (lambda _: make_zip({"xl/media/z.bin": bytes(50 * 1024 * 1024)}), "zip-bomb", Limits(), ""),
    "member-cap": (
        lambda _: make_zip({"xl/a.bin": bytes(5000)}),
        "zip-bomb",
        Limits(max_member_bytes=4096),
        "",
    ),
    "total-cap": (
        lambda _: make_zip({f"xl/{i}.bin": bytes(3000) for i in range(4)}),
        "zip-bomb",
        Limits(max_uncompressed_bytes=10_000),
        "",
    ),
    "too-many-members": (
        lambda _: make_zip({f"xl/{i}.xml": b"<a/>" for i in range(20)}),
        "zip-bomb",
        Limits(max_members=10),
        "",
    ),
    "dotdot": (lambda _: make_zip({"xl/../../evil.xml": b"<a/>"}), "unsafe-path", Limits(), "unsafe"),
    "absolute": (lambda _: make_zip({"/etc/evil.xml": b"<a/>"}), "unsafe-path", Limits(), "unsafe"),
    "drive": (lambda _: make_zip({"C:/evil.xml": b"<a/>"}), "unsafe-path", Limits(), "unsafe"),
    "backslash": (lambda _: make_zip({"xl\\evil.xml": b"<a/>"}), "unsafe-path", Limits(), "unsafe"),
    "vba": (lambda _: make_zip({"xl/VBAProject.bin": b"\0" * 10}), "macros", Limits(), ".xlsm"),
    "xlsm-type": (
        lambda _: make_zip({}, content_type=XLSM_TYPE),
        "macros",
        Limits(),
        "macros",
    ),
    "zip-password": (
        lambda _: patch_member(make_zip({"xl/styles.xml": b"<s/>"}), "xl/styles.xml", flags=0x1),
        "encrypted",
        Limits(),
        "password-protected",
    ),
    "zip-version": (
        lambda _: patch_member(make_zip({"xl/styles.xml": b"<s/>"}), "xl/styles.xml", version=99),
        "corrupt",
        Limits(),
        "damaged",
    ),
    "truncated": (lambda p: (b := real_workbook(p))[: len(b) // 2], "corrupt", Limits(), "damaged"),
}


@pytest.mark.parametrize("case", DEFECTS)
def test_open_checked_refuses(tmp_path: Path, case: str) -> None:
    build, code, limits, words = DEFECTS[case]
    path = tmp_path / NAME
    path.write_bytes(build(tmp_path))
    err = refusal(path, limits)
    assert err.code == code
    assert words in str(err)


def test_too_large_message_gives_size_and_cap(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(b"PK" + bytes(3 * 1024 * 1024))
    assert "3.0 MB, over the 2.0 MB limit" in str(refusal(path, Limits(max_file_bytes=2 * 1024 * 1024)))


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    assert refusal(tmp_path / NAME).code == "unreadable"


def test_real_workbook_opens_and_reads(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(real_workbook(tmp_path))
    with open_checked(path) as zf:
        for name in zf.namelist():
            data = read_member(zf, name)
            if name.endswith((".xml", ".rels")):
                parse_xml(data, name)
        assert parse_xml(read_member(zf, "xl/workbook.xml")).tag.endswith("workbook")


def test_read_member_caps_size(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(make_zip({"xl/big.xml": bytes(5000)}))
    with open_checked(path) as zf, pytest.raises(UnreadableFileError) as info:
        read_member(zf, "xl/big.xml", Limits(max_member_bytes=4096))
    assert info.value.code == "zip-bomb"
    assert NAME in str(info.value) and str(tmp_path) not in str(info.value)


def test_read_member_does_not_trust_a_lying_header(tmp_path: Path) -> None:
    # Claims 100 bytes but inflates to 2 MiB: passes the header checks, must not be read whole.
    path = tmp_path / NAME
    path.write_bytes(patch_member(make_zip({"xl/big.xml": bytes(2 * 1024 * 1024)}), "xl/big.xml", size=100))
    with open_checked(path) as zf, pytest.raises(UnreadableFileError) as info:
        read_member(zf, "xl/big.xml")
    assert info.value.code == "corrupt"


def test_read_member_bad_crc_is_corrupt(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES % XLSX_TYPE)
        zf.writestr("xl/workbook.xml", b"<workbook>AAAA</workbook>")
    path = tmp_path / NAME
    path.write_bytes(buf.getvalue().replace(b"AAAA", b"AAAB", 1))
    with open_checked(path) as zf, pytest.raises(UnreadableFileError) as info:
        read_member(zf, "xl/workbook.xml")
    assert info.value.code == "corrupt"


def test_read_member_reads_from_memory_exactly_as_zipfile(tmp_path: Path) -> None:
    # read_member inflates members straight from the bytes in memory (safety._inflate); each member must come out as
    # zipfile reads it, and a member zipfile would refuse (its local header naming another part) is refused still.
    buf = io.BytesIO()
    texts = {"xl/a.xml": b"<a>" + bytes(range(32, 127)) * 50 + b"</a>", "xl/empty.xml": b"", "xl/b\u00e9.xml": b"<b/>"}
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES % XLSX_TYPE, zipfile.ZIP_DEFLATED)
        zf.writestr("xl/workbook.xml", b"<workbook/>", zipfile.ZIP_STORED)
        for name, data in texts.items():
            zf.writestr(name, data, zipfile.ZIP_DEFLATED, compresslevel=9)
    path = tmp_path / NAME
    path.write_bytes(buf.getvalue())
    with open_checked(path) as zf, zipfile.ZipFile(io.BytesIO(buf.getvalue())) as plain:
        for name in plain.namelist():
            assert read_member(zf, name) == plain.read(name)
    # The local header of xl/a.xml renamed xl/c.xml (the directory still says xl/a.xml): zipfile refuses it.
    path.write_bytes(buf.getvalue().replace(b"xl/a.xml", b"xl/c.xml", 1))
    with open_checked(path) as zf, pytest.raises(UnreadableFileError) as info:
        read_member(zf, "xl/a.xml")
    assert info.value.code == "corrupt"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>"""


@pytest.mark.parametrize(
    "xml",
    [
        BILLION_LAUGHS,
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b"<r><unclosed></r>",
        b"",
        b'<?xml version="1.0" encoding="bogus"?><r/>',
        b'<?xml version="1.0" encoding="utf-32"?><r/>',
    ],
    ids=["billion-laughs", "external-entity", "malformed", "empty", "unknown-encoding", "multibyte-encoding"],
)
def test_parse_xml_refuses(xml: bytes) -> None:
    with pytest.raises(UnreadableFileError) as info:
        parse_xml(xml, "xl/worksheets/sheet1.xml")
    assert info.value.code == "corrupt"
    assert "xl/worksheets/sheet1.xml" in str(info.value)


def test_mangled_workbooks_only_ever_raise_unreadable(tmp_path: Path) -> None:
    # Untrusted input: whatever the damage, callers must only ever see UnreadableFileError.
    original = real_workbook(tmp_path)
    rng = random.Random(1234)
    headers = [i for i in range(len(original) - 1) if original[i : i + 2] == b"PK"]
    path = tmp_path / NAME
    for _ in range(300):
        data = bytearray(original)
        # Half the time aim at the zip headers, where zipfile's own parsing is most fragile.
        spots = headers if rng.random() < 0.5 else range(len(data))
        for _ in range(rng.randint(1, 8)):
            data[min(rng.choice(spots) + rng.randrange(46), len(data) - 1)] = rng.randrange(256)
        path.write_bytes(bytes(data[: rng.choice([len(data), rng.randrange(1, len(data))])]))
        try:
            with open_checked(path) as zf:
                for name in zf.namelist():
                    parse_xml(read_member(zf, name), name)
        except UnreadableFileError:
            pass


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("~$Return 07.xlsx", "Excel lock file (someone has Return 07.xlsx open): skipped"),
        (".~lock.Return 07.xlsx#", "LibreOffice lock file (someone has Return 07.xlsx open): skipped"),
        (".DS_Store", "hidden file (.DS_Store): skipped"),
        ("._Return 07.xlsx", "macOS metadata file (._Return 07.xlsx): skipped"),
        ("Thumbs.db", "Windows system file (Thumbs.db): skipped"),
        ("Return 07.xlsx", None),
        ("Return ~$07.xlsx", None),
    ],
)
def test_skip_reason(name: str, expected: str | None) -> None:
    assert skip_reason(Path("/returns") / name) == expected


def test_a_workbook_over_a_returns_caps_is_refused_with_its_outline_from_the_same_open(tmp_path: Path) -> None:
    """What a refused workbook says it is (auditbook's own output tells itself apart by it) is read in the open
    that refuses it, within the caps for auditbook's own files: never by opening the file again."""
    from auditbook.problems import Code
    from auditbook.returns.reader import read_workbook
    from auditbook.returns.safety import OversizeError
    from auditbook.returns.validate import validate_file
    from tests.returns import valid_return

    path = valid_return(tmp_path / "SYN-0001.xlsx")
    outline = read_workbook(path).outline
    assert "Case profile" in outline.sheets and outline.properties
    for limits, code in ((Limits(max_file_bytes=path.stat().st_size - 1), Code.FILE_TOO_LARGE),
                         (Limits(max_member_bytes=20_000), Code.ZIP_BOMB)):
        with pytest.raises(OversizeError) as refused:
            open_checked(path, limits).close()
        assert (refused.value.code, refused.value.outline) == (code, outline)
        report = validate_file(path, limits=limits)
        assert ([p.code for p in report.problems], report.outline) == ([code], outline)
    # Refused within the caps for auditbook's own files too (here for macros): no outline.
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(make_zip({"xl/big.xml": b"<a>" + b" " * (3 * 1024 * 1024) + b"</a>",
                               "xl/vbaProject.bin": OLE_MAGIC + b"\x00" * 600}))
    with pytest.raises(OversizeError) as refused:
        open_checked(bomb, Limits(max_member_bytes=1024 * 1024)).close()
    assert refused.value.outline is None
