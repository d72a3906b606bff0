"""Safety checks for returned workbooks: they come from outside, so refuse anything odd before reading it."""

from __future__ import annotations

import io
import os
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple
from xml.etree.ElementTree import Element, ParseError, fromstring

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from auditbook import ziplocal
from auditbook.errors import UnreadableFileError
from auditbook.fingerprint import Fingerprint
from auditbook.problems import Code
from auditbook.returns.active import OLE_MAGIC, check_binary, check_parts, check_relationships, content_types
from auditbook.returns.package import (
    CUSTOM_PROPERTIES,
    OFFICE_DOCUMENT,
    Relationship,
    only,
    relationships,
    rels_part,
    source_of,
)
from auditbook.text import name_key

MIB = 1024 * 1024
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_DRIVE = re.compile(r"^[A-Za-z]:")
# The bytes `file` treats as text; anything else in the first few hundred bytes means binary.
_TEXT_BYTES = bytes({7, 8, 9, 10, 12, 13, 27} | set(range(0x20, 0x100)) - {0x7F})


class Limits(NamedTuple):
    """Caps that stop a hostile or broken file from exhausting memory or time."""

    max_file_bytes: int = 20 * MIB
    max_uncompressed_bytes: int = 50 * MIB
    max_member_bytes: int = 10 * MIB
    max_ratio: float = 200.0
    max_members: int = 2000


DEFAULT_LIMITS = Limits()
#: Caps for auditbook's own files (a master, with its tidy tabs, is far larger than a return): a workbook refused
#: for a return's size is still outlined within these, in the same open, so auditbook's own output is told apart.
OWN_LIMITS = Limits(max_file_bytes=500 * MIB, max_uncompressed_bytes=4000 * MIB, max_member_bytes=2000 * MIB,
                    max_ratio=5000.0)
#: The parts an outline reads are small in any workbook.
_OUTLINE_PART = Limits(max_member_bytes=MIB)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


class Outline(NamedTuple):
    """What a workbook says it is, from the one open that reads it: its custom document properties, its sheets."""

    properties: Mapping[str, str]
    sheets: frozenset[str]


class OversizeError(UnreadableFileError):
    """A workbook over a return's size caps, with its outline when it was read safely within OWN_LIMITS."""

    def __init__(self, message: str, *, code: Code, outline: Outline | None) -> None:
        super().__init__(message, code=code)
        self.outline = outline


def skip_reason(path: Path) -> str | None:
    """Say why a file in a returns folder is not a return at all (lock/owner/hidden file), or None."""
    name = name_key(path.name)
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


def _fail(name: str, code: Code, case: str | None = None, **values: object) -> UnreadableFileError:
    return UnreadableFileError.of(code, case, file=name, **values)


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


class OwnedZip(zipfile.ZipFile):
    """A zip read from a file this module opened: closing the zip closes the file. `links` are its relationships,
    as the checks read them."""

    def __init__(self, file: IO[bytes], path: Path, read: Fingerprint | None = None) -> None:
        self.owned = file
        #: The whole file's bytes when it is held in memory (members are then read from them directly).
        self.data = file.getvalue() if isinstance(file, io.BytesIO) else None
        super().__init__(file)
        self.filename = str(path)
        #: The bytes it was read from, fingerprinted in the one open of the file.
        self.fingerprint = read
        self.links = Links()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.owned.close()


@dataclass(frozen=True)
class Links:
    """A package's relationships as the safety checks read them (names in lower case): each relationships part's,
    by id, and for each part a relationship names, the types of the relationships naming it."""

    rels: Mapping[str, Mapping[str, Relationship]] = field(default_factory=dict)
    targets: Mapping[str, set[str]] = field(default_factory=dict)


def open_regular(path: Path) -> tuple[IO[bytes], os.stat_result]:
    """Open a file for reading only if it is a regular file, without blocking on a pipe or device, or raise OSError.

    The type is checked on the open file itself, so a file swapped for a pipe after it was looked at is refused too.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(21, f"not a regular file ({special_kind(st.st_mode)})")
        return os.fdopen(fd, "rb"), st
    except BaseException:
        os.close(fd)
        raise


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, in a collator's words."""
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a shortcut (symbolic link)")):
        if test(mode):
            return what
    return "a special file"


