"""Pure rules of enforcement (no I/O)."""
