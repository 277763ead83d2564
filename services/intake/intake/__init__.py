"""Intake: owns cases (number, reporter, tier, status machine, notes, attachments, timeline)."""
