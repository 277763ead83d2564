"""Authentication (passwords, JWTs, API keys) and authorisation (roles per endpoint)."""
