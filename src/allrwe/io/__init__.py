"""Access to OMOP CDM v5.4 databases; the only layer that opens connections."""

from allrwe.io.source import SCHEMES, CdmSource, connect, validate_identifier

__all__ = ["SCHEMES", "CdmSource", "connect", "validate_identifier"]
