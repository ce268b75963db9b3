"""Personnel domain: bonus distribution by coefficient and points."""
