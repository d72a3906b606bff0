"""The spec's JSON Schema describes each key with the docstring written under its field in the model.

pydantic can do this itself (`use_attribute_docstrings`), but it reads and parses every model's source as
the class is made, in every process: about a tenth of a collect's start-up. Here the source is read only
when the schema is made (`auditbook spec schema`), with the same result: a field's description is the bare
string after its declaration, cleaned as a docstring, unless the field gives a description of its own.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from typing import Any

from pydantic import BaseModel


def attribute_docs(cls: type) -> dict[str, str]:
    """The docstring under each field declared in `cls` or a model it derives from, by field name."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if issubclass(klass, BaseModel) and klass is not BaseModel:
            docs.update(_own_docs(klass))
    return docs


def _own_docs(cls: type) -> dict[str, str]:
    """The docstrings under the fields declared in the body of `cls` itself."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    except (OSError, TypeError, SyntaxError):  # no source to read (a frozen build): the schema goes undescribed
        return {}
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    docs = {}
    for field, after in itertools.pairwise(body):
        if (isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name) and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
            docs[field.target.id] = inspect.cleandoc(after.value.value)
    return docs


def describe_fields(schema: dict[str, Any], cls: type) -> None:
    """A model's `json_schema_extra`: each property without a description takes its field's docstring."""
    properties = schema.get("properties", {})
    fields = getattr(cls, "model_fields", {})
    for name, doc in attribute_docs(cls).items():
        info = fields.get(name)
        prop = properties.get(info.alias if info is not None and info.alias else name)
        if prop is not None and "description" not in prop:
            # In key order, as pydantic leaves a property it does not sort (one named "default").
            described = sorted({**prop, "description": doc}.items())
            prop.clear()
            prop.update(described)
