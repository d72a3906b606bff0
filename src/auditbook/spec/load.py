"""Load specs: YAML (the only module that imports yaml) into validated, linted models; the bundled specs.

Every problem says where it is in the file (line and column, found with a position-tracking load of the
YAML) and, for an unknown key or name, what was probably meant.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import types
import typing
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic import BaseModel, ValidationError

from auditbook.atomic import replacing
from auditbook.errors import SpecError
from auditbook.problems import Code, Key, KeyProblem, ValueProblem, words
from auditbook.spec.conditions import KINDS
from auditbook.spec.lint import lint
from auditbook.spec.models import Spec
from auditbook.text import plural, suggest
from auditbook.userdata import data_dir

if TYPE_CHECKING:
    import yaml

#: The package the bundled specs install as (the repository's workbook_specs/ folder, mapped in pyproject.toml).
BUNDLED_PACKAGE = "auditbook.workbook_specs"
DEFAULT_SPEC = "deep_dive.yaml"
#: The folder of the collator's data folder where specs found valid are kept (see known_specs).
SPEC_CACHE = "spec-cache"
#: Kept specs older than this many days are removed whenever a spec is kept.
KEPT_DAYS = 30

Path_ = tuple[str | int, ...]
Positions = dict[Path_, tuple[int, int]]


def parse_yaml(text: str) -> tuple[Any, Positions]:
    """The data of a YAML text (as yaml.safe_load gives it) and where each of its keys and items is, from one
    parse: the node tree is composed once, then made into data and walked for positions."""
    # Imported here: a collect takes the bundled specs as kept (known_specs), and never needs yaml's start-up.
    import yaml

    # LibYAML's loader where PyYAML was built with it: a tenth of the pure-Python loader's time.
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return _parse(text, loader)
    except yaml.YAMLError:
        if loader is yaml.SafeLoader:
            raise
        # Where the pure-Python loader says the mistake is (LibYAML puts some at the next line).
        return _parse(text, yaml.SafeLoader)


def _parse(text: str, kind: type[yaml.SafeLoader]) -> tuple[Any, Positions]:
    loader = kind(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return data, positions(root)


def positions(root: yaml.Node | None) -> Positions:
    """Line and column (1-based) of every key and list item of a YAML node tree, by its path of keys and indexes."""
    import yaml  # as in parse_yaml

    out: Positions = {}

    def walk(node: yaml.Node, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                out.setdefault(here, (key.start_mark.line + 1, key.start_mark.column + 1))
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                out.setdefault((*path, i), (item.start_mark.line + 1, item.start_mark.column + 1))
                walk(item, (*path, i))

    if root is not None:
        out[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
        walk(root, ())
    return out


def _at(loc: tuple[Any, ...], where: Positions) -> tuple[int | None, int | None]:
    """The line and column of the deepest known path along a key's path (union tags skipped), or None."""
    path: Path_ = ()
    for step in loc:
        if (*path, step) in where:
            path = (*path, step)
    line, col = where.get(path, (0, 0))
    return (line, col) if line else (None, None)


def _not_valid(source: Path, problems: list[KeyProblem], where: Positions) -> SpecError:
    """The error for an invalid spec: a heading, then each problem on its line and column."""
    placed = [p.placed(*_at(p.key.path, where)) for p in problems]
    lines = [f"{source}: the spec is not valid ({plural(len(placed), 'problem')}):",
             *(f"  {p.render()}" for p in placed)]
    return SpecError("\n".join(lines), tuple(placed))


def _model_fields(model: type[BaseModel]) -> dict[str, Any]:
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def _unwrap(annotation: Any) -> list[Any]:
    """The types inside Optional, Union, Annotated, list and dict annotations."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _model_at(loc: tuple[Any, ...]) -> list[type[BaseModel]]:
    """The models a key at this location may belong to (several for a condition)."""
    current: list[type[BaseModel]] = [Spec]
    for step in loc:
        tagged = [m for key, m in KINDS if key == step]
        if tagged:
            current = tagged
            continue
        if isinstance(step, int):
            continue
        nested: list[type[BaseModel]] = []
        for model in current:
            annotation = _model_fields(model).get(step)
            nested += [t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        if nested:
            current = nested
        elif not any(step in _model_fields(m) for m in current):
            continue  # a mapping's own key (a choice list's id, an example's name)
    return current


def _schema_problem(e: Any) -> KeyProblem:
    """One of pydantic's errors as a problem at its key, with a did-you-mean for an unknown key or condition."""
    loc = tuple(e["loc"])
    key = Key(loc, ".".join(str(p) for p in loc if not any(p == kind for kind, _ in KINDS)) or "(top level)")
    refused = (e.get("ctx") or {}).get("error")
    if isinstance(refused, ValueProblem):
        return KeyProblem.of(refused.code, key, case=refused.case, **refused.values)
    if e["type"] == "extra_forbidden":
        name = str(loc[-1])
        allowed = sorted({k for m in _model_at(loc[:-1]) for k in _model_fields(m)})
        return KeyProblem.of(Code.SPEC_UNKNOWN_KEY, key, key=name, suggestion=suggest(name, allowed),
                             allowed=", ".join(allowed))
    if e["type"] == "missing":
        return KeyProblem.of(Code.SPEC_MISSING_KEY, key)
    if e["type"] == Code.SPEC_NOT_A_CONDITION:
        keys = sorted({k for _, m in KINDS for k in _model_fields(m)} | {"offset"})
        odd = [str(k) for k in e["input"] if k not in keys] if isinstance(e.get("input"), dict) else []
        return KeyProblem.of(Code.SPEC_NOT_A_CONDITION, key, suggestion="".join(suggest(k, keys) for k in odd))
    return KeyProblem.of(Code.SPEC_SCHEMA, key, detail=str(e["msg"]).removeprefix("Value error, ").rstrip("."))


