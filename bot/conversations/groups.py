"""In a building's group chat: linking the group to its building (/link, 绑定楼栋)."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversations.feature import Command, Feature, Where
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Link, Reply, Response
from bot.services import group_chats, invites, places
from bot.services.errors import DomainError
from storage.models import InviteCode, InviteKind, PlaceKind, Role


async def link(turn: Turn, args: str) -> Response:
    if not turn.in_group:
        return Response.of(Reply(L("Send /link in your building's group chat, after adding me to it.")))
    code = invites.normalize_code(args)
    if code:
        building_id = await turn.session.scalar(select(InviteCode.place_id).where(InviteCode.code == code, InviteCode.kind == InviteKind.building))
        building = await places.get_place(turn.session, building_id, PlaceKind.building) if building_id else None
        if building is None:
            return Response.of(Reply(L("That is not a building's invite code. Use the code on your stairwell's poster.")))
    else:
        led = await group_chats.led_buildings(turn.session, turn.person.id)
        if len(led) != 1:
            return Response.of(Reply(L("Which building is this group for? Send /link followed by the building's invite code from the stairwell poster.")))
        building = led[0]
    try:
        await group_chats.link(turn.session, turn.actor, turn.chat_id, turn.chat_title, building)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    name = await places.place_name(turn.session, building.id) or building.name
    return Response.of(Reply(L("This group is now linked to {building}. Notices for the building can be posted here.", building=name)))


def private_only(turn: Turn) -> Response:
    """What a group hears when someone uses there what belongs in a private chat."""
    url = turn.channel.private_chat_link
    return Response.of(
        Reply(
            L("Let us talk about that in a private chat, where your household stays private."),
            link=Link(L("Open a private chat"), url) if url else None,
        )
    )


FEATURE = Feature(
    "groups",
    commands=(Command("link", ("绑定楼栋", "link"), N_("Link this group chat to its building"), link, Where.group, frozenset({Role.admin, Role.building_leader})),),
)
