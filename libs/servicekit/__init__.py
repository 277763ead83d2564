"""Plumbing shared by every service: settings, logs, metrics, database, reliable messaging, launcher."""
