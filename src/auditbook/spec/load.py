"""Load specs: YAML (the only module that imports yaml) into validated, linted models; the bundled specs."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from auditbook.errors import SpecError
from auditbook.spec.lint import lint
from auditbook.spec.models import Spec

#: The package the bundled specs install as (the repository's workbook_specs/ folder, mapped in pyproject.toml).
BUNDLED_PACKAGE = "auditbook.workbook_specs"
DEFAULT_SPEC = "deep_dive.yaml"


def _format_validation_error(path: Path, err: ValidationError) -> str:
    lines: list[str] = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        for part in msg.split("\n"):
            lines.append(f"  {loc}: {part}" if loc != "(top level)" else f"  {part}")
    return "\n".join([f"{path}: the spec is not valid ({len(lines)} problem(s)):", *lines])


def parse_spec(data: object, *, source: Path) -> Spec:
    """Validate already-parsed YAML data into a Spec and lint it, raising SpecError with every problem."""
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_format_validation_error(source, err)) from None
    problems = lint(spec)
    if problems:
        lines = [f"  {p}" for p in problems]
        raise SpecError("\n".join([f"{source}: the spec is not valid ({len(lines)} problem(s)):", *lines]))
    return spec


def load_spec(path: Path) -> Spec:
    """Read and validate a YAML spec file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{path}: cannot read the spec ({err.strerror}). Check the path.") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: the spec is not UTF-8 text. Save it as UTF-8.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise SpecError(f"{path}: not valid YAML{at}. Fix the indentation or quoting there.") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec must be a YAML mapping with keys id, version, sections, ...")
    return parse_spec(data, source=path)


def specs_dir() -> Path:
    """The folder of bundled specs (workbook_specs/ in a checkout, installed as a package alongside the code)."""
    return Path(str(resources.files(BUNDLED_PACKAGE)))


def default_spec_path() -> Path:
    """The bundled Deep Dive spec."""
    return specs_dir() / DEFAULT_SPEC


def known_specs(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Spec]:
    """Every loadable spec in the bundled folder (and any extra folders), keyed by its SHA-256."""
    found: dict[str, Spec] = {}
    for place in (specs_dir(), *extra_dirs):
        paths = [place] if place.is_file() else sorted([*place.glob("*.yaml"), *place.glob("*.yml")])
        for path in paths:
            try:
                spec = load_spec(path)
            except SpecError:
                continue
            found[spec.sha256] = spec
    return found


def json_schema() -> dict[str, object]:
    """The JSON Schema of the spec format, for editors."""
    return Spec.model_json_schema(by_alias=True)
