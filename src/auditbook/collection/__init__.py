"""The collection layer: the ledger, the pure merge, the master and packs, allocation and its tracking."""
