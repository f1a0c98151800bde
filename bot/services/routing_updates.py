"""Keeping every worker's router current: load the newest model, retrain with corrections,
and pick up a model another worker trained."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.routing import DEFAULT_MODEL, Example, RoutingEngine
from bot.routing.default_data import default_training_set
from bot.services.corrections import correction_examples
from storage.models import JobRun, RoutingModelVersion

log = logging.getLogger(__name__)
RETRAIN_JOB = "routing-retrain"
# Corrections count more than the base examples: a person looked at that very message.
CORRECTION_WEIGHT = 3


async def load_current(engine: RoutingEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The newest retrained model from the database, else the one shipped with the package."""
    async with sessionmaker() as session:
        newest = await session.scalar(select(RoutingModelVersion).order_by(RoutingModelVersion.id.desc()).limit(1))
        version, blob = (newest.id, newest.data) if newest else (None, None)
    await engine.load(blob if blob is not None else DEFAULT_MODEL)
    engine.version = version


async def refresh_if_newer(engine: RoutingEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Load a model another worker stored since ours; True if one was loaded."""
    async with sessionmaker() as session:
        newest = await session.scalar(select(func.max(RoutingModelVersion.id)))
    if newest is None or newest == engine.version:
        return False
    await load_current(engine, sessionmaker)
    return True


def base_examples(training_csv: Path | None) -> list[Example] | None:
    """The default model's training set, when the labelled source file is at hand."""
    if training_csv is None or not training_csv.is_file():
        return None
    texts, labels = default_training_set(training_csv)
    return [Example(t, label) for t, label in zip(texts, labels)]


async def retrain(
    engine: RoutingEngine, sessionmaker: async_sessionmaker[AsyncSession], base: Sequence[Example], *, run_key: str | None = None
) -> int | None:
    """Retrain on the base examples plus every correction, store the model, and use it.

    With `run_key` (the nightly run), only the worker that claims the key trains; the others
    pick the result up from the database. Returns the stored version, or None when nothing was
    trained.
    """
    if run_key is not None and not await _claim(sessionmaker, RETRAIN_JOB, run_key):
        log.info("another worker retrains the router for %s", run_key)
        return None
    async with sessionmaker() as session:
        corrections = await correction_examples(session)
    blob = await engine.retrain([*base, *corrections * CORRECTION_WEIGHT])
    if blob is None:
        return None
    async with sessionmaker.begin() as session:
        version = RoutingModelVersion(examples=len(base), corrections=len(corrections), data=blob)
        session.add(version)
        await session.flush()
        engine.version = version.id
    log.info("router retrained with %d corrections: version %d", len(corrections), version.id)
    return version.id


async def _claim(sessionmaker: async_sessionmaker[AsyncSession], job: str, run_key: str) -> bool:
    try:
        async with sessionmaker.begin() as session:
            session.add(JobRun(job=job, run_key=run_key))
        return True
    except IntegrityError:
        return False

