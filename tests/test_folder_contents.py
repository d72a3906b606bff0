"""What else a shared returns folder holds (product review): auditbook's own masters, packs and exports are
"auditbook output, not a return"; files that are not workbooks are skipped, not rejected, and do not make
collect exit 1; a workbook that is really an .xls or a CSV is still rejected, since someone meant it as a
return. The closing counts add up to the files in the folder.

Everything here is synthetic.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from auditbook.cli import app
from auditbook.collection.collect import collect
from auditbook.outputs.export import export
from auditbook.store.ours import OUTPUT_PROPERTY
from tests.test_register import NOW, REGISTRY, _returns

runner = CliRunner()


def _strip_property(path: Path) -> None:
    """Make a workbook as auditbook wrote it before its outputs carried OUTPUT_PROPERTY."""
    parts = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            parts[info.filename] = zf.read(info)
    custom = parts["docProps/custom.xml"].decode()
    parts["docProps/custom.xml"] = re.sub(rf'<property [^>]*name="{OUTPUT_PROPERTY}">.*?</property>', "",
                                          custom).encode()
    assert OUTPUT_PROPERTY not in parts["docProps/custom.xml"].decode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def test_auditbook_output_and_other_files_are_skipped_not_rejected(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere" / "returns"
    _returns(elsewhere)
    made = collect(elsewhere, out=tmp_path / "elsewhere" / "master.xlsx", registry=REGISTRY, now=NOW,
                   packs=tmp_path / "elsewhere" / "packs")
    assert made.evidence is not None
    tables = export(made.evidence, tmp_path / "elsewhere" / "tables", fmt="xlsx")
    csvs = export(made.evidence, tmp_path / "elsewhere" / "csv", fmt="csv", for_excel=True)

    folder = tmp_path / "returns"
    _returns(folder)
    shutil.copy(made.master, folder / "old master.xlsx")
    shutil.copy(made.master, folder / "older master.xlsx")
    _strip_property(folder / "older master.xlsx")
    shutil.copytree(made.packs[0].parent, folder / "packs from last round")
    _strip_property(next((folder / "packs from last round").glob("*.xlsx")))
    (folder / "export").mkdir()
    for path in [*tables, *csvs]:
        shutil.copy(path, folder / "export" / path.name)
    (folder / "notes.txt").write_text("bring the list to the SAG\n", encoding="utf-8")
    (folder / "guidance.pdf").write_bytes(b"%PDF-1.4 synthetic\n")
    # Meant as returns, in the wrong form: still rejected, with how to fix it.
    (folder / "SYN-0901.xlsx").write_text("case,grade\nSYN-0901,Good\n", encoding="utf-8")
    (folder / "SYN-0902.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    (folder / "SYN-0903.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)

    files = sum(1 for p in folder.rglob("*") if p.is_file())
    result = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "m.xlsx")])
    lines = result.stdout.splitlines()
    status = {line.split(" ", 1)[1].split(": ")[0]: line.split(" ", 1)[0] for line in lines
              if line.startswith(("skipped ", "rejected "))}
    packs = sorted(p.name for p in (folder / "packs from last round").iterdir())
    assert status == {
        "old master.xlsx": "skipped", "older master.xlsx": "skipped", "notes.txt": "skipped",
        "guidance.pdf": "skipped", "export/README.txt": "skipped", "export/auditbook-export.xlsx": "skipped",
        **{f"export/{p.name}": "skipped" for p in csvs if p.suffix == ".csv"},
        **{f"packs from last round/{p}": "skipped" for p in packs},
        "SYN-0901.xlsx": "rejected", "SYN-0902.xlsx": "rejected", "SYN-0903.xls": "rejected"}
    assert "skipped old master.xlsx: auditbook output (a master workbook), not a return" in lines
    assert "skipped older master.xlsx: auditbook output (a master workbook), not a return" in lines
    assert f"skipped packs from last round/{packs[0]}: auditbook output (a team manager's pack), not a return" in lines
    assert "skipped export/auditbook-export.xlsx: auditbook output (an export of the tidy tables), not a return" \
        in lines
    assert "skipped notes.txt: not a workbook (.txt file), not a return" in lines
    assert result.exit_code == 1  # for the three meant as returns
    # The counts add up: of the files read, 3 merged, 3 rejected and auditbook's own files (two masters, the
    # packs and an export workbook) told apart by reading them.
    own = 2 + len(packs) + 1
    assert files - 9 == 3 + 3 + own
    assert lines[-1] == (f"{files} files: 0 unchanged since last run, {files - 9} read, 9 skipped; master holds 3 "
                         f"audits; 3 rejected; 0 duplicate; 0 superseded; {own} auditbook output, not a return")

    # Without the three: nothing was rejected, so exit 0; the second run reads nothing again.
    for name in ("SYN-0901.xlsx", "SYN-0902.xlsx", "SYN-0903.xls"):
        (folder / name).unlink()
    again = runner.invoke(app, ["collect", str(folder), "--out", str(tmp_path / "m.xlsx")])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == (f"{files - 3} files: {files - 3 - 9} unchanged since last run, 0 read, "
                                             "9 skipped; master holds 3 audits; 0 rejected; 0 duplicate; "
                                             f"0 superseded; {own} auditbook output, not a return")
