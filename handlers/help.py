"""/help: what this person can do, which depends on their roles."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _
from bot.services import access
from handlers.commands import commands_for
from handlers.feature_router import FeatureRouter
from handlers.render import role_name
from storage.models import Person, Role

router = FeatureRouter("help")


@router.message(Command("help"))
async def show_help(message: Message, session: AsyncSession, person: Person) -> None:
    grants = await access.roles_of(session, person.id)
    roles = {grant.role for grant in grants}
    lines = [_("<b>What you can do</b>")]
    lines += ["/" + command.name + " — " + _(command.description) for command in commands_for(roles)]
    if roles:
        lines += ["", _("Your roles: {roles}").format(roles=", ".join(role_name(r) for r in sorted(roles, key=list(Role).index)))]
    if Role.admin in roles:
        lines.append(
            _(
                "As a community administrator you import households, print invite codes and grant roles "
                "with the gongjian command line (gongjian import, gongjian invite, gongjian grant)."
            )
        )
    lines += ["", _("You can write in Chinese or English. Send /lang to switch.")]
    await message.answer("\n".join(lines))
