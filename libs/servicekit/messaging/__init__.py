"""Reliable messaging: transactional outbox + confirming relay, idempotent consumers, dead letters."""
