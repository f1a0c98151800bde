"""Where plans meet problem reports and votes: the only places plans call them.

A resident who says a finished item is not done (完工确认) opens a problem report with their
note, handled like any other (bot/services/reports.py); its id is kept on their answer. Chosen
items of a plan become a consultation's items (`gongjian vote create` with `plan_items`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.categories import OTHER, Category
from bot.i18n import N_
from bot.services import audit, reports
from bot.services.errors import DomainError
from storage.models import AcceptanceAnswer, PlanItem


async def open_report_for_unfinished_item(
    session: AsyncSession, actor: audit.Actor, item: PlanItem, answer: AcceptanceAnswer, categories: Mapping[str, Category], timezone: str
) -> int:
    """Open a problem report about the item, in the resident's building among the item's, with
    their note, in the caller's transaction; returns the report's id. The item's category when
    it is a report category, else "other"."""
    assert actor.person_id is not None
    affected = {link.building_id for link in item.buildings}
    building_id = next(choice.building_id for choice in await reports.buildings_of(session, actor.person_id) if choice.building_id in affected)
    # The resident's words, with the item they are about: the handler reads both.
    draft = reports.Draft(text="【" + item.title + "】" + answer.note, building_id=building_id)
    submitted = await reports.submit(session, actor, draft, categories.get(item.category) or categories[OTHER], timezone=timezone)
    return submitted.report.id


async def items_for_vote(session: AsyncSession, item_ids: Sequence[int]) -> tuple[str, ...]:
    """The titles of chosen items of one plan, in the order given, as a consultation's items."""
    items = {item.id: item for item in await session.scalars(select(PlanItem).where(PlanItem.id.in_(list(item_ids))))}
    missing = [str(i) for i in item_ids if i not in items]
    if missing:
        raise DomainError(N_("No plan item {ids}."), ids=", ".join(missing))
    if len({item.plan_id for item in items.values()}) > 1:
        raise DomainError(N_("The items of one vote come from one plan."))
    return tuple(items[i].title for i in item_ids)
