"""allrwe.analyses."""
