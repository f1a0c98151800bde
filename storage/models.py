"""The database schema.

Places form a fixed hierarchy (district → street → community → compound → building → unit →
household). The six levels above the household share one table, `places`, and every place and
household carries the ids of all its ancestors, so both questions every feature asks are one
indexed query: "which households lie within this place" and "does this scope contain that
place". Households, with their own columns and 100,000s of rows, have their own table.
People reach the bot through channel identities, so a Telegram id and a WeChat openid can lead
to the same person.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
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


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database: SQLite stores no zone and hands back
    naive values, PostgreSQL hands back the session's zone. Naive values are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- places -------------------------------------------------------------------------------


class PlaceKind(str, enum.Enum):
    """The levels of the hierarchy, top down; a household is the level below a unit."""

    district = "district"
    street = "street"
    community = "community"
    compound = "compound"
    building = "building"
    unit = "unit"
    household = "household"


# The levels kept in `places`, top down; households have their own table.
TREE_LEVELS: tuple[PlaceKind, ...] = tuple(kind for kind in PlaceKind if kind is not PlaceKind.household)


class AncestorIds:
    """One indexed column per level above: "everything within compound 7" is `compound_id = 7`
    on a single table, and "does scope S contain this place" reads one row. The places service
    is the only writer and fills them from the parent's row."""

    district_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)

    def ancestor_id(self, kind: PlaceKind) -> int | None:
        return getattr(self, kind.value + "_id", None)


class Place(AncestorIds, Base):
    """A district, street, community, compound, building or unit. One table, so anything that
    refers to "a place" (a role's scope, an invite, a notice's audience) has one foreign key."""

    __tablename__ = "places"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        # Districts have no parent, and NULLs are distinct in a unique constraint.
        Index("uq_places_district_name", "name", unique=True, sqlite_where=text("parent_id IS NULL"), postgresql_where=text("parent_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PlaceKind] = mapped_column(Enum(PlaceKind, native_enum=False, length=20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Household(AncestorIds, Base):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("unit_id", "room"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    floor: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(50))
    # Exclusive floor area from the property register, in m²; exact because votes weigh by it.
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))

    def ancestor_id(self, kind: PlaceKind) -> int | None:
        return self.unit_id if kind is PlaceKind.unit else super().ancestor_id(kind)


# --- people -------------------------------------------------------------------------------


