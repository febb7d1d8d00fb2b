"""allrwe.results."""
