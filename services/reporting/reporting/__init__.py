"""Reporting: read models built only from events, and the recorded event history."""
