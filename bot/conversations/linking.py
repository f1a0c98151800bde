"""Linking this chat to the person's account on another channel (绑定 CODE, /bind CODE), with the
code that /me (我的) shows there."""

from __future__ import annotations

from bot.conversations.feature import Command, Feature, MenuSection, Where
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Reply, Response
from bot.services import linking
from bot.services.errors import DomainError

WAITING_CODE = "linking.code"


async def bind(turn: Turn, args: str) -> Response:
    if not args.strip():
        await turn.set_step(WAITING_CODE)
        return Response.of(Reply(L("Type the code that /me (我的) shows on your other channel:")))
    return await link(turn, args)


async def link(turn: Turn, code: str) -> Response:
    await turn.clear()  # this chat's state belongs to the person about to be merged away
    try:
        person = await linking.link(turn.session, code, turn.person, turn.channel.name)
    except linking.AlreadyLinked as error:
        return Response.of(Reply(error.text()))
    except DomainError as error:
        await turn.set_step(WAITING_CODE)  # a mistyped code: type it again
        return Response.of(Reply(error.text()))
    turn.person = person
    turn.locale = person.reading_locale(turn.locale)
    return Response.of(
        Reply(L("Linked: this chat now belongs to the same account as the one that showed the code, with the same households and roles. Send /me to see them."))
    )


FEATURE = Feature(
    "linking",
    commands=(Command("bind", ("绑定", "bind"), N_("Link this chat to your account on another channel (WeChat, Telegram)"), bind, Where.private, section=MenuSection.mine),),
    steps={WAITING_CODE: link},
    answers=frozenset({WAITING_CODE}),
)
