"""Drafting a plan in the chat (/newplan, 新方案): an administrator names it, then adds items
one question at a time (class, title and description, category, funding, buildings, dates);
each answer is kept in the conversation's step, so a restart loses nothing. Every step checks
again that the plan is a draft the person may change."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from bot.conversations import plan_messages as messages
from bot.conversations.payloads import CommandChoice, ItemClassPick, NewPlanIn
from bot.conversations.plan_messages import refused
from bot.conversations.turn import Turn
from bot.i18n import N_
from bot.replies import L, Lines, Option, Reply, Response
from bot.services import cost_shares, plans
from bot.services.errors import DomainError
from bot.services.text import compact
from storage.models import ItemClass, Place

PLAN_TITLE = "plans.title"  # data: compound_id
ITEM_TITLE = "plans.item_title"  # data: plan_id, item_class
ITEM_CATEGORY = "plans.item_category"  # data: + title, description
ITEM_FUNDING = "plans.item_funding"  # data: + category
ITEM_BUILDINGS = "plans.item_buildings"  # data: + funding
ITEM_DATES = "plans.item_dates"  # data: + building_ids
SKIP_WORDS = ("跳过", "skip", "无", "-")
AMOUNT_SEPARATORS = re.compile(r"[\s、，;；]+")  # a comma alone may be a thousands separator
DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})")


async def new_plan(turn: Turn, args: str = "") -> Response:
    compounds = await plans.managed_compounds(turn.session, turn.actor)
    if not compounds:
        return Response.of(Reply(L("Plans are drafted by community administrators.")))
    if len(compounds) == 1:
        return await _ask_title(turn, compounds[0])
    return Response.of(Reply(L("Which compound is the plan for?"), options=tuple(Option(c.name, NewPlanIn(c.id).pack()) for c in compounds)))


async def compound_chosen(turn: Turn, payload: NewPlanIn) -> Response:
    compound = next((c for c in await plans.managed_compounds(turn.session, turn.actor) if c.id == payload.compound_id), None)
    if compound is None:
        return Response.refusal(messages.STALE)
    return await _ask_title(turn, compound)


async def _ask_title(turn: Turn, compound: Place) -> Response:
    await turn.set_step(PLAN_TITLE, compound_id=compound.id)
    return Response.of(Reply(L("A new plan for {compound}. What is its title? For example: 2027年老旧小区改造方案", compound=compound.name)))


async def title_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    try:
        plan = await plans.create_plan(turn.session, turn.actor, int(data["compound_id"]), text)
    except DomainError as error:
        await turn.clear()
        return Response.of(Reply(error.text()))
    await turn.clear()
    return Response.of(Reply(L("Saved as a draft. Now its first item.")), messages.class_question(plan.id))


async def class_chosen(turn: Turn, payload: ItemClassPick) -> Response:
    if payload.item_class not in messages.CLASS_CODES:
        return Response.refusal(messages.STALE)
    try:
        await plans.draft_to_change(turn.session, turn.actor, payload.plan_id)
    except DomainError as error:
        return refused(error)
    await turn.set_step(ITEM_TITLE, plan_id=payload.plan_id, item_class=messages.CLASS_CODES[payload.item_class].value)
    return Response.of(Reply(L("The item's title on the first line; a description may follow on the next lines."), replace=True))


async def item_title_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    title, _, description = text.strip().partition("\n")
    await turn.set_step(ITEM_CATEGORY, **data, title=title.strip(), description=description.strip())
    return Response.of(Reply(L("Its category, in a few words (供水, 电梯, 道路):")))


async def item_category_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    await turn.set_step(ITEM_FUNDING, **data, category=text.strip()[:50])
    return Response.of(Reply(L("Its funding in yuan, four amounts: government, utility companies, residents, others. For example: 300000 50000 120000 0")))


async def item_funding_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    amounts = AMOUNT_SEPARATORS.split(unicodedata.normalize("NFKC", text).strip())
    try:
        if len(amounts) != 4:
            raise DomainError(N_("Please give four amounts, separated by spaces: government, utility companies, residents, others."))
        funding = [str(cost_shares.money(a)) for a in amounts]
    except DomainError as error:
        return Response.of(Reply(error.text()))
    await turn.set_step(ITEM_BUILDINGS, **data, funding=funding)
    return Response.of(Reply(L("Which buildings does it concern? Their names separated by spaces (1栋 2栋), or 全部 for all.")))


async def item_buildings_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    try:
        plan = await plans.draft_to_change(turn.session, turn.actor, int(data["plan_id"]))
        ids = await plans.buildings_named(turn.session, plan.compound_id, text.replace("，", " ").replace("、", " ").split())
    except DomainError as error:
        return Response.of(Reply(error.text()))
    await turn.set_step(ITEM_DATES, **data, building_ids=ids)
    return Response.of(Reply(L("Planned dates, start and end, like 2027-03-01 2027-05-31; or 跳过 to skip.")))


def parse_dates(text: str) -> tuple[date | None, date | None] | None:
    if compact(text).lower() in SKIP_WORDS:
        return None, None
    found = DATE.findall(compact(text))
    try:
        days = [date(int(y), int(m), int(d)) for y, m, d in found]
    except ValueError:
        return None
    if len(days) != 2 or days[0] > days[1]:
        return None
    return days[0], days[1]


async def item_dates_typed(turn: Turn, text: str) -> Response:
    _, data = await turn.step()
    dates = parse_dates(text)
    if dates is None:
        return Response.of(Reply(L("I could not read two dates there. Write them like 2027-03-01 2027-05-31, or 跳过.")))
    government, utility, residents, others = (cost_shares.money(a) for a in data["funding"])
    draft = plans.ItemDraft(
        ItemClass(data["item_class"]), str(data["title"]), str(data["category"]), str(data["description"]), government, utility, residents, others,
        tuple(int(b) for b in data["building_ids"]), *dates,
    )
    await turn.clear()
    try:
        item = await plans.add_item(turn.session, turn.actor, int(data["plan_id"]), draft)
    except DomainError as error:
        return Response.of(Reply(error.text()))
    options = (*messages.draft_options(item.plan_id), Option(L("Show the plan"), CommandChoice("plans").pack()))
    return Response.of(Reply(Lines([L("Item {position} is added:", position=item.position), await messages.item_block(turn.session, item)]), options=options))


STEPS = {
    PLAN_TITLE: title_typed, ITEM_TITLE: item_title_typed, ITEM_CATEGORY: item_category_typed, ITEM_FUNDING: item_funding_typed,
    ITEM_BUILDINGS: item_buildings_typed, ITEM_DATES: item_dates_typed,
}
