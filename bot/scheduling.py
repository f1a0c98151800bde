"""Scheduled work. Jobs are rebuilt at every start from settings (nothing is pickled), refer to
module-level functions, and claim their run in the database when only one worker may do it.

Work that falls due at a time kept in the database (a report's deadline, a vote's close, a
question waiting too long) is done by *sweeps*: every GONGJIAN_SWEEP_SECONDS (30) each sweep, in its own
transaction, does what is due by `now` and marks it done in that same transaction (outbox
messages included). A restart therefore loses nothing and repeats nothing, and no job needs to
be rebuilt: the database is the schedule. Two workers never sweep at once: on PostgreSQL a
transaction-scoped advisory lock per sweep, on SQLite the write lock every transaction takes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import plan_sweeps
from bot.config import Settings
from bot.conversations import questions
from bot.delivery import outbox
from bot.routing import RoutingEngine
from bot.services import figures_message, reports, routing_updates, vote_schedule
from storage.models import ProcessedUpdate

log = logging.getLogger(__name__)
MODEL_REFRESH_MINUTES = 10
# Telegram keeps undelivered updates for 24 hours; a week leaves room for any redelivery.
PROCESSED_UPDATES_KEPT_DAYS = 7

# A sweep does what is due by `now` and returns how many things it did.
Sweep = Callable[[AsyncSession, datetime, Settings], Awaitable[int]]

# Every feature's sweeps, by name, in the order they run.
SWEEPS: tuple[tuple[str, Sweep], ...] = (
    ("question-deadlines", questions.deadline_sweep),
    ("report-deadlines", reports.remind_and_escalate),
    ("report-follow-ups", reports.close_unanswered),
    ("report-figures", figures_message.send_monthly_figures),
    ("plan-notices", plan_sweeps.end_plan_notices),
    ("plan-acceptances", plan_sweeps.decide_acceptances),
    *vote_schedule.SWEEPS,
    ("outbox-retention", outbox.forget_old),
)


def create_scheduler(settings: Settings, engine: RoutingEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(settings.timezone))
    retrain_hour = settings.routing_retrain_hour
    scheduler.add_job(
        nightly_retrain, "cron", hour=retrain_hour, id="routing-retrain", replace_existing=True,
        args=[engine, sessionmaker, settings.routing_training_data, settings.timezone], misfire_grace_time=3600, coalesce=True, max_instances=1,
    )
    scheduler.add_job(
        forget_old_updates, "cron", hour=(retrain_hour + 1) % 24, id="forget-old-updates", replace_existing=True,
        args=[sessionmaker], coalesce=True, max_instances=1,
    )
    if settings.sweep_seconds:
        scheduler.add_job(
            run_sweeps, "interval", seconds=settings.sweep_seconds, id="sweeps", replace_existing=True,
            args=[sessionmaker, settings], coalesce=True, max_instances=1, next_run_time=datetime.now(UTC),
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


async def run_sweeps(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    """Run every sweep once, each in its own transaction; one that fails is logged and does not
    stop the others (it is retried at the next run, since it marked nothing). Tests call this
    with a `now` in the future instead of waiting."""
    now = now or datetime.now(UTC)
    done: dict[str, int] = {}
    for name, sweep in SWEEPS:
        try:
            async with sessionmaker.begin() as session:
                if await _claim_sweep(session, name):
                    done[name] = await sweep(session, now, settings)
        except asyncio.CancelledError:
            # Shutdown cut the sweep short: its transaction rolled back and marked nothing, so
            # the next start does it. One line here, not the scheduler's error with a traceback.
            log.info("sweep %s stopped by shutdown; the next start does what was left", name)
            return done
        except Exception:
            log.exception("sweep %s failed; it runs again in %s s", name, settings.sweep_seconds)
    return done


async def _claim_sweep(session: AsyncSession, name: str) -> bool:
    """Whether this worker may run the sweep now. On PostgreSQL another worker holding it means
    it is being done; on SQLite every transaction writes alone, so the claim is implicit."""
    if session.bind.dialect.name != "postgresql":
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtext("gongjian-sweep:" + name)))))
