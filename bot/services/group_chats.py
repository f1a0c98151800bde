"""A building's group chat (楼栋群), linked to the building so notices can be posted there."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import access, audit, places
from storage.models import GroupChat, Place, PlaceKind, Role, RoleGrant


async def link(session: AsyncSession, actor: audit.Actor, chat_id: str, title: str, building: Place) -> None:
    """Link the chat to the building (a chat serves one building; linking again moves it)."""
    await access.require(session, actor, access.Permission.link_group_chat, building)
    group = await session.scalar(select(GroupChat).where(GroupChat.channel == actor.channel, GroupChat.chat_id == chat_id))
    if group is None:
        session.add(GroupChat(channel=actor.channel, chat_id=chat_id, title=title[:200], place_id=building.id, linked_by=actor.person_id))
    else:
        group.place_id, group.title, group.linked_by = building.id, title[:200], actor.person_id
    await audit.record(session, actor, "link_group_chat", f"building:{building.id}", chat=chat_id)


async def led_buildings(session: AsyncSession, person_id: int) -> list[Place]:
    """The buildings this person leads."""
    return list(
        await session.scalars(
            select(Place)
            .join(RoleGrant, RoleGrant.place_id == Place.id)
            .where(RoleGrant.person_id == person_id, RoleGrant.role == Role.building_leader, Place.kind == PlaceKind.building)
        )
    )


async def building_of_chat(session: AsyncSession, channel: str, chat_id: str) -> str | None:
    place_id = await session.scalar(select(GroupChat.place_id).where(GroupChat.channel == channel, GroupChat.chat_id == chat_id))
    return await places.place_name(session, place_id) if place_id is not None else None