class Person(Timestamped, Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # The person's own choice of language; None: follow the client.
    locale: Mapped[str | None] = mapped_column(String(10))
    # The language the person's client last reported, kept so that messages the bot sends on
    # its own (notices, report updates) are in the language the person reads.
    client_locale: Mapped[str | None] = mapped_column(String(10))
    # Only ever filled when the person shared it; never shown to other residents.
    phone: Mapped[str | None] = mapped_column(String(32))
    identities: Mapped[list[ChannelIdentity]] = relationship(back_populates="person")

    def reading_locale(self, default: str) -> str:
        return reading_locale(self.locale, self.client_locale, default)


def reading_locale(locale: str | None, client_locale: str | None, default: str) -> str:
    """The language a person reads: their own choice, else their client's, else the deployment's."""
    return locale or client_locale or default


class ChannelIdentity(Timestamped, Base):
    """How a person is reached on one channel: a Telegram user id, a WeChat openid."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    # Set when the channel refused a message because the person blocked the bot (Telegram's
    # 403); nothing is sent to this identity until the person writes to the bot again.
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    person: Mapped[Person] = relationship(back_populates="identities")


class Tenure(str, enum.Enum):
    owner = "owner"
    tenant = "tenant"


class Membership(Timestamped, Base):
    """A person belongs to a household; only verified members vote, and in a vote the household
    speaks through its representative (the Civil Code counts one owner per exclusive unit)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("person_id", "household_id"),
        Index(
            "uq_memberships_household_representative", "household_id", unique=True,
            sqlite_where=text("represents"), postgresql_where=text("represents"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    tenure: Mapped[Tenure | None] = mapped_column(Enum(Tenure, native_enum=False, length=10))
    represents: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    household: Mapped[Household] = relationship()


class Role(str, enum.Enum):
    admin = "admin"
    grid_worker = "grid_worker"
    volunteer = "volunteer"
    building_leader = "building_leader"


class RoleGrant(Timestamped, Base):
    """A role over a place (a community, compound or building) and everything within it."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role", "place_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)


class InviteKind(str, enum.Enum):
    building = "building"
    household = "household"


class InviteCode(Timestamped, Base):
    """A building's code (many uses, makes members) or a household's (one use, verifies)."""

    __tablename__ = "invite_codes"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'building' AND place_id IS NOT NULL AND household_id IS NULL)"
            " OR (kind = 'household' AND household_id IS NOT NULL AND place_id IS NULL)",
            name="one_target",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[InviteKind] = mapped_column(Enum(InviteKind, native_enum=False, length=20))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    # Household codes are one-time: used_by/used_at record who redeemed it.
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FailedCodeAttempt(Base):
    """An invite code that did not match; counted per person to slow down guessing."""

    __tablename__ = "failed_code_attempts"
    __table_args__ = (Index("ix_failed_code_attempts_person_at", "person_id", "attempted_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApplicationStatus(str, enum.Enum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class RoleApplication(Timestamped, Base):
    """A resident volunteers as building leader (楼栋长) or party-member volunteer (党员志愿者);
    an admin or grid worker over that place approves (the role is granted) or rejects it."""

    __tablename__ = "role_applications"
    __table_args__ = (
        # One open application per person, role and place: applying twice changes nothing.
        Index(
            "uq_role_applications_pending", "person_id", "role", "place_id", unique=True,
            sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ApplicationStatus] = mapped_column(Enum(ApplicationStatus, native_enum=False, length=20), default=ApplicationStatus.pending)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")


class GroupChat(Timestamped, Base):
    """A building's group chat (楼栋群) linked to the building, for notices."""

    __tablename__ = "group_chats"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


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


# --- notices ------------------------------------------------------------------------------


class Audience(str, enum.Enum):
    residents = "residents"  # every person with a household within the place
    building_leaders = "building_leaders"  # the leaders of buildings within the place
    group_chat = "group_chat"  # a building's linked group chat


class Notice(Timestamped, Base):
    """A notice a volunteer, building leader, grid worker or admin sends to a place. Its messages
    are in the outbox (source "notice:ID"), which says how far delivery has come."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    audience: Mapped[Audience] = mapped_column(Enum(Audience, native_enum=False, length=20))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    group_chat_id: Mapped[int | None] = mapped_column(ForeignKey("group_chats.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    # Sent as a party-member volunteer: the notice carries the badge (党员亮身份).
    party_badge: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeAcknowledgement(Base):
    """A recipient said 收到 (received)."""

    __tablename__ = "notice_acknowledgements"
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- conversations ------------------------------------------------------------------------


class ProcessedUpdate(Base):
    """Updates already handled, written in the same transaction as their effects: a redelivered
    update is dropped after success and handled again after a crash. The key is Telegram's
    update id, or WeChat's MsgId (or sender and time, for events)."""

    __tablename__ = "processed_updates"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Conversation(Base):
    """Where a person is in a conversation on one chat, in the database so that it survives a
    restart and every worker sees it: the step they are on, its data, and the options last
    offered (so that "2" or an option's words choose it on a channel without buttons)."""

    __tablename__ = "conversations"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    options: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# --- delivery -----------------------------------------------------------------------------


class DeliveryStatus(str, enum.Enum):
    """pending → sending (claimed by a sender) → sent, failed, or back to pending (retry later).
    `waiting` is for channels that may only write to a person inside a window (WeChat's 48
    hours after their last message): such a row waits for the person instead of failing."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"
    waiting = "waiting"


class DeliveryPriority(enum.IntEnum):
    """Lower goes first: a report's new status is not queued behind a city-wide notice."""

    personal = 0
    bulk = 1


class OutboxMessage(Timestamped, Base):
    """Something the bot says on its own (a notice, a report's new status, a vote reminder),
    stored once however many receive it. `source` names what caused it ("notice:17"), so
    progress and cancellation find all of its deliveries through one index."""

    __tablename__ = "outbox_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    # bot.replies.reply_to_json: texts are message ids, rendered at send time per recipient.
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)


class OutboxDelivery(Base):
    """One message to one chat on one channel, written in the transaction that caused it.

    `claimed_by`/`claimed_at` is a lease: a sender renews it while it holds the row, and rows
    left `sending` by a sender that died go back to `pending` when the lease runs out. Those
    rows are the only ones that can be sent twice.
    """

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        # The claim: pending rows of one channel and priority, due first; also finds the rows
        # a sender holds (status 'sending') for its lease.
        Index("ix_outbox_deliveries_due", "status", "channel", "priority", "not_before", "id"),
        # Progress and cancellation of a message: counts by status without reading the rows.
        Index("ix_outbox_deliveries_message_status", "message_id", "status"),
    )
    # A city-wide notice is 120,000 rows; a national deployment outgrows 32 bits.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    # The person reached (their language is read at send time); None for a group chat.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    priority: Mapped[int] = mapped_column(SmallInteger, default=DeliveryPriority.bulk)
    status: Mapped[DeliveryStatus] = mapped_column(Enum(DeliveryStatus, native_enum=False, length=20), default=DeliveryStatus.pending)
    # Failed attempts so far (network errors, server errors); a flood wait does not count.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Not sent before this time: a scheduled notice, a retry's backoff, a chat's own rate.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(200))


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
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- linking channels, WeChat -------------------------------------------------------------


class LinkCode(Base):
    """A short-lived code that /me shows, to be typed on another channel: that channel's
    identity then joins this person. One code per person; showing /me again replaces it."""

    __tablename__ = "link_codes"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WeChatAccessToken(Base):
    """The Official Account's access token, shared by every worker (when Redis is not configured):
    WeChat allows one valid token at a time, so a worker fetching its own would cut off the others.
    `refreshing_until` is a lease: the worker that sets it fetches the new token, the others wait."""

    __tablename__ = "wechat_access_tokens"
    app_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(String(512))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshing_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- questions ----------------------------------------------------------------------------


class QuestionStatus(str, enum.Enum):
    """self_served: an FAQ entry or a past answer answered it, no person was needed.
    waiting (in its grid's queue) → claimed (a grid worker or admin holds it, answers go back and
    forth) → closed; or withdrawn by the resident while waiting or claimed."""

    self_served = "self_served"
    waiting = "waiting"
    claimed = "claimed"
    closed = "closed"
    withdrawn = "withdrawn"


OPEN_QUESTION_STATUSES = ("waiting", "claimed")


class FaqEntry(Timestamped, Base):
    """A question with its answer, offered to residents who ask alike. Written by an admin in
    /faq or made from a good answer by the grid worker who gave it; valid within its community."""

    __tablename__ = "faq_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class Question(Timestamped, Base):
    """A resident's question to the grid workers of their building's grid (`grid_id`: the place of
    the grid worker role covering the building, else the community). The queue is the waiting
    questions of a grid, oldest first; `created_at` to `first_answered_at` is the waiting time."""

    __tablename__ = "questions"
    __table_args__ = (
        # The queue: a grid's waiting questions, oldest first.
        Index("ix_questions_queue", "status", "grid_id", "created_at", "id"),
        # One open question per resident: follow-ups have one place to go.
        Index(
            "uq_questions_open_per_person", "person_id", unique=True,
            sqlite_where=text("status IN ('waiting', 'claimed')"), postgresql_where=text("status IN ('waiting', 'claimed')"),
        ),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[QuestionStatus] = mapped_column(Enum(QuestionStatus, native_enum=False, length=20))
    # Self-service: what answered it (an FAQ entry, or an earlier question's answer).
    faq_entry_id: Mapped[int | None] = mapped_column(ForeignKey("faq_entries.id", ondelete="SET NULL"))
    answered_by_question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id", ondelete="SET NULL"))
    # Transferred to, or escalated to, the community's administrators: in their queue as well.
    for_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who answered first, for the figures (the holder may change by transfer afterwards).
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(SmallInteger)


class QuestionMessage(Timestamped, Base):
    """One message of a question's thread: the resident's details and follow-ups, the answers."""

    __tablename__ = "question_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    from_resident: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(200))


# --- reports ------------------------------------------------------------------------------


class ReportStatus(str, enum.Enum):
    """A work order's life, after the 12345 hotline practice (bot/services/reports.py holds the
    one table of who moves it where). Open: submitted, assigned, accepted, in_progress."""

    submitted = "submitted"  # 受理: saved, no grid worker covers the building yet
    assigned = "assigned"  # 派单: a grid worker is named as handler
    accepted = "accepted"  # 签收: the handler took it on
    in_progress = "in_progress"  # 办理: progress notes, or reopened by the reporter
    resolved = "resolved"  # 办结待确认: done, the reporter is asked "solved?"
    closed = "closed"  # the reporter confirmed, or did not answer within the follow-up days
    rejected = "rejected"  # 退单: with a reason (not our responsibility, duplicate)


OPEN_REPORT_STATUSES = (ReportStatus.submitted, ReportStatus.assigned, ReportStatus.accepted, ReportStatus.in_progress)


class ReportAction(str, enum.Enum):
    """What a history entry records: a move between statuses or an event that keeps the status."""

    submitted = "submitted"
    assigned = "assigned"
    accepted = "accepted"
    progress = "progress"
    resolved = "resolved"
    confirmed = "confirmed"
    rejected = "rejected"
    reopened = "reopened"
    recategorised = "recategorised"
    transferred = "transferred"
    supported = "supported"  # a +1
    rated = "rated"
    reminded = "reminded"  # the handler was reminded before the deadline
    escalated = "escalated"  # 催办: past the deadline, the admins were told
    expired = "expired"  # closed after the follow-up days without an answer


class Report(Timestamped, Base):
    """A problem report (工单). Everything the monthly figures need is a column here, so
    they are one query over this table: when it came (created_at) and to which category, grid
    and community; when it was accepted, resolved and closed; its deadline; its rating.
    What happened in between is in report_events. The figures can read, for example: responded
    in time (响应率) `accepted_at <= deadline`; resolved (解决率) `status = 'closed'` (a rejected
    report has status 'rejected'; both have `closed_at`); satisfied (满意率) `rating >= 4` among
    the rated. A reopened report keeps its first `accepted_at` and gets a new deadline."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        # The handler's list and the sweeps: open reports by status and deadline.
        Index("ix_reports_status_deadline", "status", "deadline"),
        # Duplicates: open reports of one category in a compound.
        Index("ix_reports_compound_category_status", "compound_id", "category", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # The category code (bot/data/categories.toml); `routed_category` is the engine's first
    # proposal, so how often residents and grid workers change it can be counted.
    category: Mapped[str] = mapped_column(String(40))
    routed_category: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[ReportStatus] = mapped_column(Enum(ReportStatus, native_enum=False, length=20), default=ReportStatus.submitted)
    # Raised by every +1 (report_supporters): handlers see the most supported first among equals.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # Where: the building of the reporter's household, with its compound and community.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"), index=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"), index=True)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    location_label: Mapped[str] = mapped_column(String(200), default="")
    # Photos as the channel keeps them: [{"channel": "telegram", "file_id": "..."}]; an album is one report.
    photos: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The grid worker handling it, and the place of the grant that made them the handler (the
    # grid, for figures per grid); None while no grid worker covers the building.
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    grid_place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"), index=True)
    # The deadline (created_at + the category's hours), and when the handler is reminded.
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    remind_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Marks of the sweeps, written with their messages: a restart neither loses nor repeats them.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first acceptance: the response time
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest resolution
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closed or rejected
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # 1-5, the reporter's 回访


class ReportSupporter(Timestamped, Base):
    """A resident who said "same problem (+1)": told of every change, like the reporter."""

    __tablename__ = "report_supporters"
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True)


class ReportEvent(Timestamped, Base):
    """The history of a report: who did what, when, with which note and photo."""

    __tablename__ = "report_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))  # None: the bot (a sweep)
    action: Mapped[ReportAction] = mapped_column(Enum(ReportAction, native_enum=False, length=20))
    from_status: Mapped[ReportStatus | None] = mapped_column(Enum(ReportStatus, native_enum=False, length=20))
    to_status: Mapped[ReportStatus] = mapped_column(Enum(ReportStatus, native_enum=False, length=20))
    note: Mapped[str] = mapped_column(Text, default="")
    photo_channel: Mapped[str | None] = mapped_column(String(20))
    photo_file_id: Mapped[str | None] = mapped_column(String(200))


# --- plans --------------------------------------------------------------------------------


class PlanStatus(str, enum.Enum):
    """draft → notice (公示, residents may object) → notice_ended (the admin has the summary)
    → adopted (works follow, item by item) → closed."""

    draft = "draft"
    notice = "notice"
    notice_ended = "notice_ended"
    adopted = "adopted"
    closed = "closed"


class ItemClass(str, enum.Enum):
    """The national classes of renovation contents."""

    basic = "basic"  # 基础类: water, power, roads, roofs
    improvement = "improvement"  # 完善类: elevators, parking, greening
    upgrade = "upgrade"  # 提升类: elderly care, childcare, community services


class ItemStatus(str, enum.Enum):
    """planned → in_works → completed (residents asked: 完工确认) → accepted or not_accepted."""

    planned = "planned"
    in_works = "in_works"
    completed = "completed"
    accepted = "accepted"
    not_accepted = "not_accepted"


class Plan(Timestamped, Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[PlanStatus] = mapped_column(Enum(PlanStatus, native_enum=False, length=20), default=PlanStatus.draft)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The notice sweep reads this index: plans in notice whose period has run out.
    notice_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items: Mapped[list[PlanItem]] = relationship(back_populates="plan", order_by="PlanItem.position", cascade="all, delete-orphan")


class PlanItem(Base):
    __tablename__ = "plan_items"
    __table_args__ = (
        UniqueConstraint("plan_id", "position"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the plan, as people refer to items
    item_class: Mapped[ItemClass] = mapped_column(Enum(ItemClass, native_enum=False, length=20))
    category: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Yuan, exact; the budget is the four parts' sum.
    funding_government: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    funding_utility: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    funding_residents: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    funding_others: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ItemStatus] = mapped_column(Enum(ItemStatus, native_enum=False, length=20), default=ItemStatus.planned)
    progress: Mapped[int] = mapped_column(SmallInteger, default=0)
    # The acceptance sweep reads this index: completed items whose residents had their time.
    acceptance_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    plan: Mapped[Plan] = relationship(back_populates="items")
    buildings: Mapped[list[PlanItemBuilding]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def budget(self) -> Decimal:
        return self.funding_government + self.funding_utility + self.funding_residents + self.funding_others


class PlanItemBuilding(Base):
    """A building an item affects: its residents get works notices and confirm completion."""

    __tablename__ = "plan_item_buildings"
    item_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True, index=True)


class FeedbackKind(str, enum.Enum):
    objection = "objection"
    comment = "comment"


class PlanFeedback(Timestamped, Base):
    """An objection (异议) or comment on a plan in notice, and the admin's answer."""

    __tablename__ = "plan_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    kind: Mapped[FeedbackKind] = mapped_column(Enum(FeedbackKind, native_enum=False, length=20))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProgressPost(Timestamped, Base):
    """Works progress on an item: a percentage, a note, perhaps a photo."""

    __tablename__ = "plan_progress_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    progress: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    photo_file_id: Mapped[str | None] = mapped_column(String(200))


class AcceptanceAnswer(Timestamped, Base):
    """A resident's 完工确认 of a completed item: done or not, a rating, a note. One per
    person and item. A "not done" answer opens a problem report linked to the item; the
    report's id is kept here once the reports feature has opened it."""

    __tablename__ = "plan_acceptance_answers"
    __table_args__ = (CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_1_to_5"),)
    item_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    done: Mapped[bool] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    report_id: Mapped[int | None] = mapped_column(Integer)


class PlanMute(Base):
    """A resident who no longer wants a plan's progress and works notices (they follow their
    compound's plan until they mute it)."""

    __tablename__ = "plan_mutes"
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)


class FloorCoefficient(Base):
    """A building's own cost coefficient for a floor; a building without rows uses the default."""

    __tablename__ = "floor_coefficients"
    building_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), primary_key=True)
    floor: Mapped[int] = mapped_column(Integer, primary_key=True)
    coefficient: Mapped[Decimal] = mapped_column(Numeric(4, 2))


