"""The database schema.

Places form a fixed hierarchy (district → street → community → compound → building → unit →
household), one table per level so that each level keeps its own columns and foreign keys.
People reach the bot through channel identities, so a WeChat openid can join a Telegram id on
the same person later.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- places -------------------------------------------------------------------------------


class District(Base):
    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Street(Base):
    __tablename__ = "streets"
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[District] = relationship()


class Community(Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    street: Mapped[Street] = relationship()


class Compound(Base):
    __tablename__ = "compounds"
    __table_args__ = (UniqueConstraint("community_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    community: Mapped[Community] = relationship()


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    compound: Mapped[Compound] = relationship()


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("building_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    building: Mapped[Building] = relationship()


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("unit_id", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    floor: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(50))
    # Exclusive floor area from the property register, in m²; exact because votes weigh by it.
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit: Mapped[Unit] = relationship()


class PlaceKind(str, enum.Enum):
    district = "district"
    street = "street"
    community = "community"
    compound = "compound"
    building = "building"
    unit = "unit"
    household = "household"


PLACE_MODELS: dict[PlaceKind, type[Base]] = {
    PlaceKind.district: District,
    PlaceKind.street: Street,
    PlaceKind.community: Community,
    PlaceKind.compound: Compound,
    PlaceKind.building: Building,
    PlaceKind.unit: Unit,
    PlaceKind.household: Household,
}


# --- people -------------------------------------------------------------------------------


class Person(Timestamped, Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # None: follow the client's language; otherwise the person's own choice.
    locale: Mapped[str | None] = mapped_column(String(10))
    # Only ever filled when the person shared it; never shown to other residents.
    phone: Mapped[str | None] = mapped_column(String(32))
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="person")


class ChannelIdentity(Timestamped, Base):
    """How a person is reached on one channel: a Telegram user id, a WeChat openid."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    person: Mapped[Person] = relationship(back_populates="identities")


class Tenure(str, enum.Enum):
    owner = "owner"
    tenant = "tenant"


class Membership(Timestamped, Base):
    """A person belongs to a household; only verified members vote."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("person_id", "household_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    tenure: Mapped[Tenure | None] = mapped_column(Enum(Tenure, native_enum=False, length=10))
    household: Mapped[Household] = relationship()


class Role(str, enum.Enum):
    admin = "admin"
    grid_worker = "grid_worker"
    volunteer = "volunteer"
    building_leader = "building_leader"


class ScopeKind(str, enum.Enum):
    community = "community"
    compound = "compound"
    building = "building"


class RoleGrant(Timestamped, Base):
    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role", "scope_kind", "scope_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    scope_kind: Mapped[ScopeKind] = mapped_column(Enum(ScopeKind, native_enum=False, length=20))
    scope_id: Mapped[int] = mapped_column(Integer)


class InviteKind(str, enum.Enum):
    building = "building"
    household = "household"


class InviteCode(Timestamped, Base):
    __tablename__ = "invite_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[InviteKind] = mapped_column(Enum(InviteKind, native_enum=False, length=20))
    target_id: Mapped[int] = mapped_column(Integer, index=True)
    # Household codes are one-time: used_by/used_at record who redeemed it.
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Timestamped, Base):
    """Every privileged action: who did what to what."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # "cli" for the command line, otherwise the channel the actor used.
    actor_channel: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProcessedUpdate(Base):
    """Updates already taken by a worker, so that a redelivered update is not handled twice."""

    __tablename__ = "processed_updates"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


# --- routing ------------------------------------------------------------------------------


class CategoryCorrection(Timestamped, Base):
    """A person moved a message to another category: training data for the router."""

    __tablename__ = "category_corrections"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    previous_category: Mapped[str | None] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class RoutingModelVersion(Timestamped, Base):
    """A retrained routing model; every worker loads the newest, so all route alike."""

    __tablename__ = "routing_model_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    examples: Mapped[int] = mapped_column(Integer)
    corrections: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class JobRun(Base):
    """Claims of scheduled work: of several workers, the one that inserts the row does the job."""

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_key: Mapped[str] = mapped_column(String(50), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
