"""Scheduled work. Jobs are rebuilt at every start from settings (nothing is pickled), refer to
module-level functions, and claim their run in the database when only one worker may do it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.routing import RoutingEngine
from bot.services import routing_updates
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)
MODEL_REFRESH_MINUTES = 10
# Telegram keeps undelivered updates for 24 hours; a week leaves room for any redelivery.
PROCESSED_UPDATES_KEPT_DAYS = 7


def create_scheduler(
    timezone: str,
    retrain_hour: int,
    engine: RoutingEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    training_csv: Path | None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(timezone))
    scheduler.add_job(
        nightly_retrain, "cron", hour=retrain_hour, id="routing-retrain", replace_existing=True,
        args=[engine, sessionmaker, training_csv, timezone], misfire_grace_time=3600, coalesce=True, max_instances=1,
    )
    scheduler.add_job(
        forget_old_updates, "cron", hour=(retrain_hour + 1) % 24, id="forget-old-updates", replace_existing=True,
        args=[sessionmaker], coalesce=True, max_instances=1,
    )
    scheduler.add_job(
        routing_updates.refresh_if_newer, "interval", minutes=MODEL_REFRESH_MINUTES, id="routing-refresh",
        replace_existing=True, args=[engine, sessionmaker], coalesce=True, max_instances=1,
    )
    return scheduler


async def nightly_retrain(
    engine: RoutingEngine, sessionmaker: async_sessionmaker[AsyncSession], training_csv: Path | None, timezone: str
) -> None:
    base = await asyncio.to_thread(routing_updates.base_examples, training_csv)
    if base is None:
        log.warning("nightly retraining skipped: the training data %s is not available (GONGJIAN_ROUTING_TRAINING_DATA)", training_csv)
        return
    today = datetime.now(ZoneInfo(timezone)).date()
    await routing_updates.retrain(engine, sessionmaker, base, run_key=today.isoformat())


async def forget_old_updates(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Update ids older than a week will not be delivered again; their rows can go."""
    cutoff = datetime.now(UTC) - timedelta(days=PROCESSED_UPDATES_KEPT_DAYS)
    async with sessionmaker.begin() as session:
        result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < cutoff))
    return result.rowcount or 0
