"""Safety checks for returned workbooks: they come from outside, so refuse anything odd before reading it."""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from auditbook.errors import UnreadableFileError
from auditbook.problems import Code

MIB = 1024 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_DRIVE = re.compile(r"^[A-Za-z]:")
# The bytes `file` treats as text; anything else in the first few hundred bytes means binary.
_TEXT_BYTES = bytes({7, 8, 9, 10, 12, 13, 27} | set(range(0x20, 0x100)) - {0x7F})
_ENCRYPTED_MSG = "this workbook is password-protected: ask the auditor for an unprotected copy"
_RESEND = "ask the auditor to save it again from Excel as .xlsx (Excel Workbook) and resend it"
_WRONG_FILE = "ask the auditor to send the audit workbook itself, saved as .xlsx (Excel Workbook)"


@dataclass(frozen=True)
class Limits:
    """Caps that stop a hostile or broken file from exhausting memory or time."""

    max_file_bytes: int = 20 * MIB
    max_uncompressed_bytes: int = 50 * MIB
    max_member_bytes: int = 10 * MIB
    max_ratio: float = 200.0
    max_members: int = 2000


DEFAULT_LIMITS = Limits()


def skip_reason(path: Path) -> str | None:
    """Say why a file in a returns folder is not a return at all (lock/owner/hidden file), or None."""
    name = path.name
    if name.startswith("~$"):
        return f"Excel lock file (someone has {name[2:]} open): skipped"
    if name.startswith(".~lock.") and name.endswith("#"):
        return f"LibreOffice lock file (someone has {name[7:-1]} open): skipped"
    if name.startswith("._"):
        return f"macOS metadata file ({name}): skipped"
    if name.startswith("."):
        return f"hidden file ({name}): skipped"
    if name.lower() in ("thumbs.db", "desktop.ini"):
        return f"Windows system file ({name}): skipped"
    return None


def _fail(name: str, code: str, problem: str) -> UnreadableFileError:
    return UnreadableFileError(f"{name}: {problem}", code=code)


def _mb(n: float) -> str:
    return f"{n / MIB:.1f} MB"


