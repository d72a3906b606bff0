"""The spec layer: what an audit is (models, loading, lint, conditions, roles). Nothing here knows a workbook."""

from auditbook.spec.load import default_spec_path, json_schema, known_specs, load_spec, parse_spec, specs_dir
from auditbook.spec.models import FieldSpec, SectionSpec, Spec

__all__ = ["FieldSpec", "SectionSpec", "Spec", "default_spec_path", "json_schema", "known_specs", "load_spec",
           "parse_spec", "specs_dir"]
