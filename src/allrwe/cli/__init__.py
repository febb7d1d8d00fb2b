"""allrwe.cli."""
