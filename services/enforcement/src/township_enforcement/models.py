"""Tables of the enforcement database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
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


class OfficerRow(Base):
    """A certified enforcement officer (执法证), learnt from the verified tokens officers use."""

    __tablename__ = "officers"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sub: Mapped[str] = mapped_column(String(128), primary_key=True)
    certificate: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100), default="")
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ComplaintRow(Base):
    """A complaint or report (投诉举报), from the public (Open311) or entered by staff."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_town", "township_id", "received_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(36), unique=True)
    service_code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    address_id: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[str] = mapped_column(String(32), default="")
    long: Mapped[str] = mapped_column(String(32), default="")
    media_url: Mapped[str] = mapped_column(String(1000), default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    complainant: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    real_name: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    feedback: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acceptance_due: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseRow(Base):
    """An enforcement case (案件) from clue to closure; the record is in ``case_record``."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_town", "township_id", "id"),
        Index("ix_cases_departments", "departments", postgresql_using="gin"),
        UniqueConstraint("township_id", "case_no", name="uq_cases_case_no"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    case_no: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("enforcement_items.code"))
    state: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    complaint_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    inspection_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    party: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    departments: Mapped[list[str]] = mapped_column(JSONB, default=list)
    officers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    recused: Mapped[list[str]] = mapped_column(JSONB, default=list)
    entrustment_document: Mapped[str] = mapped_column(String(100), default="")
    filed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    extensions: Mapped[list[int]] = mapped_column(JSONB, default=list)
    review_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    proposed: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    hearing_waived: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # the arrangements of a requested hearing (domain.cases.HearingSchedule.as_json)
    hearing: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    served_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    publication: Mapped[str] = mapped_column(String(16), default="")
    published_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    retracted_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    paid: Mapped[str] = mapped_column(String(16), default="0.00")
    transfer: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseRecordRow(Base):
    """One entry of a case's full-process record (全过程记录); rows are never updated."""

    __tablename__ = "case_record"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_record_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(36), ForeignKey("cases.id"), index=True)
    township_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(32), default="")
    to_state: Mapped[str] = mapped_column(String(32))
    actor_sub: Mapped[str] = mapped_column(String(128))
    actor_certificate: Mapped[str] = mapped_column(String(64), default="")
    officers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseCounterRow(Base):
    """Next case number per township and year (立案编号)."""

    __tablename__ = "case_counters"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class InspectionRow(Base):
    """An inspection (检查): routine, market-day stall patrol or joint with county departments."""

    __tablename__ = "inspections"
    __table_args__ = (
        Index("ix_inspections_town", "township_id", "id"),
        Index("ix_inspections_departments", "departments", postgresql_using="gin"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    place: Mapped[str] = mapped_column(String(300), default="")
    scheduled_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    officers: Mapped[list[str]] = mapped_column(JSONB, default=list)
    departments: Mapped[list[str]] = mapped_column(JSONB, default=list)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeadlineBreachRow(Base):
    """A time limit found breached (once per subject and limit: the scan is idempotent)."""

    __tablename__ = "deadline_breaches"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(48), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    due: Mapped[str] = mapped_column(String(40))
    breached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
