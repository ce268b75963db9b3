"""Permits domain: working-day calendar, time limits and the application state machine."""