def parse_spec(data: object, *, source: Path, where: Positions | None = None) -> Spec:
    """Validate already-parsed YAML data into a Spec and lint it, raising SpecError with every problem.

    `where` (from positions()) gives each problem the line and column of its key.
    """
    where = where or {}
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        raise _not_valid(source, [_schema_problem(e) for e in err.errors()], where) from None
    problems = lint(spec)
    if problems:
        raise _not_valid(source, problems, where)
    return spec


def load_spec(path: Path) -> Spec:
    """Read and validate a YAML spec file."""
    import yaml  # as in parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{path}: {words(Code.SPEC_UNREADABLE, reason=err.strerror)}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: {words(Code.SPEC_NOT_UTF8)}") from None
    try:
        data, where = parse_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        said = words(Code.SPEC_NOT_YAML, line=mark.line + 1, column=mark.column + 1) if mark else \
            words(Code.SPEC_NOT_YAML, case="nowhere")
        raise SpecError(f"{path}: {said}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: {words(Code.SPEC_NOT_A_MAPPING)}")
    return parse_spec(data, source=path, where=where)


def specs_dir() -> Path:
    """The folder of bundled specs (workbook_specs/ in a checkout, installed as a package alongside the code)."""
    return Path(str(resources.files(BUNDLED_PACKAGE)))


def default_spec_path() -> Path:
    """The bundled Deep Dive spec."""
    return specs_dir() / DEFAULT_SPEC


def known_specs(extra_dirs: tuple[Path, ...] = ()) -> dict[str, Spec]:
    """Every loadable spec in the bundled folder (and any extra folders), keyed by its SHA-256.

    Every collect loads them all: a spec found valid is kept in the collator's data folder (SPEC_CACHE) and read
    back from there while neither its file nor the code that validates it has changed.
    """
    found: dict[str, Spec] = {}
    for place in (specs_dir(), *extra_dirs):
        paths = [place] if place.is_file() else sorted([*place.glob("*.yaml"), *place.glob("*.yml")])
        for path in paths:
            try:
                spec = _kept_spec(path)
            except SpecError:
                continue
            found[spec.sha256] = spec
    return found


@cache
def _code_key() -> bytes:
    """What decides what a spec file validates to: the source of the spec package and of the top-level modules, the
    only ones it may import (tests/test_layout.py), and pydantic's version."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(pydantic.VERSION.encode())
    for module in sorted([*root.glob("*.py"), *root.parent.glob("*.py")]):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.digest()


def _kept_spec(path: Path) -> Spec:
    """A spec file loaded, from what was kept of it when it was last found valid if that is there (a spec is not kept
    when its file, auditbook's code or pydantic has changed since); else loaded, validated and kept."""
    try:
        data = path.read_bytes()
        kept = data_dir() / SPEC_CACHE / f"{hashlib.sha256(_code_key() + data).hexdigest()}.json"
    except OSError:
        return load_spec(path)  # it says what is wrong with the file
    try:
        stored = json.loads(kept.read_bytes())
        spec = Spec.model_validate(stored["spec"])
        # Read back as it was kept, or not at all (kept by a version that dumped it otherwise, or altered).
        if spec.sha256 == stored["sha256"]:
            return spec
    except (OSError, ValueError, TypeError, KeyError):
        pass
    spec = load_spec(path)
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with replacing(kept, prefix=".spec-") as tmp:
            tmp.write_text(json.dumps({"sha256": spec.sha256, "spec": spec.model_dump(mode="json", by_alias=True)}),
                           encoding="utf-8")
        _forget_old(kept.parent)
    except OSError:
        pass  # a data folder that cannot be written: the spec is loaded afresh next time
    return spec


def _forget_old(folder: Path, days: int = KEPT_DAYS) -> None:
    """Remove the kept specs written more than `days` ago, each time one is kept: a kept spec is named by its file and
    the code, so those of spec files and versions of auditbook no longer used would pile up. One still in use is
    validated and kept afresh the next time it is loaded."""
    oldest = time.time() - days * 86400
    for old in folder.glob("*.json"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < oldest:
                old.unlink()


def json_schema() -> dict[str, object]:
    """The JSON Schema of the spec format, for editors."""
    return Spec.model_json_schema(by_alias=True)
