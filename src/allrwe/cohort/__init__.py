"""allrwe.cohort."""