def open_checked(path: Path, limits: Limits = DEFAULT_LIMITS) -> OwnedZip:
    """Open a returned workbook as a zip after every safety check, or raise UnreadableFileError."""
    name = name_key(path.name)
    try:
        kind = path.stat().st_mode  # a device is never opened: opening some has effects
        if not stat.S_ISREG(kind):
            raise _fail(name, Code.UNREADABLE, case="not-a-file", kind=special_kind(kind))
        f, st = open_regular(path)
    except OSError as e:
        raise _fail(name, Code.UNREADABLE, reason=e.strerror) from e
    read = Fingerprint.large(st)
    try:
        # The size of the very file opened, before a byte of it is read.
        if st.st_size > limits.max_file_bytes:
            refusal = _too_large(f, name, st.st_size, limits)
            outline = _outline_file(f, path, name) if st.st_size <= OWN_LIMITS.max_file_bytes else None
            raise OversizeError(str(refusal), code=Code.FILE_TOO_LARGE, outline=outline)
        # Read once, into memory: what is checked, read and hashed are the same bytes, whatever happens to the file
        # meanwhile (a sync client replacing it, someone saving over it).
        data = _read_whole(f, st.st_size, limits.max_file_bytes + 1)
        f.close()
        read = Fingerprint.of(data, st)
        if not data:
            raise _fail(name, Code.FILE_EMPTY)
        return _open_zip(io.BytesIO(data), path, name, limits, read)
    except UnreadableFileError as err:
        err.read = read
        raise
    finally:
        f.close()


def _read_whole(f: IO[bytes], size: int, most: int) -> bytes:
    """The file's bytes, at most `most`, as one f.read(most) gives them: asked for as many as its size (and one more, to
    see whether it grew since), not `most` (a read of 20 MB makes a buffer of 20 MB and shrinks it: a third of the time
    to read a return)."""
    data = f.read(min(size + 1, most))
    if len(data) > size and len(data) < most:
        data += f.read(most - len(data))  # it grew: read on, as one read would
    return data


def _too_large(f: IO[bytes], name: str, size: int, limits: Limits) -> UnreadableFileError:
    """The refusal of a file over the size limit, naming the pictures pasted into it when its zip directory says so."""
    sizes = {"size": _mb(size), "limit": _mb(limits.max_file_bytes)}
    try:
        with zipfile.ZipFile(f) as zf:
            pictures = sorted((i.compress_size, i.filename) for i in zf.infolist() if _picture(i.filename))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        pictures = []
    if pictures and sum(s for s, _ in pictures) > size / 2:
        biggest, part = pictures[-1]
        what = f"a picture of {_mb(biggest)} ({part})" if len(pictures) == 1 else (
            f"{len(pictures)} pictures of {_mb(sum(s for s, _ in pictures))} in all (the largest {_mb(biggest)})")
        return _fail(name, Code.FILE_TOO_LARGE, case="pictures", pictures=what, **sizes)
    return _fail(name, Code.FILE_TOO_LARGE, **sizes)


_PICTURE_EXT = (".png", ".jpeg", ".jpg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf", ".svg", ".webp")


def _picture(member: str) -> bool:
    return member.lower().startswith("xl/media/") and member.lower().endswith(_PICTURE_EXT)


def _open_zip(f: IO[bytes], path: Path, name: str, limits: Limits, read: Fingerprint | None = None) -> OwnedZip:
    head = f.read(512)
    # An encrypted .xlsx is an OLE2 container; its directory names the EncryptedPackage stream.
    if head.startswith(OLE_MAGIC):
        if _ENCRYPTED_STREAM in head + f.read():
            raise _fail(name, Code.ENCRYPTED)
        raise _fail(name, Code.LEGACY_XLS)
    # zipfile would accept junk in front of a zip; Excel never writes that, so judge by the first bytes.
    if not head.startswith(b"PK"):
        raise _fail(name, Code.NOT_A_WORKBOOK, kind=_describe(head))
    f.seek(0)
    try:
        zf = OwnedZip(f, path, read)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise _fail(name, Code.CORRUPT) from e
    try:
        _check_members(zf, name, limits)
        zf.links = _check_active(zf, name, limits)
    except UnreadableFileError as err:
        outline = _outline_within(zf, name) if err.code is Code.ZIP_BOMB else None
        zf.close()
        if err.code is Code.ZIP_BOMB:
            raise OversizeError(str(err), code=err.code, outline=outline) from None
        raise
    except BaseException:
        zf.close()
        raise
    return zf


def _outline_file(f: IO[bytes], path: Path, name: str) -> Outline | None:
    """The outline of a file over a return's size, if it passes every check within OWN_LIMITS (else None)."""
    try:
        f.seek(0)
        with _open_zip(f, path, name, OWN_LIMITS) as zf:
            return outline(zf, name)
    except (UnreadableFileError, OSError, KeyError, ValueError):
        return None


