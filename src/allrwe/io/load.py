"""``load_cdm``, kept importable from here: writing a CDM is :mod:`allrwe.io.write`'s."""

from allrwe.io.write import DEFAULT_SCHEMA, load_cdm, postgres_type

__all__ = ["DEFAULT_SCHEMA", "load_cdm", "postgres_type"]
