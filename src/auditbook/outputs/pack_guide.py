"""The first tab of a team manager's pack: what the pack is, what to type where, where to save it and what
happens next. Written in plain words for someone who has never seen auditbook."""

from __future__ import annotations

from auditbook.analysis.actions import ACTION_STATUSES
from auditbook.outputs.sheets import Sheets
from auditbook.workbook.fit import height_for

GUIDE_TAB = "How to use this pack"
#: The Status column's prompt, in the master and in packs: shown when the cell is selected.
STATUS_PROMPT = ("Pick from the list: " + ", ".join(ACTION_STATUSES) + ". Give the date closed when it is Done or "
                 "Not needed; add Notes to say what was done.")


def guide_lines(manager: str, cases: int, actions: int, max_notes: int, urgent: int = 0) -> list[tuple[str, str]]:
    """(heading, text) lines of the guide (a line on urgent concerns when the pack has any)."""
    concerns = [("Urgent concerns", f"{urgent} urgent child protection concern(s) raised during these audits, each "
                                    "listed whatever became of its audit (even one sent back to be corrected). "
                                    "Check each was acted on; type Closed under Status and a note to say how.")]
    return [*(concerns if urgent else []),
        ("What this is", f"The case file audits of {cases} case(s) for {manager}, and the {actions} action(s) the "
                         "auditors agreed. It holds information about children: keep it as OFFICIAL-SENSITIVE and "
                         "do not forward it."),
        ("Findings", "Per case and section: the grade, theme tags, what is working well and what needs to improve. "
                     "Read only: nothing typed here is kept."),
        ("Actions: what to type", "For each action, in the Actions tab: Status (pick from the list: "
                                  + ", ".join(ACTION_STATUSES) + "), Notes (what was done or is planned, up to "
                                  f"{max_notes:,} characters) and Date closed (dd/mm/yyyy) once it is done. Change "
                                  "only those three columns: the others come from the audits."),
        ("Where to save it", "Save it where it is, under the same name, as an Excel workbook (.xlsx): File > Save. "
                             "Do not rename it, move it or add rows: a row only counts under its own Action ID."),
        ("What happens next", "The next time the Quality Assurance team collects the audits, what you typed is "
                              "read into the action register and shown in the master and in your next pack. If "
                              "they typed something different for the same action, both are shown as a "
                              "conflicting edit until they settle it with you."),
    ]


def write_guide(s: Sheets, manager: str, cases: int, actions: int, max_notes: int, *, urgent: int = 0) -> None:
    """The guide tab, first in the pack."""
    ws = s.sheet(GUIDE_TAB, [28, 100])
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 100)
    ws.write_string(0, 0, f"Audits for {manager}", s.title)
    ws.write_string(1, 0, s.classification, s.red)
    for r, (head, text) in enumerate(guide_lines(manager, cases, actions, max_notes, urgent), start=3):
        ws.write_string(r, 0, head, s.bold)
        ws.write_string(r, 1, text, s.wrap)
        ws.set_row(r, height_for([(text, 100)]))
    ws.activate()
