"""Intake's pure rules: tiers, the status machine, case numbers, who may see what. No I/O here."""
