"""The SLA engine's pure rules: calendars (and, as they come, policies, clocks and ladders)."""
