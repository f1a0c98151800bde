"""Category corrections: when a person moves a message to another category, the router learns."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.categories import Category
from bot.routing import Example
from storage.models import CategoryCorrection

log = logging.getLogger(__name__)


async def record_correction(
    session: AsyncSession,
    categories: dict[str, Category],
    text: str,
    category: str,
    *,
    previous_category: str | None = None,
    person_id: int | None = None,
) -> bool:
    """Store a correction; a label that is not a configured category is ignored (and logged)."""
    if category not in categories:
        log.warning("ignored a correction to %r: not a configured category", category)
        return False
    if not text.strip():
        log.warning("ignored a correction to %r with no text", category)
        return False
    session.add(CategoryCorrection(text=text, category=category, previous_category=previous_category, person_id=person_id))
    await session.flush()
    return True


async def correction_examples(session: AsyncSession) -> list[Example]:
    rows = await session.execute(select(CategoryCorrection.text, CategoryCorrection.category).order_by(CategoryCorrection.id))
    return [Example(text, category) for text, category in rows]
