"""The workbook layer: the xlsxwriter writer, one module per kind of sheet over one shared context."""
