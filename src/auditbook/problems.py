"""The one catalogue of problem codes, and the problems auditbook reports as data.

Every code a user can see is here once, as pyxform's ErrorCode and frictionless's error classes do it: its usual
severity, a title saying what it means, and the templates of its message (what is wrong) and its fix (how to put
it right). Call sites pass the values (the label, the value, the allowed choices ...) and the catalogue renders
the words, so a problem reads the same wherever it is found, and `auditbook describe --problems` (and
docs/problems.md, made from it) shows exactly what users see. Where one code has several causes (a date typed
month first is a bad-date too), the entry lists each as a case with its own words.

Three kinds of file are checked: returned workbooks (validate, collect), specs (`auditbook spec check`) and the
local settings. A returned workbook's Problem is placed by sheet and cell; a spec's or the settings' KeyProblem by
its key and the line and column it is written on.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Literal, NamedTuple

from auditbook.text import shown

Severity = Literal["error", "warning"]


class Code(StrEnum):
    """Every problem code auditbook reports (the value is what JSON, the ledger and the master show)."""

    # A returned file that cannot be read: refused before any cell is read.
    FILE_EMPTY = "file-empty"
    FILE_TOO_LARGE = "file-too-large"
    UNREADABLE = "unreadable"
    ENCRYPTED = "encrypted"
    LEGACY_XLS = "legacy-xls"
    NOT_A_WORKBOOK = "not-a-workbook"
    CORRUPT = "corrupt"
    ZIP_BOMB = "zip-bomb"
    UNSAFE_PATH = "unsafe-path"
    MACROS = "macros"
    ACTIVE_CONTENT = "active-content"
    INTERNAL_ERROR = "internal-error"
    # Where it came from.
    NOT_AN_AUDIT_WORKBOOK = "not-an-audit-workbook"
    PROVENANCE_CONFLICT = "provenance-conflict"
    UNKNOWN_SPEC = "unknown-spec"
    # Its structure.
    SHEET_MISSING = "sheet-missing"
    SHEET_RENAMED = "sheet-renamed"
    SHEET_UNPROTECTED = "sheet-unprotected"
    NAME_MISSING = "name-missing"
    NAME_BROKEN = "name-broken"
    NAME_MOVED = "name-moved"
    FORMULA_IN_INPUT = "formula-in-input"
    SHEET_HIDDEN = "sheet-hidden"
    SHEET_LOOK_ALIKE = "sheet-look-alike"
    # What a person sees: read, but shown otherwise.
    SHOWN_OTHERWISE = "shown-otherwise"
    LOOK_ALIKE = "look-alike"
    # One cell's value.
    CELL_ERROR = "cell-error"
    BAD_DATE = "bad-date"
    DATE_OUT_OF_RANGE = "date-out-of-range"
    BAD_MONTH = "bad-month"
    NOT_A_NUMBER = "not-a-number"
    OUT_OF_RANGE = "out-of-range"
    NOT_IN_LIST = "not-in-list"
    THEME_OF_OTHER_SECTION = "theme-of-other-section"
    TEXT_TOO_LONG = "text-too-long"
    UNSTORABLE_TEXT = "unstorable-text"
    # Completeness, applicability and time.
    REQUIRED_MISSING = "required-missing"
    ANSWERED_NOT_APPLICABLE = "answered-not-applicable"
    ANSWERED_UNDECIDED = "answered-undecided"
    ANSWER_DECIDES = "answer-decides"
    DUE_DATE_CHANGED = "due-date-changed"
    LATE = "late"
    COMPLETED_IN_FUTURE = "completed-in-future"
    # The spec's rules across fields.
    RULE = "rule"
    # The collection.
    TEMPLATE_REUSED = "template-reused"
    ROUND_NOT_IN_CALENDAR = "round-not-in-calendar"
    LEDGER_DAMAGED = "ledger-damaged"
    # Moderation: a second look at an audit, paired with it.
    MODERATION_NO_AUDIT = "moderation-no-audit"
    MODERATION_MISMATCH = "moderation-mismatch"
    # A spec file that cannot be loaded.
    SPEC_UNREADABLE = "spec-unreadable"
    SPEC_NOT_UTF8 = "spec-not-utf8"
    SPEC_NOT_YAML = "spec-not-yaml"
    SPEC_NOT_A_MAPPING = "spec-not-a-mapping"
    # The spec format: keys and values.
    SPEC_SCHEMA = "spec-schema"
    SPEC_UNKNOWN_KEY = "spec-unknown-key"
    SPEC_MISSING_KEY = "spec-missing-key"
    SPEC_NOT_A_CONDITION = "spec-not-a-condition"
    SPEC_ONE_OF = "spec-one-of"
    # Choice lists, grades and criteria.
    SPEC_RESERVED_LIST = "spec-reserved-list"
    SPEC_EMPTY_LIST = "spec-empty-list"
    SPEC_BLANK_CHOICE = "spec-blank-choice"
    SPEC_DUPLICATE_CHOICE = "spec-duplicate-choice"
    SPEC_UNKNOWN_GRADE_LIST = "spec-unknown-grade-list"
    SPEC_NOT_A_GRADE = "spec-not-a-grade"
    SPEC_SHORTFALL_NOT_AN_ANSWER = "spec-shortfall-not-an-answer"
    SPEC_BAD_CRITERIA_PATTERN = "spec-bad-criteria-pattern"
    SPEC_CRITERION_ID = "spec-criterion-id"
    SPEC_DUPLICATE_CRITERION = "spec-duplicate-criterion"
    SPEC_UNKNOWN_CRITERION = "spec-unknown-criterion"
    # Sections and fields.
    SPEC_DUPLICATE_SECTION = "spec-duplicate-section"
    SPEC_TITLE_TAKEN = "spec-title-taken"
    SPEC_SHEET_TAKEN = "spec-sheet-taken"
    SPEC_NO_REASON = "spec-no-reason"
    SPEC_TABLE_ROWS = "spec-table-rows"
    SPEC_TABLE_CONDITION = "spec-table-condition"
    SPEC_DUPLICATE_FIELD = "spec-duplicate-field"
    SPEC_NAME_CLASH = "spec-name-clash"
    SPEC_NO_CHOICES = "spec-no-choices"
    SPEC_UNKNOWN_LIST = "spec-unknown-list"
    SPEC_CHOICES_NOT_TAKEN = "spec-choices-not-taken"
    SPEC_DEFAULT_NOT_A_CHOICE = "spec-default-not-a-choice"
    SPEC_DERIVED_NOT_A_DATE = "spec-derived-not-a-date"
    SPEC_DERIVED_CONDITION = "spec-derived-condition"
    SPEC_EXAMPLE_NOT_A_NUMBER = "spec-example-not-a-number"
    # Conditions and rules.
    SPEC_UNKNOWN_FIELD = "spec-unknown-field"
    SPEC_LATER_FIELD = "spec-later-field"
    SPEC_THIS_OUTSIDE_EACH = "spec-this-outside-each"
    SPEC_THIS_FIELD_MISSING = "spec-this-field-missing"
    SPEC_NOT_A_CHOICE = "spec-not-a-choice"
    SPEC_NOT_COMPARABLE = "spec-not-comparable"
    SPEC_NOT_A_DATE_FIELD = "spec-not-a-date-field"
    SPEC_NOT_AN_INTEGER_FIELD = "spec-not-an-integer-field"
    SPEC_ONLY_IN_RULES = "spec-only-in-rules"
    SPEC_UNKNOWN_TABLE = "spec-unknown-table"
    SPEC_UNKNOWN_COLUMN = "spec-unknown-column"
    SPEC_THIS_NEEDS_SECTIONS = "spec-this-needs-sections"
    SPEC_THIS_NOT_A_SECTION_COLUMN = "spec-this-not-a-section-column"
    SPEC_DUPLICATE_RULE = "spec-duplicate-rule"
    SPEC_UNKNOWN_EACH = "spec-unknown-each"
    SPEC_NOT_A_JUDGED_SECTION = "spec-not-a-judged-section"
    SPEC_RULE_NEVER_FIRES = "spec-rule-never-fires"
    # Roles.
    SPEC_ROLE_NO_FIELD = "spec-role-no-field"
    SPEC_ROLE_TYPE = "spec-role-type"
    SPEC_ROLE_GRADE_LIST = "spec-role-grade-list"
    SPEC_ROLE_SECTION_FIELD = "spec-role-section-field"
    SPEC_THEME_TAG_LIST = "spec-theme-tag-list"
    SPEC_THEME_SECTION = "spec-theme-section"
    SPEC_SECTION_WITHOUT_THEMES = "spec-section-without-themes"
    SPEC_ACTIONS_NOT_A_TABLE = "spec-actions-not-a-table"
    SPEC_ACTIONS_NOT_NAMED = "spec-actions-not-named"
    SPEC_MODERATION = "spec-moderation"
    # The local settings (auditbook.toml).
    SETTINGS_MISSING = "settings-missing"
    SETTINGS_UNREADABLE = "settings-unreadable"
    SETTINGS_NOT_TOML = "settings-not-toml"
    SETTINGS_INVALID = "settings-invalid"
    SETTINGS_UNKNOWN_KEY = "settings-unknown-key"
    SETTINGS_NOT_A_SHARE = "settings-not-a-share"
    SETTINGS_NOT_A_MONTH = "settings-not-a-month"
    SETTINGS_MONTHS_APART = "settings-months-apart"
    SETTINGS_ROUND_NAMING = "settings-round-naming"
    SETTINGS_MONTH_TWICE = "settings-month-twice"
    SETTINGS_ROUND_TWICE = "settings-round-twice"


#: Warnings on a merged return that collect prints too, not only in --json and the master: what was read is not what
#: a person reading the return sees, or it decides which return of a case counts.
TOLD_AT_COLLECT = frozenset({Code.SHOWN_OTHERWISE, Code.LOOK_ALIKE, Code.NAME_MOVED, Code.SHEET_LOOK_ALIKE,
                             Code.COMPLETED_IN_FUTURE})

#: Names a template may not use: Problem.of takes them as its own arguments.
RESERVED_NAMES = frozenset({"case", "severity", "rule", "file"})


class Words(NamedTuple):
    """A message (what is wrong) and its fix (how to put it right), each a template with {named} values."""

    message: str
    fix: str = ""

    def render(self, values: Mapping[str, object]) -> tuple[str, str]:
        """The message and the fix with the values filled in."""
        return self.message.format_map(values), self.fix.format_map(values)

    def shown(self) -> str:
        """The message and fix as one text, each value shown by its {name} (for the catalogue's readers)."""
        message, fix = self.render({name: f"{{{name}}}" for name in self.names()})
        return f"{message} {fix}" if fix else message

    def names(self) -> set[str]:
        """The values the templates need."""
        return {name for text in (self.message, self.fix) for _, name, _, _ in string.Formatter().parse(text)
                if name}


@dataclass(frozen=True)
class Entry:
    """One code of the catalogue: its usual severity, what it means, and its words (and other causes' words)."""

    severity: Severity
    title: str
    words: Words
    #: Other causes of the same code, by name, each with its own words.
    cases: Mapping[str, Words] = field(default_factory=dict)
    #: Why a code nothing reports any more stays in the catalogue (problems stored in a ledger still carry it).
    reserved: str = ""
    #: The part of the catalogue it belongs to (set by _topic).
    topic: str = ""

    def words_for(self, case: str | None) -> Words:
        """The words of a case, or the entry's own when case is None."""
        return self.words if case is None else self.cases[case]


def _e(severity: Severity, title: str, message: str, fix: str = "", **cases: Words) -> Entry:
    # Cases are named in templates' style (us-order), so keyword arguments use underscores for dashes.
    return Entry(severity, title, Words(message, fix), {k.replace("_", "-"): w for k, w in cases.items()})


def _topic(name: str, entries: dict[Code, Entry]) -> dict[Code, Entry]:
    return {code: replace(entry, topic=name) for code, entry in entries.items()}


_RESEND = "Ask the auditor to save it again from Excel as .xlsx (Excel Workbook) and resend it."
_FRESH = "Copy the answers into a fresh workbook."
_UNKNOWN_FIELD = 'Use "section.field" with ids from this spec.'
_SPELLED = "Use one of its choices, spelled as in the list."
_EXAMPLE_SETTINGS = "`auditbook settings --example` prints a settings file to start from."

#: Every code: its usual severity, what it means, and the words of its message and fix.
CATALOGUE: dict[Code, Entry] = {
    **_topic("A returned file that cannot be read", {
        Code.FILE_EMPTY: _e("error", "The file has no bytes.", "the file is empty (0 bytes).",
                            "Ask the auditor to send it again."),
        Code.FILE_TOO_LARGE: _e(
            "error", "The file is over the size limit for a returned workbook.",
            "the file is {size}, over the {limit} limit for a returned workbook.",
            "Check it is the right file, or ask the auditor to remove pasted pictures.",
            pictures=Words("the file is {size}, over the {limit} limit for a returned workbook, because it holds "
                           "{pictures}.", "Ask the auditor to delete pasted pictures and send it again.")),
        Code.UNREADABLE: _e(
            "error", "The file could not be opened (locked, syncing, permissions).",
            "could not be opened ({reason}).", "Check it is not open or still syncing.",
            not_a_file=Words("this is {kind}, not a file: nothing was read.",
                             "Put the returned workbook itself in its place."),
            collect=Words("this {what} could not be read ({reason}).",
                          "Check the collator's account can open it, then collect again.")),
        Code.ENCRYPTED: _e("error", "The workbook is password-protected as a file.",
                           "this workbook is password-protected.", "Ask the auditor for an unprotected copy."),
        Code.LEGACY_XLS: _e("error", "An Excel 97-2003 .xls file, not .xlsx.",
                            "an old-format .xls file (Excel 97-2003).",
                            "Open it and save it as .xlsx (Excel Workbook)."),
        Code.NOT_A_WORKBOOK: _e(
            "error", "Not an Excel workbook (CSV, PDF, Word, .ods, ...).",
            "not an Excel workbook: it looks like {kind}.",
            "Ask the auditor to send the audit workbook itself, saved as .xlsx (Excel Workbook)."),
        Code.CORRUPT: _e(
            "error", "The workbook is damaged, or has XML no office program writes.",
            "the workbook is damaged and cannot be read.", _RESEND,
            part=Words("the workbook is damaged (part {part} unreadable).", _RESEND),
            part_missing=Words("the workbook part {part} is missing.", _RESEND),
            sheet_missing=Words('sheet "{name}" is listed but its part is missing.', _RESEND),
            no_parts_list=Words("the workbook's list of parts ({part}) is missing.", _RESEND),
            encoding=Words('the workbook\'s {where} declares the text encoding "{encoding}", which Excel and '
                           "LibreOffice never write (workbooks are UTF-8 or UTF-16).", _RESEND),
            xml_features=Words("the workbook's {where} has XML features Excel never writes (possibly malicious).",
                               _RESEND),
            xml=Words("the workbook's {where} is damaged.", _RESEND),
            value=Words('the {what} "{text}" in {part} is not one Excel writes.', _RESEND),
            cell=Words("cell {cell} in {part} holds a value that cannot be read.", _RESEND),
            relationships=Words("the workbook's list of relationships {part} is not one Excel writes: {what}, so "
                                "programs could read different parts.", _RESEND),
            part_twice=Words("the workbook holds the part {part} twice, and programs differ on which copy they "
                             "read.", _RESEND),
            part_alike=Words("the workbook holds two parts named {part} and {other}, which are one name whatever "
                             "their case, and programs differ on which they read.", _RESEND),
            number=Words('cell {cell} in {part} holds "{text}", which is not a number as Excel writes one '
                         "(spreadsheets would show another).", _RESEND),
            no_workbook=Words("the package's relationships (_rels/.rels) name no workbook part that is in the file.",
                              _RESEND),
            not_a_part=Words("the part {part} is used as a {kind} part but is not one.", _RESEND),
            twice=Words("{part} gives {what} twice, where Excel writes it once, and programs differ on which they "
                        "read.", _RESEND),
            sheet_twice=Words('two sheets are named "{name}" (sheet names are the same whatever their case), and '
                              "programs differ on which they read.", _RESEND),
            cell_twice=Words("cell {cell} in {part} is given {what}, and programs differ on which they show.",
                             _RESEND)),
        Code.ZIP_BOMB: _e("error", "The workbook's contents are implausibly large.",
                          "the workbook's contents are implausibly large (possibly malicious).", _RESEND,
                          part=Words("the part {part} is implausibly large (possibly malicious).", _RESEND)),
        Code.UNSAFE_PATH: _e("error", "An internal part has a name that could escape a folder.",
                             "the workbook contains an internal file with an unsafe name ({part}), which Excel never "
                             "writes.", _RESEND),
        Code.MACROS: _e("error", "The workbook carries macros.", "this workbook contains macros (.xlsm).",
                        "Save it as a plain .xlsx workbook and send that."),
        Code.ACTIVE_CONTENT: _e(
            "error", "The workbook links out or runs something when opened (external links, DDE, web or system calls "
            "in formulas, OLE or ActiveX objects, a VBA project, unknown parts).",
            "active content: the workbook contains {what}.",
            "The collator must not open it. Ask the auditor to copy the answers into a fresh workbook (no links, "
            "objects or macros) and send that."),
        Code.INTERNAL_ERROR: _e(
            "error", "auditbook could not check the file: a fault to report to its maintainers.",
            "auditbook could not check this workbook ({why}).",
            "Run the command again with --debug and send what it prints (it names no child) to whoever supports "
            "auditbook, not the workbook itself; meanwhile check it by hand.",
            ledger=Words("what was read could not be recorded in the ledger ({why}).",
                         "Run collect again with --debug and send what it prints (it names no child) to whoever "
                         "supports auditbook.")),
    }),
    **_topic("A returned workbook: where it came from", {
        Code.NOT_AN_AUDIT_WORKBOOK: _e(
            "error", "The workbook carries no auditbook template metadata.",
            "this workbook carries no auditbook template information: it was not made by `auditbook generate` or "
            "has been copied into a new file.", "Ask the auditor to use the workbook they were sent."),
        Code.PROVENANCE_CONFLICT: _e(
            "error", "The template metadata's copies disagree: the workbook was altered.",
            "the template's {key} could not be confirmed (found only in {found}, or the copies disagree).",
            "The workbook has been altered or was not made by auditbook: send the auditor a fresh workbook.",
            hash=Words("the template hash belongs to {spec} but the workbook says {says}: it has been altered.",
                       "Send the auditor a fresh workbook.")),
        Code.UNKNOWN_SPEC: _e(
            "error", "Made from a spec version auditbook does not know.",
            "made from a template auditbook does not know ({spec} version {version}, hash {sha}).",
            "Add that spec version to workbook_specs/ (or give --specs), or send the auditor a new workbook."),
    }),
    **_topic("A returned workbook: its structure", {
        Code.SHEET_MISSING: _e("error", "A section's sheet was deleted.",
                               'the sheet "{sheet}" has been deleted, so {section} cannot be read.', _FRESH),
        Code.SHEET_RENAMED: _e("warning", "A section's sheet was renamed; read through its cell names.",
                               'the sheet "{expected}" was renamed "{sheet}"; its answers were read through their cell '
                               "names.", "Rename it back if you can."),
        Code.SHEET_UNPROTECTED: _e("warning", "A sheet's protection was removed.",
                                   "the sheet's protection has been removed.",
                                   "Check nothing outside the input cells was changed, then protect it again."),
        Code.NAME_MISSING: _e("error", "An input's defined name is missing.",
                              'the cell name "{name}" for "{label}" is missing, so its answer cannot be found.',
                              _FRESH),
        Code.NAME_BROKEN: _e("error", "An input's defined name no longer points at a cell.",
                             'the cell name "{name}" for "{label}" no longer points at a cell (it was deleted).',
                             _FRESH),
        Code.NAME_MOVED: _e("warning", "An input was moved; read from where its name points.",
                            '"{label}" was expected at {expected} but rows or columns were moved; it was read from '
                            "here.", "Check it is right.",
                            hidden=Words('"{label}" was expected at {expected}, which holds {there}, but its name now '
                                         "points at this hidden cell, holding {value}; {value} was read.",
                                         "Ask the auditor which is meant: a hidden cell is neither shown nor "
                                         "printed.")),
        Code.FORMULA_IN_INPUT: _e("error", "An input holds a formula instead of an answer.",
                                  '"{label}" holds a formula, not an answer.', "Type the answer itself."),
        Code.SHEET_HIDDEN: _e(
            "error", "Answers read from a hidden or very hidden sheet, which nobody reading the workbook sees.",
            'the sheet "{sheet}" holds answers but is {how}, so nobody reading or printing the workbook sees them; '
            "nothing on it was counted.",
            "Ask the auditor to copy the answers into a fresh workbook, on its own visible sheets."),
        Code.SHEET_LOOK_ALIKE: _e(
            "warning", "Another sheet is named like one the answers are read from (a look-alike character).",
            'the sheet "{other}" is named like "{sheet}" ({what}); the answers were read from "{sheet}".',
            "Check with the auditor which sheet holds their answers, and delete the other."),
    }),
    **_topic("A returned workbook: what a person sees", {
        Code.SHOWN_OTHERWISE: _e(
            "warning", "An answer a person sees otherwise: its number format, a conditional format or a merged cell "
            "shows something else than the value read (and printed returns show that).",
            "{label}: the cell holds {value}, but its number format ({format}) shows {shown}; {value} was read.",
            "Ask the auditor which is meant: anyone reading or printing the workbook sees what it shows. Once it is "
            "right, clear the cell's formats (Home > Clear > Clear Formats).",
            unsaid=Words("{label}: the cell holds {value}, but its number format ({format}) shows it otherwise; "
                         "{value} was read.",
                         "Ask the auditor which is meant: anyone reading or printing the workbook sees what it "
                         "shows. Once it is right, clear the cell's formats (Home > Clear > Clear Formats)."),
            conditional=Words("{label}: the cell holds {value}, but a conditional format may show it {shown} "
                              "(number format {format}); {value} was read.",
                              "Ask the auditor which is meant, and remove the conditional format (Home > "
                              "Conditional Formatting > Clear Rules)."),
            icons=Words("{label}: the cell holds {value}, but a conditional format shows an icon or a bar in its "
                        "place, not the value; {value} was read.",
                        "Ask the auditor which is meant, and remove the conditional format (Home > Conditional "
                        "Formatting > Clear Rules)."),
            merged=Words("{label}: the cell is merged into {area}, which shows {shown} from {anchor}; the value here, "
                         "{value}, was read.",
                         "Ask the auditor which is meant: anyone reading or printing the workbook sees {anchor}. "
                         "Once it is right, unmerge the cells (Home > Merge & Center).")),
        Code.LOOK_ALIKE: _e(
            "warning", "A case reference or team written with characters that look like others (a non-breaking "
            "hyphen, a zero-width space, full-width digits); read as it looks, so one child is one case.",
            "{label}: {written} is written with {what}; read as {read}.",
            "Nothing to do if that is the case meant; retype it with ordinary characters next time."),
    }),
    **_topic("A returned workbook: one cell's value", {
        Code.CELL_ERROR: _e("error", "An input shows a spreadsheet error such as #VALUE!.",
                            "{label}: the cell shows the error {error}.", "Clear it and enter the value again."),
        Code.BAD_DATE: _e("error", "Not a date, or a US-order date.", "{label}: {value} is not a date.",
                          "Enter it as dd/mm/yyyy, for example 31/12/2026.",
                          us_order=Words("{label}: {value} looks like a US date (month first).",
                                         "Write it day first: {day_first}."),
                          not_real=Words("{label}: {value} is not a real date.",
                                         "Check the day and the month, and enter it as dd/mm/yyyy.")),
        Code.DATE_OUT_OF_RANGE: _e("error", "A date outside the accepted years.",
                                   "{label}: {value} is outside {first}-{last}.", "Check the year."),
        Code.BAD_MONTH: _e("error", "Not a month written YYYY-MM.", "{label}: {value} is not a month.",
                           "Enter it as YYYY-MM, for example 2026-11."),
        Code.NOT_A_NUMBER: _e("error", "Not a whole number.", "{label}: {value} is not a whole number.",
                              "Enter digits only, e.g. 7."),
        Code.OUT_OF_RANGE: _e("error", "A number outside the input's range.", "{label}: {value} is outside {min} to "
                              "{max}.", "Check the number."),
        Code.NOT_IN_LIST: _e("error", "An answer that is not one of the dropdown's choices.",
                             "{label}: {value} is not one of {choices}.", "Choose one from the dropdown."),
        Code.THEME_OF_OTHER_SECTION: _e(
            "error", "A theme tag that belongs to another section: each section's dropdown offers its own themes.",
            '{label}: "{value}" is a theme of {owners}, not of {section}.',
            "Choose one of this section's themes from the dropdown, or tag {owners} with it instead."),
        Code.TEXT_TOO_LONG: _e("error", "Text longer than the input allows.",
                               "{label}: the text is {length} characters; the most is {most}.", "Shorten it."),
        Code.UNSTORABLE_TEXT: _e(
            "error", "Text holding a character no workbook can store (a control character or a broken _xD800_ "
            "escape).",
            "{label}: the text holds a character no workbook can store ({character}), perhaps pasted from another "
            "program or typed as _xD800_.", "Retype the text without it.",
            stored=Words("holds a character no workbook can store ({character}).",
                         "Check it again with auditbook validate and have it corrected.")),
    }),
    **_topic("A returned workbook: completeness, applicability and time", {
        Code.REQUIRED_MISSING: _e(
            "error", "A required input is empty.", '"{label}" is required.', "Fill it in.",
            optional_grade=Words('"{label}" is required once any of this optional section is answered.',
                                 "Give a grade or clear the answers."),
            row=Words('"{label}" is required because this row has other entries.', "Fill it in, or clear the row."),
            responsible=Words('"{label}" is required.', "Name the person, or fill in the team manager.")),
        Code.ANSWERED_NOT_APPLICABLE: _e(
            "warning", "An input that does not apply has an answer; it is not counted.",
            '"{label}" has an answer but does not apply because {because}; it is not counted.',
            "Clear it, or check the answers that decide it."),
        Code.ANSWERED_UNDECIDED: _e(
            "warning", "An answer where whether the input applies waits for a blank answer; it is not counted until "
            "that is given.",
            '"{label}" has an answer, but whether it applies waits for {blank} on the {place}; until then it is not '
            "counted.", "Answer that first."),
        Code.DUE_DATE_CHANGED: _e(
            "warning", "A due date typed over the one the audit month decides.",
            "the due date says {typed} but audits are due by the end of the audit month, {due}; lateness is judged "
            "against {due}."),
        Code.LATE: _e("warning", "Completed after the due date.",
                      "completed {completed}, after the due date {due} ({how}): the return is late."),
        Code.COMPLETED_IN_FUTURE: _e(
            "warning", "Completed after the day the return was checked: a typing slip, or a date filled in ahead.",
            "completed {completed}, a date still to come when the return was checked ({today}).",
            "Enter the day the audit was finished.",
            collect=Words("completed {completed}, a date still to come when the folder was collected ({today}): it "
                          "supersedes no other return of the case.", "Enter the day the audit was finished.")),
    }),
    **_topic("A returned workbook: one answer that decides others", {
        Code.ANSWER_DECIDES: _e(
            "error", "One answer makes others required, or not apply, or wait: the problems that follow from it are "
            "listed under it, on its own cell. A heading, not counted as a problem itself; its severity is the worst "
            "of theirs.",
            "Because {cause}, {answers} on {section} {are} required: {cells}.",
            "Answer {them} (listed below), or, if that answer is wrong, change it.",
            not_applicable=Words("Because {cause}, {answers} on {section} {do} not apply and {are} not counted: "
                                 "{cells}.", "Clear {them} (listed below), or, if that answer is wrong, change it."),
            undecided=Words("Because {cause}, whether {answers} on {section} apply is not yet known, and until it is "
                            "{they} {are} not counted: {cells}.", "Answer it first.")),
    }),
    **_topic("A returned workbook: the spec's rules across fields", {
        Code.RULE: _e("error", "Answers that contradict each other: a rule of the spec fails (its id is given; its "
                      "severity is the rule's).", "{message}", "{fix}",
                      others=Words("{message}", "{fix} See also {others}.")),
    }),
    **_topic("Collecting a folder of returns", {
        Code.TEMPLATE_REUSED: _e("warning", "One blank workbook was used for several cases.",
                                 "this return was made from the same blank workbook as {cases}; merged as a separate "
                                 "audit.", "Generate one workbook per case next time."),
        Code.ROUND_NOT_IN_CALENDAR: _e(
            "warning", "The round a return names is not the one the round calendar gives its audit month; it is "
            "counted in the round it names.",
            'the return names the round "{named}", but the round calendar puts its audit month {month} in '
            '"{derived}"; it is counted in "{named}".',
            "Check the round (or the audit month) with the auditor, or the calendar in auditbook.toml."),
        Code.LEDGER_DAMAGED: _e(
            "error", "What the ledger stored for a file was altered or cannot be read back, and the file is not there "
            "to read again.", "ledger entry damaged ({why}).",
            'Put the file back in the folder to have it read again, or remove the entry with collect --forget '
            '"{name}".'),
    }),
    **_topic("Moderation", {
        Code.MODERATION_NO_AUDIT: _e(
            "warning", "A moderation whose audit is not among the audits collected: it is kept, unpaired, until its "
            "audit is collected.",
            "this moderation is of an audit (case {case_ref}, round {round}) that is not among the audits collected.",
            "Put the audit's return in the returns folder and collect again; or check the moderator was sent the "
            "right workbook."),
        Code.MODERATION_MISMATCH: _e(
            "error", "A moderation's case reference or round is not its audit's: it is not paired.",
            'the moderation says {what} "{theirs}", but the audit it was made from says "{ours}".',
            "The workbook was altered: make the moderation workbook again from the audit (auditbook generate "
            "--moderate) and ask the moderator to copy their answers into it."),
    }),
    **_topic("A spec file that cannot be loaded", {
        Code.SPEC_UNREADABLE: _e("error", "The spec file cannot be read.", "cannot read the spec ({reason}).",
                                 "Check the path."),
        Code.SPEC_NOT_UTF8: _e("error", "The spec is not UTF-8 text.", "the spec is not UTF-8 text.",
                               "Save it as UTF-8."),
        Code.SPEC_NOT_YAML: _e("error", "The spec is not valid YAML.",
                               "not valid YAML at line {line}, column {column}.",
                               "Fix the indentation or quoting there.",
                               nowhere=Words("not valid YAML.", "Fix the indentation or quoting.")),
        Code.SPEC_NOT_A_MAPPING: _e("error", "The spec is YAML but not a mapping of keys.",
                                    "a spec must be a YAML mapping with keys id, version, sections, ...",
                                    "Start from the bundled spec, workbook_specs/deep_dive.yaml."),
    }),
    **_topic("The spec format: keys and values", {
        Code.SPEC_SCHEMA: _e("error", "A value the spec format does not take (in pydantic's words).", "{detail}.",
                             "`auditbook spec schema` says what each key takes."),
        Code.SPEC_UNKNOWN_KEY: _e("error", "A key the spec format does not have here.",
                                  'unknown key "{key}".{suggestion}', "Allowed here: {allowed}."),
        Code.SPEC_MISSING_KEY: _e("error", "A key the spec format requires here is not given.",
                                  "this key is required but not given.",
                                  "Add it; `auditbook spec schema` says what it takes."),
        Code.SPEC_NOT_A_CONDITION: _e(
            "error", "A condition of no kind the spec language has.", "not a condition.{suggestion}",
            "Write {{field: F, equals: X}}, {{field: F, in: [...]}}, {{filled: F}}, {{blank: F}}, "
            "{{date: F, on_or_after: G}}, {{number: F, at_least: N}}, {{share: {{answers: S, in: [...]}}, more_than: "
            "P}}, {{any_section: ...}}, {{every_section: ...}}, {{all: [...]}}, {{any: [...]}} or {{not: ...}}."),
        Code.SPEC_ONE_OF: _e("error", "A date or comparison with none, or more than one, of the keys it takes one of.",
                             "{what} takes exactly one of {keys} (it has {given}).", "Keep exactly one of them."),
    }),
    **_topic("The spec's choice lists, grades and criteria", {
        Code.SPEC_RESERVED_LIST: _e("error", "A choice list named as one the generator makes.",
                                    '"{name}" is made by the generator.', "Rename your list."),
        Code.SPEC_EMPTY_LIST: _e("error", "A choice list with no choices.", "the list is empty.",
                                 "Add at least one choice or remove the list."),
        Code.SPEC_BLANK_CHOICE: _e("error", "A blank choice in a list.", "a choice is blank.", "Remove it."),
        Code.SPEC_DUPLICATE_CHOICE: _e("error", "The same choice twice in a list (ignoring case and spaces).",
                                       'duplicate choice "{choice}".',
                                       "Each choice must differ (ignoring case and spaces)."),
        Code.SPEC_UNKNOWN_GRADE_LIST: _e("error", "grade_list names no choice list.", 'no choice list "{name}".',
                                         "Name one of {lists}."),
        Code.SPEC_NOT_A_GRADE: _e("error", "A grade descriptor or grading band naming a grade not in the grade list.",
                                  '"{grade}" is not in the grade list {grade_list}.',
                                  "Use one of its grades, spelled as in the list."),
        Code.SPEC_SHORTFALL_NOT_AN_ANSWER: _e(
            "error", "A shortfall answer that no practice question can give.",
            '"{answer}" is not an answer a practice question can give ({choices}).',
            "Under grading, list as shortfall the answers that say the practice fell short (the Deep Dive's are No "
            "and Partly)."),
        Code.SPEC_BAD_CRITERIA_PATTERN: _e("error", "criteria_pattern is not a regular expression.",
                                           "not a valid regular expression ({error}).",
                                           "Write it as, e.g., ^ESN \\d{{2}}$."),
        Code.SPEC_CRITERION_ID: _e("error", "A criterion id that does not match criteria_pattern.",
                                   'id "{id}" does not match criteria_pattern {pattern}.',
                                   "Fix the id or the pattern."),
        Code.SPEC_DUPLICATE_CRITERION: _e("error", "Two criteria with one id.", 'duplicate id "{id}".',
                                          "Give each criterion its own id."),
        Code.SPEC_UNKNOWN_CRITERION: _e("error", "A section or field naming a criterion the spec does not list.",
                                        'unknown criterion "{id}".{suggestion}',
                                        "Add it under criteria: or fix the id."),
    }),
    **_topic("The spec's sections and fields", {
        Code.SPEC_DUPLICATE_SECTION: _e("error", "Two sections with one id.", 'duplicate section id "{id}".',
                                        "Give each section its own id."),
        Code.SPEC_TITLE_TAKEN: _e("error", "A section title that is another's, or a column of the master's Audits "
                                  "table.", '"{title}" is already {taken} (titles are compared ignoring case).',
                                  "Give the section a title of its own."),
        Code.SPEC_SHEET_TAKEN: _e("error", "A section's sheet name already used.",
                                  '"{sheet}" is already used by {taken}.', "Give the section a sheet of its own."),
        Code.SPEC_NO_REASON: _e("error", "applies_when without not_applicable_because.",
                                "applies_when needs not_applicable_because, the words shown when it does not apply.",
                                section=Words(
                                    "applies_when needs not_applicable_because, the words the banner shows.")),
        Code.SPEC_TABLE_ROWS: _e("error", "A table section without a number of rows.",
                                 "a table section needs rows: N (how many rows to offer)."),
        Code.SPEC_TABLE_CONDITION: _e("error", "A table section, or a column of one, with a condition.",
                                      "table sections cannot have conditions.",
                                      "Remove applies_when from the table and its columns."),
        Code.SPEC_DUPLICATE_FIELD: _e(
            "error", "Two fields with one id in a section.", 'duplicate field id "{id}" in section {section}.',
            "Give each field its own id.",
            judged=Words('duplicate field id "{id}" in section {section} (the judgement block adds working_well, '
                         "to_improve, grade and theme_N to every judged section).", "Give each field its own id.")),
        Code.SPEC_NAME_CLASH: _e("error", "Two fields whose cell names would be the same.",
                                 'its name "{name}" clashes with {other}.', "Rename one of them."),
        Code.SPEC_NO_CHOICES: _e("error", "A choice field without its list.", "a choice field needs choices: LIST_ID."),
        Code.SPEC_UNKNOWN_LIST: _e("error", "A field naming a choice list the spec does not have.",
                                   'unknown list "{name}".{suggestion}', "Use one of {lists}."),
        Code.SPEC_CHOICES_NOT_TAKEN: _e("error", "choices on a field that is not a choice or question.",
                                        "only choice and question fields take choices.",
                                        "Remove choices, or make the field a choice."),
        Code.SPEC_DEFAULT_NOT_A_CHOICE: _e("error", "A default that is not one of the field's choices.",
                                           '"{value}" is not in list {name}.', _SPELLED),
        Code.SPEC_DERIVED_NOT_A_DATE: _e("error", "derived on a field that is not a date of a form or judged section.",
                                         "only a date field of a form or judged section can be derived.",
                                         "Remove derived, or make the field a date."),
        Code.SPEC_DERIVED_CONDITION: _e("error", "A derived field with applies_when.",
                                        "a derived field always applies.", "Remove its applies_when."),
        Code.SPEC_EXAMPLE_NOT_A_NUMBER: _e("error", "An example's answer to an integer field is not a whole number.",
                                           "{ref} takes a whole number.", "Give a whole number."),
    }),
    **_topic("The spec's conditions and rules", {
        Code.SPEC_UNKNOWN_FIELD: _e("error", "A condition, rule, role or example naming a field the spec does not "
                                    "have.", 'unknown field "{ref}".{suggestion}', _UNKNOWN_FIELD),
        Code.SPEC_LATER_FIELD: _e(
            "error", "A condition on a field that comes at or after the input it decides.",
            'condition on "{ref}", which comes at or after this input.',
            "A condition may only look at earlier fields: move the field up or the condition down."),
        Code.SPEC_THIS_OUTSIDE_EACH: _e("error", "this.FIELD outside a rule run on each section or row.",
                                        '"{ref}" is only for a rule with each: or inside any_section / every_section.'),
        Code.SPEC_THIS_FIELD_MISSING: _e("error", "this.FIELD naming a field not every section or row has.",
                                         '"{ref}": no field "{field_id}" in every one of them.{suggestion}',
                                         "Use a field every one of them has."),
        Code.SPEC_NOT_A_CHOICE: _e("error", "A condition or example value that is not one of the field's choices.",
                                   '"{value}" is not a choice of {ref}.{suggestion}', _SPELLED),
        Code.SPEC_NOT_COMPARABLE: _e("error", "equals / in on a field that has no choices.",
                                     '"{ref}" is not a choice or question field, so it cannot be compared with equals '
                                     "/ in.", "Use filled / blank, or compare a choice field."),
        Code.SPEC_NOT_A_DATE_FIELD: _e(
            "error", "A date comparison on a field that is not a date.",
            '"{ref}" is a {type} field; a date comparison needs a date field (use start_of / end_of for a month).',
            month=Words('"{ref}" is a {type} field; a date comparison needs a date or month field.')),
        Code.SPEC_NOT_AN_INTEGER_FIELD: _e("error", "A number comparison on a field that is not an integer.",
                                           '"{ref}" is a {type} field; a number comparison needs an integer field.'),
        Code.SPEC_ONLY_IN_RULES: _e(
            "error", "Counting rows, or any_section / every_section, in applies_when.",
            "counting rows is for rules, not for when an input applies.", "Move it into a rule.",
            quantifier=Words("any_section / every_section are for rules, not for when an input applies.",
                             "Move it into a rule."),
            share=Words("a share is for rules, not for when an input applies.", "Move it into a rule.")),
        Code.SPEC_UNKNOWN_TABLE: _e("error", "Counting the rows of a table section the spec does not have.",
                                    'rows of "{table}": no table section with that id.{suggestion}',
                                    "Name a table section's id."),
        Code.SPEC_UNKNOWN_COLUMN: _e("error", "A table column the table does not have.",
                                     'the table {table} has no column "{column}".{suggestion}',
                                     "Use one of its column ids."),
        Code.SPEC_THIS_NEEDS_SECTIONS: _e("error", "where COLUMN: this outside a rule run on each section.",
                                          "where {column}: this needs a rule with each: sections (or any_section)."),
        Code.SPEC_THIS_NOT_A_SECTION_COLUMN: _e(
            "error", "where COLUMN: this on a column that is not a choice from the section list.",
            'where {column}: this compares with section titles, but "{column}" is not a choice from the "section" '
            "list.", "Give the column choices: section."),
        Code.SPEC_DUPLICATE_RULE: _e("error", "Two rules with one id.", 'duplicate rule id "{id}".',
                                     "Give each rule its own id."),
        Code.SPEC_UNKNOWN_EACH: _e("error", "each: naming neither sections, questions nor a table section.",
                                   '"{each}" is not "sections", "questions" or a table section.{suggestion}'),
        Code.SPEC_NOT_A_JUDGED_SECTION: _e("error", "A share of answers naming no judged section.",
                                           'no judged section "{section}".{suggestion}',
                                           "Name a judged section's id, or this in a rule run on each section or "
                                           "question."),
        Code.SPEC_RULE_NEVER_FIRES: _e("error", "A rule no answers can make fire.",
                                       "this rule can never fire: no answers make `when` hold and `require` fail.",
                                       "Check its conditions."),
    }),
    **_topic("The spec's roles", {
        Code.SPEC_ROLE_NO_FIELD: _e("error", "A role naming a field no form or judged section has.",
                                    'no form field "{ref}".{suggestion}',
                                    'Name a field of a form or judged section as "section.field".'),
        Code.SPEC_ROLE_TYPE: _e("error", "A role naming a field of the wrong type.",
                                "the {role} must be a {types} field, not {type}.",
                                "Point the role at another field or change the field's type."),
        Code.SPEC_ROLE_GRADE_LIST: _e("error", "A grade role on a field that does not use the grade list.",
                                      "the {role} must use the grade list ({grade_list}), not {name}.",
                                      "Give the field choices: {grade_list}."),
        Code.SPEC_ROLE_SECTION_FIELD: _e("error", "A role for every judged section naming a field one of them lacks.",
                                         'section {section} has no field "{field_id}".',
                                         "Add it to the judgement block (judgement_fields) or to the section."),
        Code.SPEC_THEME_TAG_LIST: _e("error", "A theme tag field that is not a choice from the theme list.",
                                     'a theme tag must be a choice from the "theme" list.',
                                     "Give the field choices: theme."),
        Code.SPEC_THEME_SECTION: _e("error", "A theme belonging to a section that is not a judged section.",
                                    'no judged section "{section}".{suggestion}',
                                    "List the ids of the judged sections the theme belongs to (leave sections out for "
                                    "a theme of every section)."),
        Code.SPEC_SECTION_WITHOUT_THEMES: _e("error", "A judged section with theme tags but no theme of its own.",
                                             "section {section} has theme tags, but no theme belongs to it.",
                                             "Add its id to the sections of a theme or two."),
        Code.SPEC_ACTIONS_NOT_A_TABLE: _e("error", "roles.actions naming something other than a table section.",
                                          '"{name}" is not a table section.', "Name the actions table's id."),
        Code.SPEC_ACTIONS_NOT_NAMED: _e("error", "Action columns named without roles.actions.",
                                        "action columns are named but roles.actions (the table section) is not.",
                                        "Add roles.actions: the actions table's id."),
        Code.SPEC_MODERATION: _e("error", "The moderation the spec declares cannot be made from it.",
                                 "a moderation of this spec's audits would not work: {problem}",
                                 "Change the moderation: block (its sheet, labels or answers), or give "
                                 "moderation: null if these audits are not moderated."),
    }),
    **_topic("The local settings (auditbook.toml)", {
        Code.SETTINGS_MISSING: _e("error", "The settings file given is not there.", "no such settings file.",
                                  "Give the path of an auditbook.toml, or leave --settings out to use the one in this "
                                  "folder."),
        Code.SETTINGS_UNREADABLE: _e("error", "The settings file cannot be read as text.",
                                     "cannot read the settings file ({reason}).", "Save it as UTF-8 text."),
        Code.SETTINGS_NOT_TOML: _e("error", "The settings file is not valid TOML.", "not valid TOML: {error}.",
                                   _EXAMPLE_SETTINGS),
        Code.SETTINGS_INVALID: _e("error", "A value a setting does not take (in pydantic's words).", "{detail}.",
                                  _EXAMPLE_SETTINGS),
        Code.SETTINGS_UNKNOWN_KEY: _e("error", "A key the settings do not have here.",
                                      'unknown setting "{name}".{suggestion}', "The keys here are {keys}."),
        Code.SETTINGS_NOT_A_SHARE: _e("error", "A recurring-theme threshold that is not a share of audits.",
                                      '"{value}" is not a percentage.', "Write 30, 30% or 0.3.",
                                      out_of_range=Words('"{value}" is not a share of audits.',
                                                         "Give a percentage from 1 to 100, for example 30%.")),
        Code.SETTINGS_NOT_A_MONTH: _e("error", "A round's month that is not a month.", '"{value}" is not a month.',
                                      "Write its name (February) or its number (2)."),
        Code.SETTINGS_MONTHS_APART: _e("error", "A round whose months do not follow each other.",
                                       "the months of {name} must follow each other ({first} is followed by {then}).",
                                       "List them in order; a year end may fall inside a round."),
        Code.SETTINGS_ROUND_NAMING: _e(
            "error", "A round naming pattern without {round}.",
            '"{naming}" must name the round with {{round}}, and may add the year it starts in with {{year}}.',
            'For example "{{year}} {{round}}".'),
        Code.SETTINGS_MONTH_TWICE: _e("error", "A month in two rounds.", "{month} is in both {first} and {second}.",
                                      "Each month belongs to one round."),
        Code.SETTINGS_ROUND_TWICE: _e("error", "Two rounds with one name.", "two rounds have the same name.",
                                      "Give each its own."),
    }),
}


def words(code: Code, case: str | None = None, **values: object) -> str:
    """A code's message and fix (of one of its cases) with these values, as one text."""
    message, fix = CATALOGUE[code].words_for(case).render(values)
    return f"{message} {fix}" if fix else message


class ValueProblem(ValueError):
    """A value a pydantic validator refuses, as a catalogue code with the values its words need.

    pydantic keeps the exception in the error's context, so the settings and the spec loader report it with its
    code; its text is the catalogue's words, for anyone who shows it as a plain ValueError.
    """

    def __init__(self, code: Code, case: str | None = None, **values: object) -> None:
        super().__init__(words(code, case, **values))
        self.code, self.case, self.values = code, case, values


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a returned workbook: where, what, and how to fix it."""

    severity: Severity
    code: Code
    message: str
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    #: The id of the spec's rule that reported it (code "rule"), else None.
    rule: str | None = None
    #: For a problem that follows from one answer: where that answer is (its heading's sheet!cell), else None.
    under: str | None = None

    def __post_init__(self) -> None:
        # Sheet names and messages can quote what a return holds: never let it act on a screen or break a file.
        for name in ("message", "sheet", "cell", "field", "under"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, shown(value))

    @classmethod
    def of(cls, code: Code, /, case: str | None = None, *, sheet: str | None = None, cell: str | None = None,
           field: str | None = None, rule: str | None = None, severity: Severity | None = None,
           file: str | None = None, **values: object) -> Problem:
        """The problem a code reports, its words made by the catalogue from these values.

        The sheet, cell and field are values its words may name too; `file` goes in front of the words (for a
        problem with the whole file); `severity` is the catalogue's unless given (a rule has its own).
        """
        text = words(code, case, sheet=sheet, cell=cell, field=field, **values)
        return cls(severity or CATALOGUE[code].severity, code, f"{file}: {text}" if file else text, sheet, cell,
                   field, rule)

    @property
    def heading(self) -> bool:
        """Whether it is a heading over the problems one answer causes, not a problem counted itself."""
        return self.code == Code.ANSWER_DECIDES

    @property
    def where(self) -> str:
        """Sheet!Cell, the sheet alone, or the empty string."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def render(self) -> str:
        """The problem as one line a person reads."""
        return f"{self.where}: {self.message}" if self.where else self.message

    def said(self) -> str:
        """The problem as a person reads it, plain words first and the code last in brackets: "Case profile!C14:
        "Child's age at audit" is required. Fill it in. (required-missing)"."""
        return f"{self.render()} ({f'rule {self.rule}' if self.rule else self.code})"

    @classmethod
    def from_dict(cls, d: dict[str, str | None]) -> Problem:
        """A problem from its JSON form."""
        severity: Severity = "warning" if d["severity"] == "warning" else "error"
        return cls(severity, Code(str(d["code"])), str(d["message"]), d["sheet"], d["cell"], d["field"], d.get("rule"),
                   d.get("under"))

    def as_dict(self) -> dict[str, str | None]:
        """The JSON form."""
        out = {"severity": self.severity, "code": str(self.code), "sheet": self.sheet, "cell": self.cell,
               "field": self.field, "message": self.message}
        if self.rule is not None:
            out["rule"] = self.rule
        if self.under is not None:
            out["under"] = self.under
        return out


KeyPath = tuple[str | int, ...]


class Key(NamedTuple):
    """Where in a spec (YAML) or the settings (TOML) a problem is: the path of keys and indexes, and its words.

    Key("sections").item(1, "cp").key("applies_when") reads "sections[1] (cp).applies_when".
    """

    path: KeyPath = ()
    text: str = ""

    @classmethod
    def of(cls, *path: str | int) -> Key:
        """The key at this path of keys and indexes: ("rounds", "calendar", 2) reads "rounds.calendar[2]"."""
        out = cls()
        for step in path:
            out = out.item(step) if isinstance(step, int) else out.key(step)
        return out

    def key(self, name: str, note: str | None = None) -> Key:
        """A key inside this one, with a note in brackets (the field a role names)."""
        text = f"{self.text}.{name}" if self.text else name
        return Key((*self.path, name), f"{text} ({note})" if note else text)

    def item(self, index: int, note: str | None = None) -> Key:
        """An item of this list, with a note in brackets (its id)."""
        text = f"{self.text}[{index}]"
        return Key((*self.path, index), f"{text} ({note})" if note else text)


@dataclass(frozen=True)
class KeyProblem:
    """One thing wrong in a spec or the settings: the key and the line and column it is on, what, and how to fix."""

    code: Code
    key: Key
    what: str
    fix: str = ""
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"

    @classmethod
    def of(cls, code: Code, key: Key, /, case: str | None = None, **values: object) -> KeyProblem:
        """The problem a code reports at a key, its words made by the catalogue from these values."""
        entry = CATALOGUE[code]
        what, fix = entry.words_for(case).render(values)
        return cls(code, key, what, fix, severity=entry.severity)

    @property
    def message(self) -> str:
        """What is wrong and how to fix it."""
        return f"{self.what} {self.fix}" if self.fix else self.what

    def placed(self, line: int | None, column: int | None = None) -> KeyProblem:
        """The same problem, on this line and column of its file."""
        return replace(self, line=line, column=column)

    def render(self) -> str:
        """The problem as one line: "line 4, column 3: sections[1] (cp).applies_when: unknown field ..."."""
        at = f"line {self.line}, column {self.column}" if self.column else f"line {self.line}" if self.line else ""
        head = f"{at}: {self.key.text}" if at and self.key.text else at or self.key.text
        return f"{head}: {self.message}" if head else self.message


def described() -> Iterator[dict[str, object]]:
    """The catalogue as data, in its order: each code with its topic, severity, title and words (`--json`)."""
    for code, entry in CATALOGUE.items():
        item: dict[str, object] = {"code": str(code), "topic": entry.topic, "severity": entry.severity,
                                   "title": entry.title, "message": entry.words.message, "fix": entry.words.fix}
        item["cases"] = [{"case": name, "message": w.message, "fix": w.fix} for name, w in entry.cases.items()]
        if entry.reserved:
            item["reserved"] = entry.reserved
        yield item


def _code_span(w: Words) -> str:
    # Words may hold a backtick (`auditbook generate`): a double-backtick span keeps it as it is.
    text = w.shown()
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _plain(text: str) -> str:
    """Text as Markdown shows it literally (a title's _xD800_ is not emphasis)."""
    return "".join(f"\\{ch}" if ch in "\\`*_<>[]" else ch for ch in text)


def catalogue_markdown() -> str:
    """docs/problems.md: every code, topic by topic, with what it means and the words users see."""
    out = ["# Problems auditbook reports", "",
           "Every problem auditbook reports has a code, listed here with its usual severity, what it means and the "
           "words users see (what is wrong, then how to fix it). `{label}`, `{value}` and the like stand for what "
           "is filled in: the input's label, the value found, and so on. Where a code has several causes, each is "
           "listed. A rule of the spec (code `rule`) has the severity, message and fix the spec gives it.", "",
           "Problems with a returned workbook name the sheet and cell (`1b Assessment!D14: ...`) or the file; "
           "problems with a spec or the settings name the line, column and key (`line 12, column 5: "
           "sections[1] (cp).applies_when: ...`).", "",
           "This page is made from the catalogue (`src/auditbook/problems.py`) by "
           "`auditbook describe --problems --markdown > docs/problems.md`; a test fails when it is not current.",
           ""]
    topic = ""
    for code, entry in CATALOGUE.items():
        if entry.topic != topic:
            topic = entry.topic
            out += [f"## {topic}", ""]
        out += [f"### {code}", "", f"**{entry.severity}**: {_plain(entry.title)}", ""]
        if entry.cases:
            out += [f"- {f'*{name}*: ' if name else ''}{_code_span(w)}"
                    for name, w in [("", entry.words), *entry.cases.items()]]
        else:
            out.append(_code_span(entry.words))
        if entry.reserved:
            out += ["", f"Reserved: {_plain(entry.reserved)}"]
        out.append("")
    return "\n".join(out)
