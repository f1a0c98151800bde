"""Where plans meet two features being built beside them: problem reports and votes.

Neither is on this branch. The two functions below are the only places plans call them, so
wiring them is a change here alone. Until then a "not done" answer is kept, with the
resident's note, in plan_acceptance_answers (report_id stays empty), and no vote is made.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import audit
from storage.models import AcceptanceAnswer, PlanItem


async def open_report_for_unfinished_item(session: AsyncSession, actor: audit.Actor, item: PlanItem, answer: AcceptanceAnswer) -> int | None:
    """Open a problem report for a plan item a resident says is not done, with their note, in
    the caller's transaction; return the report's id (kept in answer.report_id).

    TO WIRE (reports feature): create the report for `actor` in one of the item's buildings
    (`item.buildings`), text `answer.note`, linked to the item (e.g. source "plan_item:ID").
    Returns None until then: the answer and its note are recorded either way."""
    return None


async def vote_from_items(session: AsyncSession, actor: audit.Actor, items: list[PlanItem]) -> int | None:
    """Turn chosen plan items into a consultation or decision vote; return the vote's id.

    TO WIRE (votes feature): one option per item (title, and budget as its description),
    scope the plan's compound or the items' buildings. No chat flow calls this yet."""
    return None
