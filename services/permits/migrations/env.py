"""Alembic environment of the permits database."""

from township_permits.models import Base
from township_platform.migrations import run_env

run_env(Base.metadata)