def _describe(head: bytes) -> str:
    """Guess what a non-zip file is from its first bytes, in words a collator knows."""
    if head.startswith(b"%PDF"):
        return "a PDF document"
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom) :].decode(enc, errors="ignore")
            break
    else:
        if head.translate(None, _TEXT_BYTES):
            return "a file of an unrecognised type"
        text = head.decode("utf-8", errors="ignore")
    start = text.lstrip().lower()
    if start.startswith(("<!doctype html", "<html")):
        return "a web page (HTML)"
    if start.startswith("<?xml"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in start:
            return "an old 'XML Spreadsheet 2003' file"
        return "an XML file"
    first_line = start.partition("\n")[0]
    if any(sep in first_line for sep in ",;\t"):
        return "a CSV or plain-text file"
    return "a plain-text file"


# Telltale members of zips people send instead, named so the collator knows what they got.
_OTHER_ZIPS = {
    "xl/workbook.bin": "an Excel Binary Workbook (.xlsb)",
    "content.xml": "an OpenDocument file (e.g. LibreOffice .ods)",
    "word/document.xml": "a Word document",
    "ppt/presentation.xml": "a PowerPoint presentation",
}


def _unsafe(member: str) -> bool:
    return member.startswith("/") or "\\" in member or bool(_DRIVE.match(member)) or ".." in member.split("/")


def open_checked(path: Path, limits: Limits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """Open a returned workbook as a zip after every safety check, or raise UnreadableFileError."""
    name = path.name
    try:
        size = path.stat().st_size
        if size == 0:
            raise _fail(name, Code.FILE_EMPTY, "the file is empty (0 bytes): ask the auditor to send it again")
        if size > limits.max_file_bytes:
            raise _fail(
                name,
                Code.FILE_TOO_LARGE,
                f"the file is {_mb(size)}, over the {_mb(limits.max_file_bytes)} limit for a returned"
                " workbook: check it is the right file, or ask the auditor to remove pasted pictures",
            )
        with path.open("rb") as f:
            head = f.read(512)
            # An encrypted .xlsx is an OLE2 container; its directory names the EncryptedPackage stream.
            if head.startswith(_OLE_MAGIC):
                if _ENCRYPTED_STREAM in head + f.read():
                    raise _fail(name, Code.ENCRYPTED, _ENCRYPTED_MSG)
                raise _fail(
                    name,
                    Code.LEGACY_XLS,
                    "an old-format .xls file (Excel 97-2003): open it and save it as .xlsx (Excel Workbook)",
                )
    except OSError as e:
        raise _fail(
            name, Code.UNREADABLE, f"could not be opened ({e.strerror}): check it is not open or still syncing"
        ) from e
    # zipfile would accept junk in front of a zip; Excel never writes that, so judge by the first bytes.
    if not head.startswith(b"PK"):
        raise _fail(name, Code.NOT_A_WORKBOOK, f"not an Excel workbook, it looks like {_describe(head)}: {_WRONG_FILE}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise _fail(name, Code.CORRUPT, f"the workbook is damaged and cannot be read: {_RESEND}") from e
    try:
        _check_members(zf, name, limits)
    except BaseException:
        zf.close()
        raise
    return zf


def _check_members(zf: zipfile.ZipFile, name: str, limits: Limits) -> None:
    infos = zf.infolist()
    bomb = f"the workbook's contents are implausibly large (possibly malicious): {_RESEND}"
    if len(infos) > limits.max_members:
        raise _fail(name, Code.ZIP_BOMB, bomb)
    total = 0
    for info in infos:
        if _unsafe(info.filename):
            raise _fail(
                name,
                Code.UNSAFE_PATH,
                f"the workbook contains an internal file with an unsafe name ({info.filename!r}),"
                f" which Excel never writes: {_RESEND}",
            )
        if info.flag_bits & 0x1:  # a zip-level password, not Excel's own protection
            raise _fail(name, Code.ENCRYPTED, _ENCRYPTED_MSG)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        too_dense = info.file_size > MIB and ratio > limits.max_ratio
        if info.file_size > limits.max_member_bytes or too_dense or total > limits.max_uncompressed_bytes:
            raise _fail(name, Code.ZIP_BOMB, bomb)
    names = {n.lower() for n in zf.namelist()}
    macros = "xl/vbaproject.bin" in names
    if not macros and "[content_types].xml" in names:
        types = next(i for i in infos if i.filename.lower() == "[content_types].xml")
        macros = b"macroenabled" in read_member(zf, types.filename, limits, file_name=name).lower()
    if macros:
        raise _fail(
            name,
            Code.MACROS,
            "this workbook contains macros (.xlsm); save it as a plain .xlsx workbook and send that",
        )
    if "xl/workbook.xml" not in names:
        what = next((f", it looks like {w}" for m, w in _OTHER_ZIPS.items() if m in names), "")
        raise _fail(name, Code.NOT_A_WORKBOOK, f"a zip file but not an Excel workbook{what}: {_WRONG_FILE}")


def read_member(
    zf: zipfile.ZipFile, name: str, limits: Limits = DEFAULT_LIMITS, *, file_name: str | None = None
) -> bytes:
    """Read one member in chunks, refusing it past max_member_bytes whatever its header claims."""
    label = file_name or Path(zf.filename or "workbook").name
    info = zf.getinfo(name)
    bomb = _fail(label, Code.ZIP_BOMB, f"the part {name} is implausibly large (possibly malicious): {_RESEND}")
    if info.file_size > limits.max_member_bytes:
        raise bomb
    chunks: list[bytes] = []
    total = 0
    try:
        with zf.open(info) as member:
            while chunk := member.read(64 * 1024):
                total += len(chunk)
                if total > limits.max_member_bytes:
                    raise bomb
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError) as e:
        # Bad CRC, truncated or garbled data, or a compression method Excel never uses.
        raise _fail(label, Code.CORRUPT, f"the workbook is damaged (part {name} unreadable): {_RESEND}") from e
    return b"".join(chunks)


def parse_xml(data: bytes, member: str | None = None) -> Element:
    """Parse workbook XML with DTDs, entities and external references forbidden."""
    where = f"part {member}" if member else "an internal part"
    try:
        root: Element = DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as e:
        raise UnreadableFileError(
            f"the workbook's {where} has XML features Excel never writes (possibly malicious): {_RESEND}",
            code=Code.CORRUPT,
        ) from e
    except (ParseError, ValueError, LookupError) as e:  # Value/LookupError: encodings expat cannot handle
        raise UnreadableFileError(f"the workbook's {where} is damaged: {_RESEND}", code=Code.CORRUPT) from e
    return root
