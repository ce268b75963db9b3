"""Township platform."""
