"""Root conftest: the township testing plugin (real NATS, PostgreSQL, the whole system)."""

pytest_plugins = ["township_testing.plugin"]
