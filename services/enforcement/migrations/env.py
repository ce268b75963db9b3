"""Alembic environment of the enforcement database."""

from township_enforcement.models import Base
from township_platform.migrations import run_env

run_env(Base.metadata)
