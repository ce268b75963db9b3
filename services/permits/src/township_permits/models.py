"""Tables of the permits database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func
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
