"""Tables of the stationed-units database."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the stationed tables."""


class StationedUnitRow(Base):
    """A county office stationed in a township (驻镇单位), with its county department."""

    __tablename__ = "stationed_units"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    department: Mapped[str] = mapped_column(String(64))
