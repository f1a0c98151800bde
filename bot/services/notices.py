"""Notices: volunteers, building leaders, grid workers and admins write to the residents of a
place, to its building leaders, or to a building's group chat; the messages go through the
outbox, in the transaction that saves the notice; recipients acknowledge (收到)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import outbox
from bot.i18n import N_
from bot.replies import L, Msg, Reply
from bot.services import access, audit, places
from bot.services.errors import DomainError
from storage.db import upsert_insert
from storage.models import Audience, GroupChat, Household, Membership, Notice, NoticeAcknowledgement, Person, Place, PlaceKind, Role, RoleGrant, utcnow

NO_SUCH_NOTICE = N_("This notice is not yours to follow, or no longer exists.")
NOT_YOUR_AUDIENCE = N_("You cannot send notices there.")
MAX_TEXT_LENGTH = 3000  # a Telegram caption holds 1024, a message 4096; with the title it fits one message
MAX_CHILD_OPTIONS = 20  # places offered inside a larger one; beyond that, the larger one only


@dataclass(frozen=True)
class AudienceChoice:
    audience: Audience
    place_id: int
    group_chat_id: int | None
    label: Msg

    @property
    def target_id(self) -> int:
        return self.group_chat_id or self.place_id


async def _sender_places(session: AsyncSession, actor: audit.Actor) -> list[Place]:
    if actor.person_id is None:
        return []
    return list(
        await session.scalars(
            select(Place)
            .join(RoleGrant, RoleGrant.place_id == Place.id)
            .where(RoleGrant.person_id == actor.person_id, RoleGrant.role.in_(access.ALLOWED[access.Permission.send_notice]))
            .distinct()
            .order_by(Place.id)
        )
    )


async def audiences(session: AsyncSession, actor: audit.Actor) -> list[AudienceChoice]:
    """Where this person may send notices: the places their roles cover, the places one level
    inside (a compound's buildings, a building's units), their building leaders, and the
    buildings' linked group chats."""
    choices: list[AudienceChoice] = []
    for place in await _sender_places(session, actor):
        name = await places.place_name(session, place.id) or place.name
        choices.append(AudienceChoice(Audience.residents, place.id, None, L("Residents of {place}", place=name)))
        children = list(await session.scalars(select(Place).where(Place.parent_id == place.id).order_by(Place.id).limit(MAX_CHILD_OPTIONS + 1)))
        if len(children) <= MAX_CHILD_OPTIONS:
            choices += [AudienceChoice(Audience.residents, c.id, None, L("Residents of {place}", place=f"{place.name} {c.name}")) for c in children]
        if place.kind is not PlaceKind.building:
            choices.append(AudienceChoice(Audience.building_leaders, place.id, None, L("Building leaders in {place}", place=name)))
        groups = await session.scalars(
            select(GroupChat).join(Place, Place.id == GroupChat.place_id).where(or_(Place.id == place.id, places.within(place, Place))).limit(MAX_CHILD_OPTIONS)
        )
        choices += [AudienceChoice(Audience.group_chat, g.place_id, g.id, L("Group chat {title}", title=g.title or str(g.chat_id))) for g in groups]
    unique = {(c.audience, c.target_id): c for c in choices}
    return list(unique.values())


def _people(audience: Audience, place: Place) -> Select[tuple[int]]:
    if audience is Audience.building_leaders:
        return (
            select(RoleGrant.person_id)
            .join(Place, Place.id == RoleGrant.place_id)
            .where(RoleGrant.role == Role.building_leader, or_(Place.id == place.id, places.within(place, Place)))
            .distinct()
        )
    return select(Membership.person_id).join(Household, Household.id == Membership.household_id).where(places.within(place)).distinct()


async def _recipients(session: AsyncSession, choice: AudienceChoice) -> list[outbox.Recipient]:
    if choice.audience is Audience.group_chat:
        group = await session.get(GroupChat, choice.group_chat_id)
        return [outbox.Recipient(group.channel, group.chat_id)] if group else []
    place = await session.get(Place, choice.place_id)
    assert place is not None
    return await outbox.recipients(session, _people(choice.audience, place))


