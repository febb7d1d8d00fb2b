"""One module per engine behind :func:`allrwe.io.source.connect`, each opening a CDM read-only.

- :mod:`~allrwe.io.backends.duckdb`: a DuckDB file, and DuckDB's memory limit and spill folder
  (which the Parquet and CSV backends share);
- :mod:`~allrwe.io.backends.parquet`: a folder of Parquet tables, read through DuckDB;
- :mod:`~allrwe.io.backends.csv`: a folder of CSV tables, typed by the CDM specification;
- :mod:`~allrwe.io.backends.postgres`: PostgreSQL, every transaction read-only;
- :mod:`~allrwe.io.backends.spark`: a Spark session (local, standalone master or Connect).

Each returns a :class:`~allrwe.io.cdm.CdmSource`; none writes to the source.
"""
