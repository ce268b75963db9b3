"""Tables of the personnel database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
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
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"), default=True)


class PostRow(Base):
    """A post of the township's post catalogue, with its coefficient."""

    __tablename__ = "posts"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_unit: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    coefficient: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    workload_factor: Mapped[Decimal] = mapped_column(
        Numeric(6, 2), server_default=text("1.00"), default=Decimal("1.00")
    )


class PersonRow(Base):
    """A member of staff, whatever their staffing status (编制身份不变，人员按岗管理)."""

    __tablename__ = "people"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(32))


class AssignmentRow(Base):
    """A person holding a post from ``starts_on`` until ``ends_on`` (open while current)."""

    __tablename__ = "assignments"
    __table_args__ = (
        Index(
            "uq_assignment_current",
            "township_id",
            "person",
            unique=True,
            postgresql_where=text("ends_on IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64), index=True)
    person: Mapped[str] = mapped_column(String(128))
    post: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class PointsRuleRow(Base):
    """A rule of the points ledger (points, cap per period, evidence, who approves)."""

    __tablename__ = "points_rules"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    cap_per_period: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), nullable=True)
    trigger: Mapped[str] = mapped_column(String(128), default="")
    evidence_required: Mapped[bool] = mapped_column(
        Boolean, server_default=text("false"), default=False
    )
    approver_role: Mapped[str] = mapped_column(
        String(32), server_default="township_admin", default="township_admin"
    )
    claimable: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)


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
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    claimed_by: Mapped[str] = mapped_column(String(128), default="", server_default="")
    decided_by: Mapped[str] = mapped_column(String(128), default="", server_default="")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    appeal_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    appealed_from: Mapped[str] = mapped_column(String(16), default="", server_default="")


class PointsRuleTotalRow(Base):
    """Running total per person, rule and period of the entries counting towards caps.

    Kept by the ``points_rule_totals`` trigger on points_entries (see its migration); never
    written by the application.
    """

    __tablename__ = "points_rule_totals"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(128), primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")


class PeriodRow(Base):
    """A township's appraisal period (one per year)."""

    __tablename__ = "periods"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    history: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )


class DistributionRow(Base):
    """A computed distribution of a pool; its inputs are kept so exports are reproducible."""

    __tablename__ = "distributions"
    __table_args__ = (UniqueConstraint("township_id", "year", "kind", name="uq_distribution"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    pool: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed_by: Mapped[str] = mapped_column(String(128))
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
