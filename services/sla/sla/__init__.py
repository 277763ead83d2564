"""SLA timer: owns policies, calendars, clocks, escalation ladders and durable timers."""