def _outline_within(zf: zipfile.ZipFile, name: str) -> Outline | None:
    """The outline of a zip over a return's caps, if it passes every check within OWN_LIMITS (else None)."""
    try:
        _check_members(zf, name, OWN_LIMITS)
        _check_active(zf, name, OWN_LIMITS)
        return outline(zf, name)
    except (UnreadableFileError, OSError, KeyError, ValueError):
        return None


def outline(zf: zipfile.ZipFile, name: str) -> Outline:
    """A checked workbook's outline: its custom properties and sheet names (parts found through the package's
    relationships, by type, and then without regard to case)."""
    names = {n.lower(): n for n in zf.namelist()}

    def parse(part: str) -> Element:
        return parse_part(read_member(zf, names[part.lower()], _OUTLINE_PART, file_name=name), part)

    package = relationships(parse(rels_part("")), "")
    custom, book = only(package, CUSTOM_PROPERTIES, ""), only(package, OFFICE_DOCUMENT, "")
    props = {} if custom is None else custom_properties(parse(custom))
    if book is None:
        raise KeyError("officeDocument")
    root = parse(book)
    return Outline(props, frozenset(s.get("name", "") for s in root.iterfind(f"{_MAIN}sheets/{_MAIN}sheet")))


def custom_properties(root: Element) -> dict[str, str]:
    """docProps/custom.xml's properties by name, each value as text."""
    out: dict[str, str] = {}
    for prop in root.iterfind(f"{_CUSTOM}property"):
        name = prop.get("name")
        if name and len(prop):
            out[name] = "".join(prop[0].itertext())
    return out


def _check_active(zf: zipfile.ZipFile, name: str, limits: Limits) -> Links:
    """Refuse a workbook that would reach out or run something when the collator opens it; its relationships, read
    for that."""
    names = {n.lower(): n for n in zf.namelist()}
    types_member = names.get("[content_types].xml")
    if types_member is None:
        raise _fail(name, Code.CORRUPT, case="no-parts-list", part="[Content_Types].xml")
    types = content_types(parse_part(read_member(zf, types_member, limits, file_name=name), types_member))
    check_parts(name, names.values(), types)
    rels: dict[str, dict[str, Relationship]] = {}
    targets: dict[str, set[str]] = {}
    for low, member in names.items():
        if low.endswith(".rels"):
            root = parse_part(read_member(zf, member, limits, file_name=name), member)
            check_relationships(name, member, root)
            source = source_of(member)
            if source is not None:
                rels[low] = relationships(root, source)
                for rel in rels[low].values():
                    if rel.target is not None:
                        targets.setdefault(rel.target.lower(), set()).add(rel.type)
        elif not low.endswith((".xml", ".vml")) and not _picture(low):
            check_binary(name, zf, zf.getinfo(member))
    return Links(rels, targets)


