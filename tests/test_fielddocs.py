"""The spec schema's descriptions come from the docstrings under the models' fields (spec/fielddocs.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from auditbook.spec.fielddocs import attribute_docs, describe_fields


class _Base(BaseModel):
    model_config = ConfigDict(json_schema_extra=describe_fields)

    kept: int = 0
    """From the base:
    cleaned as a docstring."""


class _Child(_Base):
    named: str = Field(default="", alias="name-given")
    """Under an aliased field."""
    own: int = Field(default=0, description="Its own description.")
    """Not used: the field says its own."""
    bare: int = 0


def test_docstrings_under_fields_describe_the_schema_by_alias_inherited_and_cleaned() -> None:
    props = _Child.model_json_schema(by_alias=True)["properties"]
    assert props["kept"]["description"] == "From the base:\ncleaned as a docstring."
    assert props["name-given"]["description"] == "Under an aliased field."
    assert props["own"]["description"] == "Its own description."
    assert "description" not in props["bare"]


def test_attribute_docs_reads_only_a_string_right_after_a_field() -> None:
    assert attribute_docs(_Child) == {"kept": "From the base:\ncleaned as a docstring.",
                                      "named": "Under an aliased field.", "own": "Not used: the field says its own."}
