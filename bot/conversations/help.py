"""/help (帮助): what this person can do here, which depends on their roles and the chat;
/cancel (取消): leave whatever step the person is on."""

from __future__ import annotations

from bot.conversations.feature import Command, Feature, MenuSection, Where
from bot.conversations.profile import role_name
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Reply, Response, Text
from bot.services import access
from storage.models import Role


async def show_help(turn: Turn, args: str = "") -> Response:
    from bot.conversations.registry import COMMANDS  # the registry lists this feature too

    roles = {grant.role for grant in await access.roles_of(turn.session, turn.person.id)}
    where = Where.group if turn.in_group else Where.private
    lines: list[Text] = [
        L("/{command} or {word} — {description}", command=c.name, word=c.words[0], description=L(c.description))
        for c in COMMANDS
        if c.offered_to(roles) and c.where in (where, Where.anywhere)
    ]
    if roles and not turn.in_group:
        ordered = sorted(roles, key=list(Role).index)
        lines += ["", L("Your roles: {roles}", roles=Lines([role_name(r) for r in ordered], separator=L(", ")))]
    if Role.admin in roles and not turn.in_group:
        lines.append(
            L(
                "As a community administrator you import households, print invite codes and grant roles "
                "with the gongjian command line (gongjian import, gongjian invite, gongjian grant)."
            )
        )
    lines += ["", L("You can write in Chinese or English. Send /lang to switch.")]
    return Response.of(Reply(Lines(lines), title=L("What you can do")))


async def cancel(turn: Turn, args: str = "") -> Response:
    await turn.clear()
    return Response.of(Reply(L("Stopped. Send /help to see what you can do.")))


FEATURE = Feature(
    "help",
    commands=(
        Command("help", ("帮助", "菜单", "help"), N_("What you can do here"), show_help, section=MenuSection.help),
        Command("cancel", ("取消", "cancel"), N_("Stop what you are doing"), cancel, Where.private, section=MenuSection.help),
    ),
)
