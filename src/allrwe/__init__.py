"""allrwe: real-world-evidence studies of novel therapies in R/R ALL on OMOP CDM v5.4."""

__version__ = "0.1.0"

__all__ = ["__version__"]
