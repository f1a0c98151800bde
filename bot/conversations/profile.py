"""Your households and roles (/me, 我的), with the code that links another channel, and your
language (/lang, 语言)."""

from __future__ import annotations

from bot.conversations.feature import STALE_CHOICE, Command, Feature, MenuSection, Where
from bot.conversations.onboarding import address_text
from bot.conversations.payloads import LanguageChoice
from bot.conversations.turn import Turn
from bot.i18n import N_, normalize_locale
from bot.replies import L, Lines, Msg, Option, Reply, Response, Text
from bot.services import access, linking, people
from storage.models import Role

LANGUAGE_SET = L("Language set to English.")


def role_name(role: Role) -> Msg:
    return access.ROLE_NAMES[role]


async def me(turn: Turn, args: str = "") -> Response:
    lines: list[Text] = []
    memberships = await people.memberships_of(turn.session, turn.person.id)
    for membership in memberships:
        status = L("verified") if membership.verified else L("not yet verified")
        lines.append(L("• {address} ({status})", address=address_text(membership.address), status=status))
    if not memberships:
        lines.append(L("You have not joined a household yet. Send /start and type the invite code from your stairwell."))
    grants = await access.roles_of(turn.session, turn.person.id)
    if grants:
        lines += ["", L("Your roles")]
        lines += [L("• {role} of {scope}", role=role_name(grant.role), scope=grant.place_name) for grant in grants]
    code = await linking.issue_code(turn.session, turn.person.id)
    minutes = int(linking.LINK_CODE_LIFETIME.total_seconds() // 60)
    lines += ["", L("To use this account on your other channel too (WeChat or Telegram), send /bind {code} there within {minutes} minutes.", code=code, minutes=minutes)]
    return Response.of(Reply(Lines(lines), title=L("Your households")))


def _language_options() -> tuple[Option, ...]:
    # Each language is named in itself, so a person who cannot read the current one finds theirs.
    return (Option("中文", LanguageChoice("zh_CN").pack()), Option("English", LanguageChoice("en").pack()))


async def lang(turn: Turn, args: str = "") -> Response:
    locale = normalize_locale(args.strip()) if args.strip() else None
    if locale is None:
        return Response.of(Reply(L("Choose your language:"), options=_language_options(), columns=2))
    return await _switch(turn, locale, replace=False)


async def language_chosen(turn: Turn, payload: LanguageChoice) -> Response:
    locale = normalize_locale(payload.locale)
    if locale is None:
        return Response.refusal(STALE_CHOICE)
    return await _switch(turn, locale, replace=True)


async def _switch(turn: Turn, locale: str, *, replace: bool) -> Response:
    turn.person = await people.set_locale(turn.session, turn.person, locale)
    turn.locale = locale  # answer in the new language at once
    return Response.of(Reply(LANGUAGE_SET, replace=replace))


FEATURE = Feature(
    "profile",
    commands=(
        Command("me", ("我的", "me"), N_("Your households and roles"), me, Where.private, section=MenuSection.mine),
        Command("lang", ("语言", "language"), N_("中文 / English"), lang, section=MenuSection.mine),
    ),
    payloads={LanguageChoice: language_chosen},
    group_payloads=frozenset({LanguageChoice}),  # /lang works in a group: so do its buttons
)
