"""Access to OMOP CDM v5.4 databases; the only layer that opens connections."""

from allrwe.io.load import load_cdm
from allrwe.io.source import SCHEMES, CachedRows, CdmSource, connect, validate_identifier

__all__ = ["SCHEMES", "CachedRows", "CdmSource", "connect", "load_cdm", "validate_identifier"]
