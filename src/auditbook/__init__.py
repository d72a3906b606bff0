"""auditbook: Deep Dive case file audit workbooks for children's social care."""

__version__ = "0.1.0"
