"""The plans' due work, run by bot.scheduling: a public notice that has run its days, and a
completed item whose residents have had their time to confirm it. Each is done and marked in
the sweep's transaction (the plan's or item's status changes with its messages), so a restart
neither loses nor repeats it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.conversations import plan_messages as messages
from bot.services import plans


async def end_plan_notices(session: AsyncSession, now: datetime, settings: Settings) -> int:
    due = await plans.notices_due(session, now)
    for plan in due:
        await plans.end_notice(session, plan, messages.summary_message(plan, await plans.feedback_counts(session, plan)))
    return len(due)


async def decide_acceptances(session: AsyncSession, now: datetime, settings: Settings) -> int:
    due = await plans.acceptances_due(session, now)
    for item in due:
        tally = await plans.tally(session, item)
        accepted = tally.accepted(settings.plan_acceptance_share)
        await plans.decide_acceptance(session, item, accepted, messages.acceptance_result(item, tally, accepted))
    return len(due)
