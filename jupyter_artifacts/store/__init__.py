"""The content-addressed artifact store: the core every face calls."""

from .names import KINDS, parse_ref
from .records import Artifact
from .settings import StoreSettings, parse_size
from .store import Store

__all__ = ["KINDS", "Artifact", "Store", "StoreSettings", "parse_ref", "parse_size"]
