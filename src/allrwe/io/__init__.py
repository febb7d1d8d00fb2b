"""Access to OMOP CDM v5.4 databases: reading read-only, and writing in one module.

Reading: :func:`connect` (:mod:`allrwe.io.source`) opens a :class:`CdmSource` through one of
:mod:`allrwe.io.backends`; :class:`KeptRows` (:mod:`allrwe.io.kept`) holds the rows a run keeps.
Writing a CDM: :mod:`allrwe.io.write` only. Checking one: :mod:`allrwe.io.check`.
"""

from allrwe.io.connection import CdmConnection
from allrwe.io.kept import CachedRows, KeptRows
from allrwe.io.source import SCHEMES, CdmSource, connect, validate_identifier
from allrwe.io.write import load_cdm

__all__ = [
    "SCHEMES",
    "CachedRows",
    "CdmConnection",
    "CdmSource",
    "KeptRows",
    "connect",
    "load_cdm",
    "validate_identifier",
]
