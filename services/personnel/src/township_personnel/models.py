"""Tables of the personnel database."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Index, Integer, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the personnel tables."""


class OrgUnitRow(Base):
    """An internal body of a township (office, centre, special body)."""

    __tablename__ = "org_units"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))


class PostRow(Base):
    """A post of the township's post catalogue, with its coefficient."""

    __tablename__ = "posts"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_unit: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    coefficient: Mapped[Decimal] = mapped_column(Numeric(6, 2))


class PersonRow(Base):
    """A member of staff, whatever their staffing status (编制身份不变，人员按岗管理)."""

    __tablename__ = "people"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32))


class PointsRuleRow(Base):
    """A rule of the points ledger (points, cap per period, who approves)."""

    __tablename__ = "points_rules"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    cap_per_period: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    trigger: Mapped[str] = mapped_column(String(128), default="")


class PointsEntryRow(Base):
    """One entry of a person's points ledger."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("source_event_id", "rule_code", "person", name="uq_points_event_rule"),
        Index("ix_points_person", "township_id", "person", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(128))
    rule_code: Mapped[str] = mapped_column(String(64))
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    state: Mapped[str] = mapped_column(String(16))
    source_event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    source_type: Mapped[str] = mapped_column(String(128), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    period: Mapped[int] = mapped_column(Integer)
