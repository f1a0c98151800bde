"""/me (households and roles) and /lang (中文 or English)."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import _, normalize_locale, set_locale
from bot.services import access, people, places
from handlers.callbacks import LanguageChoice
from handlers.feature_router import FeatureRouter
from handlers.keyboards import language_keyboard
from handlers.render import address_line, grant_line
from storage.models import Person, PlaceKind

router = FeatureRouter("profile")


@router.message(Command("me"))
async def show_me(message: Message, session: AsyncSession, person: Person) -> None:
    lines = [_("<b>Your households</b>")]
    memberships = await people.memberships_of(session, person.id)
    for membership in memberships:
        status = _("verified") if membership.verified else _("not yet verified")
        lines.append("• " + address_line(membership.address) + " (" + status + ")")
    if not memberships:
        lines.append(_("You have not joined a household yet. Send /start and type the invite code from your stairwell."))
    grants = await access.roles_of(session, person.id)
    if grants:
        lines += ["", _("<b>Your roles</b>")]
        for grant in grants:
            name = await places.place_name(session, PlaceKind(grant.scope.kind.value), grant.scope.id) or str(grant.scope)
            lines.append("• " + grant_line(grant, name))
    await message.answer("\n".join(lines))


@router.message(Command("lang"))
async def choose_language(message: Message, command: CommandObject, session: AsyncSession, person: Person) -> None:
    locale = normalize_locale(command.args.strip()) if command.args else None
    if locale is None:
        await message.answer(_("Choose your language:"), reply_markup=language_keyboard())
        return
    await _switch(session, person, locale)
    await message.answer(_("Language set to English."))


@router.callback_query(LanguageChoice.filter())
async def language_chosen(query: CallbackQuery, callback_data: LanguageChoice, session: AsyncSession, person: Person) -> None:
    locale = normalize_locale(callback_data.locale) or "zh_CN"
    await _switch(session, person, locale)
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Language set to English."))


async def _switch(session: AsyncSession, person: Person, locale: str) -> None:
    await people.set_locale(session, person, locale)
    set_locale(locale)  # answer in the new language at once
