"""Moderation workbooks: one made from a valid return (generate --moderate), and a sample of a round's audits to
moderate, stratified by team and grade, every Inadequate included (allocate --moderate)."""

from __future__ import annotations

import csv
import io
import math
import random
import re
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from auditbook.allocation.lists import COLUMNS
from auditbook.allocation.prefilled import refuse_existing
from auditbook.errors import AuditbookError
from auditbook.local import LocalDetails, RoundCalendar
from auditbook.returns.audit import APPLIES, Audit, round_of
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.spec.roles import Role
from auditbook.text import name_key, norm, plural
from auditbook.workbook.moderation import AuditToModerate, build_moderation, moderation_name

#: How --moderate gives the size of a sample: a share ("10%") or a number of audits ("12").
_SHARE = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$")
_COUNT = re.compile(r"^\s*(\d{1,5})\s*$")


def to_moderate(audit: Audit, registry: SpecRegistry, round_name: str = "",
                rounds: RoundCalendar | None = None) -> AuditToModerate:
    """What the moderation workbook of an audit is made from (its round: as given, else the audit's as collect works
    it out, with the round calendar)."""
    spec = registry.by_sha.get(audit.provenance.spec_sha256)
    if spec is None:
        raise AuditbookError(f"case {audit.case_ref}: the spec its audit was made from ({audit.provenance.spec_id} "
                             f"{audit.provenance.spec_version}) is not known. Give it with --specs.")
    if spec.moderation is None:
        raise AuditbookError(f"the spec {spec.id} {spec.version} says its audits are not moderated "
                             "(moderation: null).")
    answers = {a.name: a.value for a in audit.answers if a.applies == APPLIES}
    named = round_name or round_of(audit, rounds)
    return AuditToModerate(spec, answers, audit.provenance.instance_id, audit.case_ref, named,
                           audit.text(Role.TEAM))


def moderation_from_return(path: Path, *, out: Path, registry: SpecRegistry | None = None, password: str = "",
                           overwrite: bool = False, local: LocalDetails | None = None,
                           now: datetime | None = None) -> Path:
    """The moderation workbook of a valid return; `out` is a folder (a readable name is chosen) or an .xlsx path."""
    registry = registry or SpecRegistry.load()
    report = validate_file(path, registry=registry)
    name = name_key(path.name)
    if report.audit is not None and report.audit.is_moderation:
        raise AuditbookError(f"{name} is a moderation already. Give the audit's own return.")
    if report.audit is None or not report.valid:
        first = report.errors[0].render() if report.errors else "it could not be read as an audit"
        raise AuditbookError(f"{name} is not a valid return ({plural(len(report.errors), 'error')}; first: {first}). "
                             f"Only a valid audit can be moderated: see `auditbook validate {name}`.")
    audit = to_moderate(report.audit, registry, rounds=local.rounds if local is not None else None)
    target = out / moderation_name(audit) if out.suffix.lower() != ".xlsx" else out
    if target.exists() and not overwrite:
        raise AuditbookError(f"{target} already exists and may hold a moderator's work. Give --force to replace it, "
                             "or another --out.")
    target.parent.mkdir(parents=True, exist_ok=True)
    return build_moderation(audit, out=target, password=password, local=local, now=now)


def sample_size(text: str, total: int) -> int:
    """How many of `total` audits a --moderate value asks for: "10%" (rounded up) or a number (at most all)."""
    share, count = _SHARE.match(text), _COUNT.match(text)
    if share is not None and 0 < float(share.group(1)) <= 100:
        return min(total, math.ceil(total * float(share.group(1)) / 100))
    if count is not None and int(count.group(1)) > 0:
        return min(total, int(count.group(1)))
    raise AuditbookError(f'--moderate "{text[:20]}" is not a share or a number of audits: give, say, 10% or 12.')


class Candidate(NamedTuple):
    """A merged audit the sample may take: its audit, its round, and the strata it is in."""

    audit: Audit
    round: str
    team: str
    grade: str


def sample(candidates: Sequence[Candidate], size: int, *, inadequate: Sequence[str], seed: int) -> list[Candidate]:
    """A sample of `size` audits (more when there are more Inadequate ones: every one is taken), the rest spread over
    the strata of team and overall grade in proportion to their sizes, at random within each; the same seed and
    audits give the same sample.

    `inadequate` are the grades always moderated (the spec's lowest). Strata get their share by the largest
    remainder method, then audits are drawn at random within each."""
    rng = random.Random(seed)
    ordered = sorted(candidates, key=lambda c: (norm(c.round), norm(c.audit.case_ref), c.audit.provenance.instance_id))
    low = {norm(g) for g in inadequate}
    chosen = [c for c in ordered if norm(c.grade) in low]
    rest = [c for c in ordered if norm(c.grade) not in low]
    wanted = max(0, size - len(chosen))
    strata: dict[tuple[str, str], list[Candidate]] = {}
    for c in rest:
        strata.setdefault((norm(c.team), norm(c.grade)), []).append(c)
    quotas = _quotas({k: len(v) for k, v in strata.items()}, min(wanted, len(rest)), rng)
    for key in sorted(strata):
        chosen += rng.sample(strata[key], quotas[key])
    return sorted(chosen, key=lambda c: (norm(c.round), norm(c.team), norm(c.audit.case_ref)))


def _quotas(sizes: dict[tuple[str, str], int], wanted: int, rng: random.Random) -> dict[tuple[str, str], int]:
    """Each stratum's number of audits: its share of `wanted` rounded down, the rest one each to the largest
    remainders (ties broken at random, the same for the same seed)."""
    total = sum(sizes.values())
    if total == 0:
        return {}
    exact = {k: wanted * n / total for k, n in sizes.items()}
    quotas = {k: math.floor(v) for k, v in exact.items()}
    ties = {k: rng.random() for k in sorted(sizes)}
    for k in sorted(sizes, key=lambda k: (-(exact[k] - quotas[k]), ties[k]))[: wanted - sum(quotas.values())]:
        quotas[k] += 1
    return quotas


def write_moderations(audits: Sequence[AuditToModerate], *, out: Path, local: LocalDetails | None = None,
                      now: datetime | None = None) -> list[Path]:
    """Write each audit's moderation workbook into `out`; on any failure none is left behind, and none is written
    over a file already there (a moderator may have started on it)."""
    targets = [out / moderation_name(a) for a in audits]
    refuse_existing(out, targets, "a moderator")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".auditbook-moderate-", dir=out))
    try:
        for audit, target in zip(audits, targets, strict=True):
            build_moderation(audit, out=staging / target.name, local=local, now=now)
        for target in targets:
            (staging / target.name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets


#: The moderator's name on the moderation list's rows when none is given.
TO_BE_NAMED = "Moderator to be named"


def moderation_list(chosen: Sequence[Candidate], *, moderator: str = "") -> str:
    """The sample as rows of an allocation list (Kind: Moderation; the moderator in the Auditor column), for the
    Returns tab to track: add them to the round's allocation list."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([*(label for _, label, _ in COLUMNS), "Kind"])
    for c in chosen:
        a = c.audit
        writer.writerow([a.case_ref, c.team, a.text(Role.WORKER), a.text(Role.TEAM_MANAGER), moderator or TO_BE_NAMED,
                         a.text(Role.AUDIT_MONTH), c.round, "Moderation"])
    return buf.getvalue()
