"""The FastAPI gateway: the HTTP front door for web and mobile clients, partners and operators."""
