"""allrwe.synth."""
