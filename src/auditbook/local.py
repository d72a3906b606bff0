"""Pure: what differs between local authorities and not between audits, as plain values the library takes.

The settings file (auditbook.toml, read by settings.py for the command line) is turned into these; the
workbook writer, allocate and collect take them and know nothing of files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from auditbook.dates import MONTH_NAMES, parse_month
from auditbook.errors import AuditbookError
from auditbook.text import norm


class Round(NamedTuple):
    """One audit round: its name and the months (1-12) it covers, in order (it may run over a year end)."""

    name: str
    months: tuple[int, ...]


@dataclass(frozen=True)
class RoundCalendar:
    """Which months each audit round falls in, so an audit's round follows from its audit month."""

    rounds: tuple[Round, ...] = ()
    #: How a round is named: {year} is the year the round starts in, {round} the round's own name.
    naming: str = "{year} {round}"
    _by_month: dict[int, Round] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_month.update({m: r for r in self.rounds for m in r.months})

    def round_of(self, month: str) -> str | None:
        """The round an audit month ("YYYY-MM") falls in, named as the calendar says, or None."""
        year, mon = parse_month(month)
        found = self._by_month.get(mon)
        if found is None:
            return None
        # A round running over the year end (December to March) belongs to the year it starts in.
        start_year = year if mon >= found.months[0] else year - 1
        return self.naming.format(year=start_year, round=found.name)

    def contradicts(self, named: str, month: str) -> str | None:
        """The round the calendar gives an audit month, when a round named for it is another one (else None)."""
        if not self.rounds or not named.strip() or not month:
            return None
        try:
            derived = self.round_of(month)
        except AuditbookError:
            return None
        return derived if derived is not None and norm(derived) != norm(named) else None

    def describe(self) -> list[str]:
        """One line per round: its name and months, for the Start sheet and messages."""
        return [f"{r.name}: {', '.join(MONTH_NAMES[m - 1] for m in r.months)}" for r in self.rounds]


@dataclass(frozen=True)
class LocalDetails:
    """The authority's own details shown on every workbook's Start sheet."""

    authority: str = ""
    #: Who receives completed audits, one line each ("The case's team manager, with feedback", ...).
    send_to: tuple[str, ...] = ()
    #: Where completed audits are saved (a shared folder), shown as written.
    save_to: str = ""
    #: The round calendar: which months each round falls in.
    rounds: RoundCalendar = field(default_factory=RoundCalendar)
