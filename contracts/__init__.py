"""Event contracts shared by every service: the envelope, the catalogue, parsing and AsyncAPI.

Importing this package registers every event of the catalogue.
"""

from . import cases  # noqa: F401  (registers the case events)
from .envelope import ContractError, Event, catalogue, parse, producer_of

__all__ = ["ContractError", "Event", "catalogue", "parse", "producer_of"]
