"""Outputs: what a collection is written out as (the master, team managers' packs, the export, the round report)."""
