"""The bot's commands, once: slash names, the words people type instead (加入, 我的 ...),
where each may be used, and who sees it. Telegram's menu, /help, the text dispatcher and
WeChat's custom menu are all made from this list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from bot.conversations import groups, linking, onboarding, profile
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Reply, Response, Text
from bot.services import access
from storage.models import Role

Flow = Callable[[Turn, str], Awaitable[Response]]


class Where(Enum):
    private = "private"  # shows a person's household or asks for it: never in a group
    group = "group"
    anywhere = "anywhere"


@dataclass(frozen=True)
class Command:
    name: str
    words: tuple[str, ...]  # typed without a slash, in any language the bot speaks
    description: str  # a message id
    flow: Flow
    where: Where = Where.anywhere
    roles: frozenset[Role] = frozenset()  # shown to these roles only; empty: everyone

    def offered_to(self, roles: set[Role]) -> bool:
        return not self.roles or bool(self.roles & roles)


async def show_help(turn: Turn, args: str = "") -> Response:
    grants = await access.roles_of(turn.session, turn.person.id)
    roles = {grant.role for grant in grants}
    where = Where.group if turn.in_group else Where.private
    lines: list[Text] = [
        L("/{command} or {word} — {description}", command=c.name, word=c.words[0], description=L(c.description))
        for c in COMMANDS
        if c.offered_to(roles) and c.where in (where, Where.anywhere)
    ]
    if roles and not turn.in_group:
        ordered = sorted(roles, key=list(Role).index)
        lines += ["", L("Your roles: {roles}", roles=Lines([profile.role_name(r) for r in ordered], separator=L(", ")))]
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


COMMANDS: tuple[Command, ...] = (
    Command("start", ("加入", "开始", "join"), N_("Join your household with an invite code"), onboarding.start, Where.private),
    Command("me", ("我的", "me"), N_("Your households and roles"), profile.me, Where.private),
    Command("lang", ("语言", "language"), N_("中文 / English"), profile.lang),
    Command("help", ("帮助", "菜单", "help"), N_("What you can do here"), show_help),
    Command("cancel", ("取消", "cancel"), N_("Stop what you are doing"), cancel, Where.private),
    Command("bind", ("绑定", "bind"), N_("Link this chat to your account on another channel (WeChat, Telegram)"), linking.bind, Where.private),
    Command("link", ("绑定楼栋", "link"), N_("Link this group chat to its building"), groups.link, Where.group, frozenset({Role.admin, Role.building_leader})),
)
BY_NAME = {command.name: command for command in COMMANDS}
BY_WORD = {word.casefold(): command for command in COMMANDS for word in command.words}


def find(text: str) -> tuple[Command, str] | None:
    """The command a message asks for, with its arguments: "/start K7MQ2XPA", "加入 K7MQ2XPA",
    "我的". Slash names may carry a bot's @name, which the channel has checked already."""
    head, _, args = text.strip().partition(" ")
    if head.startswith("/"):
        command = BY_NAME.get(head[1:].split("@", 1)[0].lower())
    else:
        command = BY_WORD.get(head.casefold())
    return (command, args.strip()) if command else None


async def run(turn: Turn, command: Command, args: str) -> Response:
    if command.where is Where.private and turn.in_group:
        return groups.private_only(turn)
    return await command.flow(turn, args)


def unknown() -> Response:
    return Response.of(Reply(L("I do not know that command. Send /help to see what you can do.")))

