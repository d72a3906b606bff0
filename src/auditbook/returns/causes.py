"""Pure: problems that follow from one answer, grouped under it, so a report starts from the cause.

One answer can make many others required, or not apply, or wait: a wrong "Yes" to whether section 10 applies
makes nine answers on it required. Those problems are put under a heading on the deciding answer's own cell
(code answer-decides), which names the answer and what it decides, and any problem on that answer's own cell (a
rule saying it contradicts the age, say) follows them. The heading is not counted as a problem: its severity is
the worst of those under it. A lone problem stays as it is: its own words say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from auditbook.dates import uk
from auditbook.problems import Code, Problem, Severity
from auditbook.returns.coerce import Coerced, as_condition_text
from auditbook.returns.values import ReadValues
from auditbook.spec.conditions import Condition, fields_in
from auditbook.spec.evaluate import Evaluator
from auditbook.spec.layout import Input, Layout
from auditbook.text import plural

#: The problems an answer can cause: it makes an answer required, not apply, or wait.
CAUSED = frozenset({Code.REQUIRED_MISSING, Code.ANSWERED_NOT_APPLICABLE, Code.ANSWERED_UNDECIDED})
#: How much of a long label a heading quotes: the start names the question.
LABEL_WORDS = 60


@dataclass(frozen=True)
class Cause:
    """What one group of problems follows from: the kind of problem, the deciding answers, the section they are on."""

    code: Code
    refs: tuple[str, ...]
    section: str


def group_by_cause(layout: Layout, read: ReadValues, problems: Sequence[Problem], *,
                   ev: Evaluator | None = None) -> list[Problem]:
    """The problems in the same order, except that those one answer causes are put together under a heading on its
    cell, at the place of the first of them, with the problems on the deciding answer's own cell after them (`ev`:
    validate's Evaluator of every answer read, made here when not given)."""
    candidates = [i for i, p in enumerate(problems) if p.code in CAUSED and p.field in layout.by_ref]
    if not candidates:
        return list(problems)
    if ev is None:
        ev = Evaluator(layout, {k: as_condition_text(v) for k, v in read.values.items()})
    groups: dict[Cause, list[int]] = {}
    for i in candidates:
        cause = cause_of(layout, ev, problems[i])
        if cause is not None:
            groups.setdefault(cause, []).append(i)
    groups = {c: members for c, members in groups.items() if len(members) > 1}
    return _ordered(layout, read, problems, groups)


def cause_of(layout: Layout, ev: Evaluator, problem: Problem) -> Cause | None:
    """The answers a required, not applicable or undecided answer follows from: the input's own condition's when it
    has one (and, for not applicable, its section applies), else its section's; None when nothing decides it."""
    inp = layout.by_ref[problem.field or ""]
    sl = layout.section(inp.section)
    section_conds: list[Condition | None] = [sl.section.applies_when, sl.section.required_when]
    if problem.code == Code.ANSWERED_UNDECIDED:
        section_waits = sl.waiting_flag is not None and bool(ev.value(sl.waiting_flag))
        refs = _refs([sl.section.applies_when] if section_waits else [inp.condition], layout, ev, filled=False)
    elif problem.code == Code.ANSWERED_NOT_APPLICABLE and not ev.flag(sl.applies_flag):
        refs = _refs([sl.section.applies_when], layout, ev, filled=True)
    else:
        refs = _refs([inp.condition] if inp.condition is not None else section_conds, layout, ev, filled=True)
    return Cause(problem.code, refs, inp.section) if refs else None


def _refs(conds: list[Condition | None], layout: Layout, ev: Evaluator, *, filled: bool) -> tuple[str, ...]:
    """The fields the conditions look at that are answered (or, not `filled`, blank), in order."""
    refs = dict.fromkeys(r for c in conds for r in fields_in(c) if r in layout.by_ref)
    return tuple(r for r in refs if bool(ev.by_ref.get(r)) == filled)


def _ordered(layout: Layout, read: ReadValues, problems: Sequence[Problem],
             groups: dict[Cause, list[int]]) -> list[Problem]:
    """Each group, heading first, at the place of its first problem; the rest in their places."""
    first = {members[0]: cause for cause, members in groups.items()}
    grouped = {i for members in groups.values() for i in members}
    out: list[Problem] = []
    done: set[int] = set()
    for i, problem in enumerate(problems):
        if i in done or (i in grouped and i not in first):
            continue
        if i not in first:
            out.append(problem)
            continue
        cause = first[i]
        members = [problems[m] for m in groups[cause]]
        heading = _heading(layout, read, cause, members)
        out += [heading, *(replace(m, under=heading.where) for m in members)]
        # What is said about the deciding answer itself follows what it decides.
        same = [j for j, p in enumerate(problems) if j > i and j not in grouped and j not in done
                and (p.sheet, p.cell) == (heading.sheet, heading.cell)]
        out += [problems[j] for j in same]
        done.update(same)
    return out


def _heading(layout: Layout, read: ReadValues, cause: Cause, members: list[Problem]) -> Problem:
    """The heading over a group: on the deciding answer's cell, naming it and what it decides."""
    gate = layout.by_ref[cause.refs[0]]
    sheet, cell = read.place(gate)
    n = len(members)
    kind = cause.code
    severity: Severity = "error" if any(p.severity == "error" for p in members) else "warning"
    return Problem.of(Code.ANSWER_DECIDES, case="not-applicable" if kind == Code.ANSWERED_NOT_APPLICABLE else
                      "undecided" if kind == Code.ANSWERED_UNDECIDED else None, sheet=sheet, cell=cell, field=gate.ref,
                      severity=severity, cause=_because(layout, read, cause), answers=plural(n, "answer"),
                      section=layout.section(cause.section).section.title,
                      cells=", ".join(p.cell or "" for p in members), are="is" if n == 1 else "are",
                      do="does" if n == 1 else "do", them="it" if n == 1 else "them", they="it" if n == 1 else "they")


def _because(layout: Layout, read: ReadValues, cause: Cause) -> str:
    """The deciding answers in words: '"Aged 16 or over and in …" is Yes', or, blank, '"X" is not answered'."""
    inputs = [layout.by_ref[r] for r in cause.refs]
    if cause.code == Code.ANSWERED_UNDECIDED:
        names = " and ".join(_quoted(i) for i in inputs)
        return f"{names} {'is' if len(inputs) == 1 else 'are'} not answered"
    return " and ".join(f"{_quoted(i)} is {_shown(read.values.get(i.name))}" for i in inputs)


def _quoted(inp: Input) -> str:
    """A label as a heading quotes it: whole when short, else its first words and an ellipsis."""
    label = inp.label
    if len(label) > LABEL_WORDS:
        label = label[:LABEL_WORDS].rsplit(" ", 1)[0].rstrip(",;:(") + " …"
    return f'"{label}"'


def _shown(value: Coerced) -> str:
    """An answer as a heading says it (a date the UK way)."""
    return uk(value) if isinstance(value, date) else str(value)
