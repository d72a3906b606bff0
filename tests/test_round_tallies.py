"""A round's figures (trends.summarise) count the practice questions' answers as counting them one by one would: the
same tallies, in the same order, whatever sections apply, answers are set aside or specs are merged together."""

from __future__ import annotations

import json
from pathlib import Path

from auditbook.analysis.collate import Merged
from auditbook.analysis.trends import ANSWERED, summarise
from auditbook.returns.audit import APPLIES, NOT_APPLICABLE, NOT_YET_KNOWN, Audit
from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file
from auditbook.text import norm
from tests.returns import spec, valid_return


def _reference(merged: list[Merged], registry: SpecRegistry) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """The theme kinds and question tallies, each answer counted one by one (as summarise did before)."""
    kinds: dict[str, str] = {}
    tallies: dict[str, dict[str, int]] = {}
    for m in merged:
        a = m.audit
        sp = registry.by_sha.get(a.provenance.spec_sha256)
        if sp is None:
            continue
        kinds.update({t.label: t.kind for t in sp.themes})
        keys = {(s.id, f.id): f"{s.title}\t{f.label}" for s in sp.sections if s.kind == "judged" for f in s.fields
                if f.type == "question"}
        asked = {i.name: (i.section, key) for i in registry.layout(sp).inputs
                 if (key := keys.get((i.section, i.field))) is not None}
        short = {norm(w): w for w in sp.grading.shortfall}
        applying = {s.id for s in a.sections if s.applies}
        for x in a.answers:
            found = asked.get(x.name)
            if found is None or found[0] not in applying or x.applies != APPLIES:
                continue
            tally = tallies.setdefault(found[1], {ANSWERED: 0})
            tally[ANSWERED] += 1
            word = short.get(norm(str(x.value)))
            if word is not None:
                tally[word] = tally.get(word, 0) + 1
    return kinds, tallies


def _variants(audit: Audit, registry: SpecRegistry) -> list[Audit]:
    """The audit, and copies with question answers changed, set aside, a section not applying, another spec's sha."""
    sp = registry.layout(spec())
    questions = [i.name for i in sp.inputs if any(
        f.id == i.field and f.type == "question" for s in spec().sections if s.id == i.section for f in s.fields)]
    assert len(questions) > 10
    words = ["No", " partly ", "NO", "Yes", "Not known", 3]
    changed = [x._replace(value=words[n % len(words)]) if x.name in questions else x
               for n, x in enumerate(audit.answers)]
    aside = [x._replace(applies=(NOT_APPLICABLE, NOT_YET_KNOWN)[n % 2]) if x.name in questions[::3] else x
             for n, x in enumerate(changed)]
    judged = [s for s in audit.sections if s.applies]
    assert len(judged) > 2
    one_off = [s.model_copy(update={"applies": False}) if s.id == judged[1].id else s for s in audit.sections]
    other = audit.provenance.model_copy(update={"spec_sha256": "another"})
    unknown = audit.provenance.model_copy(update={"spec_sha256": "unknown"})
    return [audit, audit.model_copy(update={"answers": changed}), audit.model_copy(update={"answers": aside}),
            audit.model_copy(update={"sections": one_off, "answers": changed[::-1]}),
            audit.model_copy(update={"provenance": other, "answers": aside[::-1]}),
            audit.model_copy(update={"provenance": unknown}),
            audit.model_copy(update={"sections": one_off, "answers": changed})]


def test_question_tallies_are_as_counting_each_answer(tmp_path: Path) -> None:
    sp = spec()
    registry = SpecRegistry.of(sp)
    report = validate_file(valid_return(tmp_path / "r.xlsx"), registry=registry)
    assert report.audit is not None
    both = SpecRegistry({**registry.by_sha, "another": sp})
    for order in (1, -1):
        merged = [Merged(a, f"r{n}.xlsx", ()) for n, a in enumerate(_variants(report.audit, both)[::order])]
        got = summarise("2026 round 1", merged, both)
        kinds, tallies = _reference(merged, both)
        assert any(len(t) > 2 for t in tallies.values())  # shortfall words counted, not only answers
        # Compared as JSON text: the same keys in the same order, which the Themes tab and report follow.
        assert json.dumps(got.questions) == json.dumps(tallies)
        assert json.dumps(got.kinds) == json.dumps(kinds)
