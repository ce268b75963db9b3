"""Tables of the permits database."""

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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the permits tables."""


class ServiceItemRow(Base):
    """A catalogue item with its service guide (办事指南); county-wide, not tenant data."""

    __tablename__ = "service_items"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(32))
    department: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    statutory_amount: Mapped[int] = mapped_column(Integer)
    statutory_unit: Mapped[str] = mapped_column(String(16))
    promised_amount: Mapped[int] = mapped_column(Integer)
    promised_unit: Mapped[str] = mapped_column(String(16))
    fee: Mapped[str] = mapped_column(String(32), default="0.00")
    visits: Mapped[int] = mapped_column(Integer, default=1)
    guide: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # "seed" rows follow the packaged catalogue; "admin" rows were edited through the API
    # and a later seed leaves them alone.
    source: Mapped[str] = mapped_column(String(16), server_default="seed")


class DelegationRow(Base):
    """An item delegated to a township (and possibly down to its village service rooms)."""

    __tablename__ = "delegations"

    township_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("service_items.code"), primary_key=True
    )
    level: Mapped[str] = mapped_column(String(16))
    document_no: Mapped[str] = mapped_column(String(100), default="")
    document_title: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(16), server_default="seed")


class BundleRow(Base):
    """A one-visit bundle (一件事一次办): several items opened by one intake."""

    __tablename__ = "bundles"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(300))
    item_codes: Mapped[list[str]] = mapped_column(JSONB)


class ReceiptRow(Base):
    """One intake: the receipt code the applicant uses to follow it publicly."""

    __tablename__ = "receipts"

    receipt_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64), index=True)
    bundle: Mapped[str] = mapped_column(String(64), default="")
    applicant_masked: Mapped[str] = mapped_column(String(64), default="")
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ApplicationRow(Base):
    """An application (办件) for one item."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_queue", "township_id", "department", "state", "id"),
        Index("ix_applications_town", "township_id", "id"),
        Index("ix_applications_town_state", "township_id", "state", "id"),
        # partial indexes of the periodic scans (migration 5e6f7a8b9c0d)
        Index(
            "ix_applications_running_promised",
            "promised_due",
            postgresql_where=text("state IN ('SUBMITTED', 'ACCEPTED', 'IN_REVIEW')"),
        ),
        Index(
            "ix_applications_running_statutory",
            "statutory_due",
            postgresql_where=text("state IN ('SUBMITTED', 'ACCEPTED', 'IN_REVIEW')"),
        ),
        Index(
            "ix_applications_submitted_window",
            "correction_window_from",
            postgresql_where=text("state = 'SUBMITTED'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    receipt_code: Mapped[str] = mapped_column(
        String(32), ForeignKey("receipts.receipt_code"), index=True
    )
    bundle: Mapped[str] = mapped_column(String(64), default="")
    item_code: Mapped[str] = mapped_column(String(32), ForeignKey("service_items.code"))
    department: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    village: Mapped[str] = mapped_column(String(64), default="")
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONB)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    submitted_by: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    applicant_consent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The time limit's clock (see domain.deadlines): the day it started, its pauses as
    # [{"start", "end", "reason"}], extensions, and the day the decision stopped it.
    received_on: Mapped[date | None] = mapped_column(Date)
    correction_window_from: Mapped[date | None] = mapped_column(Date)
    pauses: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    extension_days: Mapped[int] = mapped_column(Integer, server_default="0")
    decided_on: Mapped[date | None] = mapped_column(Date)
    # Due dates as of the last change (exact while the clock runs), for queue filters.
    promised_due: Mapped[date | None] = mapped_column(Date)
    statutory_due: Mapped[date | None] = mapped_column(Date)
    missing_materials: Mapped[list[str]] = mapped_column(JSONB, server_default="[]")


Index(
    "ix_applications_department",
    ApplicationRow.department,
    ApplicationRow.state,
    ApplicationRow.id,
)
Index("ix_applications_intake_by", ApplicationRow.submitted_by, ApplicationRow.id)


class HistoryRow(Base):
    """One step in an application's history: who did what, when, from which state."""

    __tablename__ = "application_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("applications.id"), index=True
    )
    township_id: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str] = mapped_column(String(32), default="")
    to_state: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    actor_sub: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadlineNoticeRow(Base):
    """A deadline event already emitted: one per subject, limit kind and event kind.

    The periodic scan inserts here before emitting, so a warning, breach or overdue event
    goes out once however often (and on however many replicas) the scan runs.
    """

    __tablename__ = "deadline_notices"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    limit_kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RatingRow(Base):
    """A rating (好差评) of one intake: the first one, or the follow-up after a rectification."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("receipt_code", "follow_up", name="uq_ratings_receipt_follow_up"),
        Index("ix_ratings_town", "township_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    receipt_code: Mapped[str] = mapped_column(String(32), ForeignKey("receipts.receipt_code"))
    application_ids: Mapped[list[str]] = mapped_column(JSONB)
    departments: Mapped[list[str]] = mapped_column(JSONB)
    level: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    responsible: Mapped[str] = mapped_column(String(128))
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RectificationRow(Base):
    """A rectification (整改) opened by a bad rating, with its deadline and outcome."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_town", "township_id", "id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    township_id: Mapped[str] = mapped_column(String(64))
    rating_id: Mapped[str] = mapped_column(String(36), ForeignKey("ratings.id"), unique=True)
    receipt_code: Mapped[str] = mapped_column(String(32))
    responsible: Mapped[str] = mapped_column(String(128))
    departments: Mapped[list[str]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    return_visit_note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16), default="")
    resolution: Mapped[str] = mapped_column(Text, default="")
    appeal_reason: Mapped[str] = mapped_column(Text, default="")
    appeal_decision: Mapped[str] = mapped_column(Text, default="")
    rating_level: Mapped[int] = mapped_column(Integer)
    follow_up_level: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