class ShareStatus(str, enum.Enum):
    open = "open"
    pledged = "pledged"  # 认缴
    disputed = "disputed"


class CostShare(Base):
    """A household's share of an item's residents' part, with what it was computed from, so
    the household can see how (coefficient × area × price)."""

    __tablename__ = "cost_shares"
    __table_args__ = (UniqueConstraint("item_id", "household_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("plan_items.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    floor: Mapped[int] = mapped_column(Integer)
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    coefficient: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    price_per_m2: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[ShareStatus] = mapped_column(Enum(ShareStatus, native_enum=False, length=20), default=ShareStatus.open)
    note: Mapped[str] = mapped_column(Text, default="")  # why it is disputed
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- votes --------------------------------------------------------------------------------


class VoteKind(str, enum.Enum):
    consultation = "consultation"  # 征求意见: approve up to K of N items; the result ranks them
    decision = "decision"  # 表决: agree / disagree / abstain on a proposal, counted under the Civil Code


class BallotChannel(str, enum.Enum):
    online = "online"
    paper = "paper"  # recorded by a building leader, with a photo of the signed form


class Vote(Timestamped, Base):
    """A vote of the households within a place (a compound, building or unit). It is open from
    `opens_at` to `closes_at`; the sweeps announce the opening (`opened_at`), remind, and
    publish the result at the close (`closed_at`), each marked in the transaction that does it."""

    __tablename__ = "votes"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("max_choices >= 1", name="max_choices_positive"),
        Index("ix_votes_due", "closed_at", "closes_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[VoteKind] = mapped_column(Enum(VoteKind, native_enum=False, length=20))
    title: Mapped[str] = mapped_column(String(200))
    explanation: Mapped[str] = mapped_column(Text, default="")
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # bot.services.vote_counting: a rule's name and its thresholds as written ("2/3", ">1/2").
    rule: Mapped[str] = mapped_column(String(30), default="civil-code-major")
    participation: Mapped[str] = mapped_column(String(20), default="2/3")
    consent: Mapped[str] = mapped_column(String(20), default="3/4")
    max_choices: Mapped[int] = mapped_column(Integer, default=1)  # K of a consultation; 1 for a decision
    tenants_vote: Mapped[bool] = mapped_column(Boolean, default=False)
    live_results: Mapped[bool] = mapped_column(Boolean, default=False)  # otherwise only turnout until the close
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the opening was announced
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the result was published


class VoteOption(Base):
    """A consultation's item, or one of a decision's 同意 / 不同意 / 弃权 (`choice` set)."""

    __tablename__ = "vote_options"
    __table_args__ = (UniqueConstraint("vote_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # from 1, as shown
    label: Mapped[str] = mapped_column(String(200))
    choice: Mapped[str | None] = mapped_column(String(10))  # vote_counting.Choice of a decision's option


class Ballot(Base):
    """A household's vote: one per household and vote, whichever member casts it, enforced by
    the unique constraint; casting again replaces its choices (the last one counts)."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("vote_id", "household_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"), index=True)
    channel: Mapped[BallotChannel] = mapped_column(Enum(BallotChannel, native_enum=False, length=10))
    cast_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))  # the member voting online
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))  # the leader, for paper
    photo_file_id: Mapped[str | None] = mapped_column(String(200))  # the signed form
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BallotChoice(Base):
    """An option a ballot chose: one for a decision, up to K for a consultation."""

    __tablename__ = "ballot_choices"
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("vote_options.id", ondelete="CASCADE"), primary_key=True, index=True)


class VoteReminder(Base):
    """A reminder sent `days_before` the close: the row is written with its messages, so a
    restart neither loses nor repeats one."""

    __tablename__ = "vote_reminders"
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), primary_key=True)
    days_before: Mapped[int] = mapped_column(Integer, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
