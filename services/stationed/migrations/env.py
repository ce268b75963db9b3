"""Alembic environment of the stationed database."""

from township_platform.migrations import run_env
from township_stationed.models import Base

run_env(Base.metadata)
