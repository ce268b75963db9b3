"""Alembic environment of the personnel database."""

from township_personnel.models import Base
from township_platform.migrations import run_env

run_env(Base.metadata)
