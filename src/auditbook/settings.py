"""Local settings: what differs between authorities and not between audits, from a small TOML file.

`auditbook.toml` in the working folder, or the file given with --settings: the authority's name, who
receives completed audits and where to save them, the round calendar and the recurring-theme threshold.
Validated with pydantic; every problem names the file, line and key. The command line loads it and
passes plain values (LocalDetails, RoundCalendar, a threshold) down; nothing else reads files.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from auditbook.dates import MONTH_NAMES
from auditbook.errors import AuditbookError
from auditbook.local import LocalDetails, Round, RoundCalendar
from auditbook.problems import Code, Key, KeyProblem, ValueProblem, words
from auditbook.text import plural, suggest

SETTINGS_NAME = "auditbook.toml"
EXAMPLE_NAME = "auditbook.example.toml"
DEFAULT_THRESHOLD = 0.3

Line = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)]
_MONTHS = {name.lower(): i for i, name in enumerate(MONTH_NAMES, start=1)} | {
    name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, start=1)} | {"sept": 9}


class SettingsError(AuditbookError):
    """The settings file cannot be used; the message names the file, line and key (and, when its values are
    refused, each problem as data)."""

    def __init__(self, message: str, problems: tuple[KeyProblem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


def parse_share(value: object) -> float:
    """A share of audits from 30, 0.3 or "30%" (a number above 1 is a percentage): 0.3."""
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = float(text.removesuffix("%").strip())
    except ValueError:
        raise ValueProblem(Code.SETTINGS_NOT_A_SHARE, value=text[:20]) from None
    if percent or number > 1:
        number /= 100
    if not 0 < number <= 1:
        raise ValueProblem(Code.SETTINGS_NOT_A_SHARE, case="out-of-range", value=text[:20])
    return number


def _month(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 12:
        return value
    if isinstance(value, str) and value.strip().lower().rstrip(".") in _MONTHS:
        return _MONTHS[value.strip().lower().rstrip(".")]
    raise ValueProblem(Code.SETTINGS_NOT_A_MONTH, value=str(value)[:20])


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthoritySettings(_Section):
    """[authority]"""

    name: Line | None = None


class ReturnsSettings(_Section):
    """[returns]: who receives completed audits and where they are saved."""

    send_to: list[Line] = Field(default_factory=list, max_length=10)
    save_to: Line | None = None


class RoundSettings(_Section):
    """One round of [rounds].calendar."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
    months: list[int] = Field(min_length=1, max_length=12)

    @field_validator("months", mode="before")
    @classmethod
    def _months(cls, value: Any) -> Any:
        return [_month(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consecutive(self) -> RoundSettings:
        for a, b in zip(self.months, self.months[1:], strict=False):
            if b != a % 12 + 1:
                raise ValueProblem(Code.SETTINGS_MONTHS_APART, name=self.name, first=MONTH_NAMES[a - 1],
                                   then=MONTH_NAMES[b - 1])
        return self


class RoundsSettings(_Section):
    """[rounds]: the round calendar."""

    naming: Annotated[str, StringConstraints(min_length=1, max_length=60)] = "{year} {round}"
    calendar: list[RoundSettings] = Field(default_factory=list, max_length=12)

    @field_validator("naming")
    @classmethod
    def _naming(cls, value: str) -> str:
        names = set(re.findall(r"{([^{}]*)}", value))
        if "round" not in names or not names <= {"year", "round"}:
            raise ValueProblem(Code.SETTINGS_ROUND_NAMING, naming=value)
        return value

    @model_validator(mode="after")
    def _each_month_once(self) -> RoundsSettings:
        seen: dict[int, str] = {}
        for r in self.calendar:
            for m in r.months:
                if m in seen:
                    raise ValueProblem(Code.SETTINGS_MONTH_TWICE, month=MONTH_NAMES[m - 1], first=seen[m],
                                       second=r.name)
                seen[m] = r.name
        names = [r.name.casefold() for r in self.calendar]
        if len(set(names)) != len(names):
            raise ValueProblem(Code.SETTINGS_ROUND_TWICE)
        return self


class ThemesSettings(_Section):
    """[themes]: when a theme recurs, and how small a group of children is too small to show."""

    recurring_threshold: float = DEFAULT_THRESHOLD
    #: The fewest audits a theme recurs in, and the fewest behind each of two rounds' shares compared.
    min_audits: int = Field(default=3, ge=1, le=1000)
    #: A team or group of children with fewer audits than this is shown as "fewer than N", no figures.
    small_group: int = Field(default=5, ge=1, le=1000)

    @field_validator("recurring_threshold", mode="before")
    @classmethod
    def _share(cls, value: Any) -> float:
        return parse_share(value)


class Settings(_Section):
    """The whole settings file."""

    authority: AuthoritySettings = Field(default_factory=AuthoritySettings)
    returns: ReturnsSettings = Field(default_factory=ReturnsSettings)
    rounds: RoundsSettings = Field(default_factory=RoundsSettings)
    themes: ThemesSettings = Field(default_factory=ThemesSettings)

    @property
    def calendar(self) -> RoundCalendar:
        """The round calendar as the library takes it."""
        return RoundCalendar(tuple(Round(r.name, tuple(r.months)) for r in self.rounds.calendar),
                             naming=self.rounds.naming)

    @property
    def local(self) -> LocalDetails:
        """The authority's details as the workbook writer takes them."""
        return LocalDetails(authority=self.authority.name or "", send_to=tuple(self.returns.send_to),
                            save_to=self.returns.save_to or "", rounds=self.calendar)

    @property
    def threshold(self) -> float:
        """The share of audits at which a theme is recurring."""
        return self.themes.recurring_threshold


#: Settings when there is no file: the spec's own wording, no calendar, a 30 % threshold.
DEFAULTS = Settings()


def find_settings(given: Path | None, *, folder: Path | None = None) -> Path | None:
    """The settings file to use: the one given, else auditbook.toml in the working folder, else None."""
    if given is not None:
        if not given.is_file():
            raise SettingsError(f"{given}: {words(Code.SETTINGS_MISSING)}")
        return given
    here = (folder or Path.cwd()) / SETTINGS_NAME
    return here if here.is_file() else None


def load_settings(path: Path | None) -> Settings:
    """The settings in `path` (DEFAULTS when None), or SettingsError naming the file, line and key."""
    if path is None:
        return DEFAULTS
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise SettingsError(f"{path}: {words(Code.SETTINGS_UNREADABLE, reason=err)}") from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"{path}: {words(Code.SETTINGS_NOT_TOML, error=err)}") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        problems = [_problem(e).placed(*_place(source, tuple(e.get("loc", ())))) for e in err.errors()]
        lines = [f"{path}: the settings are not valid ({plural(len(problems), 'problem')}):",
                 *(f"  {p.render()}" for p in problems)]
        raise SettingsError("\n".join(lines), tuple(problems)) from None


def settings_lines(settings: Settings, path: Path | None) -> list[str]:
    """What the settings in use are and where they come from, a line each, for `auditbook settings`."""
    local = settings.local
    rows = [("Authority", local.authority or "(the spec's organisation)"),
            ("Send completed audits to", "; ".join(local.send_to) or "(the spec's wording)"),
            ("Save them in", local.save_to or "(not set)"),
            ("Rounds", "; ".join(local.rounds.describe()) or "(none: the audit month stands for the round)"),
            ("Recurring theme threshold", f"{settings.threshold:.0%}"),
            ("Recurring theme in at least", plural(settings.themes.min_audits, "audit")),
            ("Groups suppressed below", plural(settings.themes.small_group, "audit"))]
    head = f"Settings: {path}" if path else f"Settings: none (no {SETTINGS_NAME} here); the defaults below"
    return [head, *(f"  {label}: {value}" for label, value in rows)]


def example_settings() -> str:
    """The example settings file shipped with auditbook (roles and placeholders, nothing personal)."""
    return resources.files("auditbook").joinpath(EXAMPLE_NAME).read_text(encoding="utf-8")


def example_calendar() -> RoundCalendar:
    """The example settings' round calendar (the demo's rounds, as `auditbook settings --example` shows them)."""
    return Settings.model_validate(tomllib.loads(example_settings())).calendar


def _problem(error: Any) -> KeyProblem:
    """One of pydantic's errors as a problem at its key ("rounds.calendar[2].months")."""
    loc = tuple(error.get("loc", ()))
    key = Key.of(*loc) if loc else Key((), "(top)")
    refused = (error.get("ctx") or {}).get("error")
    if isinstance(refused, ValueProblem):
        return KeyProblem.of(refused.code, key, case=refused.case, **refused.values)
    if error.get("type") == "extra_forbidden":
        keys = _known(loc[:-1])
        return KeyProblem.of(Code.SETTINGS_UNKNOWN_KEY, key, name=loc[-1], suggestion=suggest(str(loc[-1]), keys),
                             keys=", ".join(keys) or "(none)")
    return KeyProblem.of(Code.SETTINGS_INVALID, key, detail=str(error.get("msg", "")).rstrip("."))


def _known(loc: tuple[Any, ...]) -> list[str]:
    """The keys a table of the settings has (none when the path is not a table)."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = getattr(field, "annotation", None) if field is not None else None
        args = getattr(inner, "__args__", ())
        model = args[0] if args and isinstance(args[0], type) else inner
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
    return list(model.model_fields)


def _place(source: str, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """The line and column (1-based) where the key at `loc` is written, or the nearest enclosing one's.

    TOML parsers give no positions, so this follows the file's tables and keys by hand: enough for the way a
    settings file is written (tables, keys, arrays of tables, arrays of inline tables one to a line).
    """
    lines = source.splitlines()
    found = _keys_written(lines)
    keys = [p for p in loc if isinstance(p, str)]
    for n in range(len(keys), 0, -1):
        at = found.get(tuple(keys[:n]))
        if not at:
            continue
        index = _index_after(loc, n)
        if index is None:
            return at[0]
        if len(at) > 1:  # an array of tables: one header per item
            return at[index] if index < len(at) else at[0]
        return _inline_item(lines, at[0][0], index) or at[0]
    return None, None


def _keys_written(lines: list[str]) -> dict[tuple[str, ...], list[tuple[int, int]]]:
    """Where each table header and key is written, by its dotted path: (line, column) for each time it is."""
    found: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    table: tuple[str, ...] = ()
    for number, raw in enumerate(lines, start=1):
        code = raw.split("#", 1)[0]
        text = code.strip()
        column = len(code) - len(code.lstrip()) + 1
        header = re.match(r"^\[\[?\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?$", text)
        if header:
            table = tuple(h.strip() for h in header.group(1).split("."))
            found.setdefault(table, []).append((number, column))
            continue
        assigned = re.match(r"^([A-Za-z0-9_\-]+)\s*=", text)
        if assigned:
            found.setdefault((*table, assigned.group(1)), []).append((number, column))
    return found


def _index_after(loc: tuple[Any, ...], n: int) -> int | None:
    """The array index that follows the n-th key of loc, if any."""
    seen = 0
    for i, part in enumerate(loc):
        if isinstance(part, str):
            seen += 1
            if seen == n:
                following = loc[i + 1] if i + 1 < len(loc) else None
                return following if isinstance(following, int) else None
    return None


def _inline_item(lines: list[str], start: int, index: int) -> tuple[int, int] | None:
    """The line and column of the index-th inline table of the array that starts on line `start`."""
    seen = -1
    for number in range(start, len(lines) + 1):
        if number > start and re.match(r"^\s*([A-Za-z0-9_\-]+\s*=|\[)", lines[number - 1]):
            return None
        for column, char in enumerate(lines[number - 1].split("#", 1)[0], start=1):
            if char == "{":
                seen += 1
                if seen == index:
                    return number, column
    return None
