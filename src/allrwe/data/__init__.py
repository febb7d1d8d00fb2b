"""Package data: the CDM specification, the curated vocabulary, the example CDM."""
