"""allrwe.report."""
