"""Tables of the enforcement database."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the enforcement tables."""


class EnforcementItemRow(Base):
    """A catalogued enforcement item with its legal basis and discretion bands."""

    __tablename__ = "enforcement_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(400))
    department: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    discretion: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class EntrustmentRow(Base):
    """An item entrusted (委托) by a county department to a township for a period."""

    __tablename__ = "entrustments"
    __table_args__ = (Index("ix_entrustments_town", "township_id", "item_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    township_id: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("enforcement_items.code"))
    entrusting_department: Mapped[str] = mapped_column(String(64))
    document_no: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    published_on: Mapped[date] = mapped_column(Date)
