"""Tables of the stationed-units database."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Index, Integer, Numeric, String, Text, UniqueConstraint
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


class MatrixRow(Base):
    """One function of the responsibility matrix of a township: who decides, advises, is told."""

    __tablename__ = "responsibility_matrix"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    function: Mapped[str] = mapped_column(String(32), primary_key=True)
    decides: Mapped[str] = mapped_column(String(16))
    advises: Mapped[str] = mapped_column(String(16), default="")
    informed: Mapped[str] = mapped_column(String(16), default="")


class StaffRow(Base):
    """A person seconded by a county department to a stationed unit (县上人、镇上用)."""

    __tablename__ = "stationed_staff"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_code: Mapped[str] = mapped_column(String(64))
    post: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16))
    seconded_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class BudgetLineRow(Base):
    """A yearly budget line from city finance for a unit (or one of its people)."""

    __tablename__ = "budget_lines"
    __table_args__ = (
        UniqueConstraint(
            "township_id", "unit_code", "person", "year", "category", name="uq_budget_line"
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    unit_code: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(128), default="")
    year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(128))


class FundingEntryRow(Base):
    """One movement of the funding ledger (append-only: corrections are new entries)."""

    __tablename__ = "funding_ledger"
    __table_args__ = (Index("ix_funding_line", "line_id", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    line_id: Mapped[str] = mapped_column(String(36))
    township_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    corrects: Mapped[str] = mapped_column(String(36), default="")
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AttendanceRow(Base):
    """A day of attendance of a stationed person, recorded by the township."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("township_id", "person", "day", name="uq_attendance_day"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(128))
    unit_code: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(128))


class AppraisalRow(Base):
    """The township's appraisal of a stationed person for a period, visible to the department."""

    __tablename__ = "appraisals"
    __table_args__ = (UniqueConstraint("township_id", "person", "period", name="uq_appraisal"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(128))
    unit_code: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(128))


class TrainingRow(Base):
    """Professional training of a stationed person, recorded by the county department."""

    __tablename__ = "training"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[str] = mapped_column(String(128))
    unit_code: Mapped[str] = mapped_column(String(64))
    course: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    day: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(128))


class RedeploymentRow(Base):
    """A redeployment (调配) of a stationed person, from proposal to effect."""

    __tablename__ = "redeployments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64), index=True)
    person: Mapped[str] = mapped_column(String(128))
    from_unit: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    to_township: Mapped[str] = mapped_column(String(64), default="")
    to_unit: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    opinion: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
