"""The bundled audit specs (YAML), installed as the package auditbook.workbook_specs."""
