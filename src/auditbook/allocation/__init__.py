"""Allocation: who audits which case in which month (the list and its template), and the prefilled workbooks."""
