"""The store: what a collator's runs keep (the ledger, the action register, the rounds seen), the walk of the
returns folder against it, which files are auditbook's own, and edits read back from the master and packs."""
