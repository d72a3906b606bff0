"""`python -m auditbook`."""

from auditbook.cli import main

main()
