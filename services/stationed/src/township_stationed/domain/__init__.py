"""Pure rules of stationed (no I/O)."""
