"""Which template a returned workbook was made from, read from its three metadata carriers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from auditbook.problems import Code, Problem
from auditbook.returns.reader import RawWorkbook
from auditbook.spec.layout import META_SHEET, Layout, build_layout
from auditbook.spec.load import known_specs
from auditbook.spec.metadata import MODERATION_PROPERTY_NAMES, PROPERTY_NAMES, meta_name
from auditbook.spec.models import Spec
from auditbook.spec.moderation import AUDIT, MODERATION, moderation_spec

KEYS = ("spec_id", "spec_version", "spec_sha256", "instance_id", "generated_at", "kind", "audit_instance_id",
        "audit_case_ref", "audit_round")
REQUIRED_KEYS = ("spec_id", "spec_version", "spec_sha256", "instance_id")
#: Keys only a moderation carries: where one is found, two carriers must agree on it as on the required keys.
MODERATION_KEYS = ("kind", "audit_instance_id")


@dataclass
class SpecRegistry:
    """The specs a return may have been made from, by SHA-256, with their layouts."""

    by_sha: dict[str, Spec]
    _layouts: dict[str, Layout] = field(default_factory=dict)

    @classmethod
    def load(cls, extra_dirs: tuple[Path, ...] = ()) -> SpecRegistry:
        """Every spec in workbook_specs/ (older versions included) and any extra folders."""
        return cls(known_specs(extra_dirs))

    @classmethod
    def of(cls, *specs: Spec) -> SpecRegistry:
        """A registry of exactly these specs."""
        return cls({s.sha256: s for s in specs})

    def layout(self, spec: Spec) -> Layout:
        """The layout of a spec, built once."""
        if spec.sha256 not in self._layouts:
            self._layouts[spec.sha256] = build_layout(spec)
        return self._layouts[spec.sha256]

    def layout_of(self, spec: Spec, kind: str) -> Layout:
        """The layout of a workbook of this kind made from a spec: its audit's, or its moderation's (ValueError when
        the kind is not known or the spec's audits are not moderated)."""
        if kind == AUDIT:
            return self.layout(spec)
        if kind != MODERATION:
            raise ValueError(f"a workbook of kind {kind[:40]!r}")
        key = f"{MODERATION}:{spec.sha256}"
        if key not in self._layouts:
            self._layouts[key] = build_layout(moderation_spec(spec))
        return self._layouts[key]


def _carriers(raw: RawWorkbook) -> dict[str, dict[str, str]]:
    props = {k: raw.properties[p] for k, p in (*PROPERTY_NAMES.items(), *MODERATION_PROPERTY_NAMES.items())
             if p in raw.properties}
    names: dict[str, str] = {}
    for key in KEYS:
        text = raw.names.get(meta_name(key))
        if text is not None:
            t = text.strip().lstrip("=").strip()
            if len(t) >= 2 and t[0] == t[-1] == '"':
                names[key] = t[1:-1].replace('""', '"')
    sheet_values: dict[str, str] = {}
    sheet = raw.sheets.get(META_SHEET)
    if sheet is not None:
        for (row, col), cell in sheet.cells.items():
            if col == 0 and isinstance(cell.value, str) and cell.value in KEYS:
                other = sheet.cells.get((row, 1))
                if other is not None and isinstance(other.value, str):
                    sheet_values[cell.value] = other.value
    return {"document properties": props, "metadata sheet": sheet_values, "named constants": names}


def read_provenance(raw: RawWorkbook) -> tuple[dict[str, str], list[Problem]]:
    """The agreed metadata values: each needs at least two of the three carriers to agree."""
    carriers = _carriers(raw)
    agreed: dict[str, str] = {}
    problems: list[Problem] = []
    for key in KEYS:
        seen = Counter(c[key] for c in carriers.values() if key in c)
        if not seen:
            continue
        value, votes = seen.most_common(1)[0]
        if votes >= 2 or (key == "generated_at"):
            agreed[key] = value
        elif key in REQUIRED_KEYS or key in MODERATION_KEYS:
            where = ", ".join(name for name, c in carriers.items() if key in c)
            problems.append(Problem.of(Code.PROVENANCE_CONFLICT, sheet=META_SHEET, key=key.replace("_", " "),
                                       found=where))
    missing = [k for k in REQUIRED_KEYS if k not in agreed and not any(k in c for c in carriers.values())]
    if missing:
        problems.append(Problem.of(Code.NOT_AN_AUDIT_WORKBOOK))
    return agreed, problems


def find_spec(agreed: dict[str, str], registry: SpecRegistry) -> Spec | Problem:
    """The spec the workbook was made from, or the problem saying why it is not known."""
    spec = registry.by_sha.get(agreed.get("spec_sha256", ""))
    if spec is None:
        return Problem.of(Code.UNKNOWN_SPEC, sheet=META_SHEET, spec=agreed.get("spec_id", "?")[:40],
                          version=agreed.get("spec_version", "?")[:20], sha=agreed.get("spec_sha256", "?")[:12])
    if spec.id != agreed.get("spec_id") or spec.version != agreed.get("spec_version"):
        return Problem.of(Code.PROVENANCE_CONFLICT, case="hash", sheet=META_SHEET, spec=f"{spec.id} {spec.version}",
                          says=f"{agreed.get('spec_id', '')[:40]} {agreed.get('spec_version', '')[:20]}")
    return spec