async def choose(session: AsyncSession, actor: audit.Actor, audience: Audience, target_id: int) -> AudienceChoice:
    """The audience an option names, checked again: an option's ids can be forged."""
    for choice in await audiences(session, actor):
        if choice.audience is audience and choice.target_id == target_id:
            return choice
    raise access.PermissionDenied(NOT_YOUR_AUDIENCE)


async def count_recipients(session: AsyncSession, choice: AudienceChoice) -> int:
    return len(await _recipients(session, choice))


async def send(
    session: AsyncSession,
    actor: audit.Actor,
    choice: AudienceChoice,
    text: str,
    message: Callable[[Notice, str], Reply],
    *,
    photo_file_id: str | None = None,
    send_at: datetime | None = None,
) -> Notice:
    """Save the notice and queue its messages (`message(notice, author's name)`, what each
    recipient reads), in the caller's transaction."""
    place = await session.get(Place, choice.place_id)
    assert place is not None and actor.person_id is not None
    await access.require(session, actor, access.Permission.send_notice, place)
    recipients = await _recipients(session, choice)
    volunteer = await access.holds_role(session, actor, Role.volunteer, place)
    notice = Notice(
        author_id=actor.person_id, audience=choice.audience, place_id=place.id, group_chat_id=choice.group_chat_id,
        text=text[:MAX_TEXT_LENGTH], photo_file_id=photo_file_id, party_badge=volunteer, recipients=len(recipients), send_at=send_at or utcnow(),
    )
    session.add(notice)
    await session.flush()
    author = await session.get(Person, actor.person_id)
    await outbox.enqueue(session, recipients, message(notice, author.display_name if author else ""), source=_source(notice.id), not_before=send_at)
    await audit.record(session, actor, "send_notice", f"notice:{notice.id}", recipients=len(recipients))
    return notice


def _source(notice_id: int) -> str:
    return f"notice:{notice_id}"


async def acknowledge(session: AsyncSession, person_id: int, notice_id: int) -> bool:
    """Record 收到; True the first time."""
    if await session.get(Notice, notice_id) is None:
        raise DomainError(NO_SUCH_NOTICE)
    insert = upsert_insert(session)
    result = await session.execute(
        insert(NoticeAcknowledgement).values(notice_id=notice_id, person_id=person_id, acknowledged_at=utcnow()).on_conflict_do_nothing()
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class NoticeStatus:
    notice: Notice
    progress: outbox.Progress
    acknowledged: int


async def _followed(session: AsyncSession, actor: audit.Actor, notice_id: int) -> Notice:
    """A notice its author, or an admin over its place, may follow and cancel."""
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise DomainError(NO_SUCH_NOTICE)
    if notice.author_id != actor.person_id:
        place = await session.get(Place, notice.place_id)
        if place is None or not await access.is_allowed(session, actor, access.Permission.manage_roles, place):
            raise DomainError(NO_SUCH_NOTICE)
    return notice


async def status(session: AsyncSession, actor: audit.Actor, notice_id: int) -> NoticeStatus:
    notice = await _followed(session, actor, notice_id)
    acknowledged = await session.scalar(select(func.count()).where(NoticeAcknowledgement.notice_id == notice.id))
    return NoticeStatus(notice, await outbox.progress(session, _source(notice.id)), acknowledged or 0)


async def recent(session: AsyncSession, actor: audit.Actor, limit: int = 5) -> list[NoticeStatus]:
    ids = list(await session.scalars(select(Notice.id).where(Notice.author_id == actor.person_id).order_by(Notice.id.desc()).limit(limit)))
    return [await status(session, actor, notice_id) for notice_id in ids]


async def cancel(session: AsyncSession, actor: audit.Actor, notice_id: int) -> int:
    """Stop what is not sent yet; returns how many messages were stopped."""
    notice = await _followed(session, actor, notice_id)
    stopped = await outbox.cancel(session, _source(notice.id))
    await audit.record(session, actor, "cancel_notice", f"notice:{notice.id}", stopped=stopped)
    return stopped