def _check_members(zf: zipfile.ZipFile, name: str, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise _fail(name, Code.ZIP_BOMB)
    total = 0
    for info in infos:
        if _unsafe(info.filename):
            raise _fail(name, Code.UNSAFE_PATH, part=repr(info.filename))
        if info.flag_bits & 0x1:  # a zip-level password, not Excel's own protection
            raise _fail(name, Code.ENCRYPTED)
        if _picture(info.filename):
            continue  # never unpacked: a large pasted picture is not a zip bomb
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        too_dense = info.file_size > MIB and ratio > limits.max_ratio
        if info.file_size > limits.max_member_bytes or too_dense or total > limits.max_uncompressed_bytes:
            raise _fail(name, Code.ZIP_BOMB)
    _check_unique(zf, name)
    names = {n.lower() for n in zf.namelist()}
    types = next((i for i in infos if i.filename.lower() == "[content_types].xml"), None)
    listed = b"" if types is None else read_member(zf, types.filename, limits, file_name=name).lower()
    if "xl/vbaproject.bin" in names or b"macroenabled" in listed:
        raise _fail(name, Code.MACROS)
    # A workbook's main part may have any name (its relationship says which it is): its content type says it is one.
    if "xl/workbook.xml" not in names and not re.search(rb"spreadsheetml\.(?:sheet|template)\.main\+xml", listed):
        what = next((w for m, w in _OTHER_ZIPS.items() if m in names), "a zip file of some other kind")
        raise _fail(name, Code.NOT_A_WORKBOOK, kind=what)


def _check_unique(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse two parts of one name: programs differ on which copy they read (Python's zipfile the last), and the
    other copy would be checked by nobody. Part names are the same whatever their case (the Open Packaging
    Conventions), and here whatever their Unicode form."""
    seen: dict[str, str] = {}
    for member in zf.namelist():
        key = unicodedata.normalize("NFKC", member).casefold() if not member.isascii() else member.lower()
        if key in seen:
            raise _fail(name, Code.CORRUPT, case="part-twice" if member == seen[key] else "part-alike",
                        part=repr(seen[key]), other=repr(member))
        seen[key] = member


def read_member(
    zf: zipfile.ZipFile, name: str, limits: Limits = DEFAULT_LIMITS, *, file_name: str | None = None
) -> bytes:
    """Read one member, refusing it past max_member_bytes whatever its header claims."""
    info = zf.getinfo(name)
    if info.file_size <= limits.max_member_bytes and isinstance(zf, OwnedZip) and zf.data is not None:
        plain = _inflate(zf.data, info)
        if plain is not None:
            return plain
    label = file_name or name_key(Path(str(zf.filename or "workbook")).name)
    bomb = _fail(label, Code.ZIP_BOMB, case="part", part=name)
    if info.file_size > limits.max_member_bytes:
        raise bomb
    try:
        with zf.open(info) as member:
            data = member.read(limits.max_member_bytes + 1)  # one call (not one per 64 KB); never past the cap
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError) as e:
        # Bad CRC, truncated or garbled data, or a compression method Excel never uses.
        raise _fail(label, Code.CORRUPT, case="part", part=name) from e
    if len(data) > limits.max_member_bytes:
        raise bomb
    return data


def _inflate(buffer: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A member's bytes read straight from a zip held in memory, or None to read it through zipfile (which then
    reads or refuses it as always).

    The same bytes zipfile gives, without its file object per member (a tenth of a return's reading): only for a
    member whose local header agrees with its directory entry (name, no encryption), stored or deflated as one
    complete stream that inflates to exactly the size the directory gives, with the directory's CRC-32."""
    found = ziplocal.stored(buffer, info)
    if isinstance(found, str):
        return None
    method, stored = found
    if method == zipfile.ZIP_STORED and info.compress_type == zipfile.ZIP_STORED:
        out = stored
    elif method == zipfile.ZIP_DEFLATED and info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        try:
            out = inflater.decompress(stored, info.file_size + 1)
        except zlib.error:
            return None
        if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
            return None
    else:
        return None
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        return None
    return out


_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_ALLOWED_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "utf-16le", "utf-16be"}


def _check_encoding(data: bytes, where: str) -> None:
    """OOXML parts are UTF-8 or UTF-16 (with or without a byte-order mark); any other encoding is refused."""
    head = data[:400]
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        utf16 = "utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else (
            "utf-16-le" if head[:2] == b"<\x00" else "utf-16-be")
        head = head.decode(utf16, errors="replace").encode("utf-8", errors="replace")
    m = _DECLARED.match(head)
    if m and m.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise UnreadableFileError.of(Code.CORRUPT, case="encoding", where=where, encoding=m.group(1).decode("ascii"))


def parse_xml(data: bytes, member: str | None = None) -> Element:
    """Parse workbook XML with DTDs, entities and external references forbidden; encodings other than UTF-8 and
    UTF-16 refused."""
    where = f"part {member}" if member else "an internal part"
    _check_encoding(data, where)
    try:
        root: Element = DET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as e:
        raise UnreadableFileError.of(Code.CORRUPT, case="xml-features", where=where) from e
    except (ParseError, ValueError, LookupError) as e:  # Value/LookupError: encodings expat cannot handle
        raise UnreadableFileError.of(Code.CORRUPT, case="xml", where=where) from e
    return root


def plain_utf8(data: bytes) -> bool:
    """UTF-8 XML without a DTD, so it can declare no entity: what defusedxml's forbid_dtd guarantees.

    Anything else (UTF-16 with or without a byte-order mark, a DTD anywhere) goes to defusedxml.
    """
    head = data[:200]
    return (head.lstrip().startswith((b"<", b"\xef\xbb\xbf<")) and b"\x00" not in head
            and b"<!DOCTYPE" not in data and b"<!ENTITY" not in data)


def parse_part(data: bytes, member: str) -> Element:
    """Parse a part as parse_xml does, with the C parser when the bytes are plain UTF-8 without a DTD
    (defusedxml's pure-Python handlers are ~4x slower); anything else, or any error, goes to parse_xml."""
    return parse_plain(data, member) if plain_utf8(data) else parse_xml(data, member)


def parse_plain(data: bytes, member: str) -> Element:
    """parse_part for bytes already known to be plain_utf8."""
    _check_encoding(data, f"part {member}")
    try:
        return fromstring(data)
    except (ParseError, ValueError, LookupError):
        return parse_xml(data, member)  # for its error message
