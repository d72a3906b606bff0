"""The workbook layer: where every input lives (layout), its live formulas, and the xlsxwriter writer."""
