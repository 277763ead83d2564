"""Event contracts shared by every service: the envelope, the catalogue, parsing and AsyncAPI.

Importing this package registers every event of the catalogue.
"""

from . import cases, dispatch, sla, spares  # noqa: F401  (registers the events of the catalogue)
from .envelope import ContractError, Event, catalogue, parse, producer_of

__all__ = ["ContractError", "Event", "catalogue", "parse", "producer_of"]
