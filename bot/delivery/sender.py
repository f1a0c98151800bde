"""The sender: delivers one channel's outbox rows, as fast as the channel's limits allow.

Three loops share a small buffer of claimed rows:
- claiming keeps about half a second of messages at hand (claims.claim), renews this sender's
  lease on them and takes back rows whose sender died;
- dispatching takes a row when the limiter allows (global rate, the chat's own interval, a
  pause after a 429) and sends it in a task of its own, so round trips overlap;
- recording writes what happened, every fraction of a second, in one transaction.
No transaction is open while a message is on the network, and the database sees a few
statements per round rather than a few per message.

A sender that is stopped finishes the messages on their way, records them and gives back the
rows it held. One that crashes (or whose task is cancelled) leaves its rows `sending` until its
lease runs out; then another sender, or this one restarted, sends them: the messages that were
on their way at the crash are the only ones that can arrive twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery import claims
from bot.delivery.channels import ChannelSender, OutsideWindow, RateLimited, Rejected, Temporary, Unreachable
from bot.delivery.limits import Limiter
from storage.models import utcnow

log = logging.getLogger(__name__)
CLAIM_AHEAD_SECONDS = 1.0  # messages held at hand, in seconds at the global rate
MIN_CLAIM = 10  # rows, however low the rate: a claim is a transaction, not worth it for one or two
MAX_RETRY_WAIT = 600.0  # seconds; a network error's backoff doubles up to this
LONGEST_SLEEP = 0.5  # the loops look at least this often whether they were stopped
# Rows that wait in memory for their chat's interval (see Sender._park), in claims' worth: beyond
# this they go back to the database to wait there.
PARKED_CLAIMS = 10
RENDERS_KEPT = 256  # messages rendered in a language, kept for the next recipients
T = TypeVar("T")


class Sender:
    """Delivers the rows of one channel (`channel.channel`) within the limiter's limits."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        channel: ChannelSender[Any],
        limiter: Limiter,
        *,
        rate: float,
        default_locale: str,
        lease: float = 60.0,
        max_attempts: int = 5,
        first_retry: float = 2.0,
        idle_poll: float = 0.5,
        record_every: float = 0.2,
        max_in_flight: int = 100,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.channel = channel
        self.limiter = limiter
        self.default_locale = default_locale
        self.lease = timedelta(seconds=lease)
        self.max_attempts = max_attempts
        self.first_retry = first_retry
        self.idle_poll = idle_poll
        self.record_every = record_every
        self.batch = max(MIN_CLAIM, math.ceil(rate * CLAIM_AHEAD_SECONDS))
        # Unique among live senders; written into the rows this sender holds.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._held: deque[claims.Claimed] = deque()
        # Rows claimed for chats that had a message just now, each chat's in order, and when each
        # chat may have the next: they wait here rather than in the database (see _park).
        self._parked: dict[str, deque[claims.Claimed]] = {}
        self._chat_due: dict[str, float] = {}
        # (message, language) → the message rendered, most recently used last.
        self._renders: dict[tuple[int, str], Any] = {}
        self._outcomes = claims.Outcomes()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._have_rows = asyncio.Event()
        self._want_rows = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish what is on its way and return from run()."""
        self._stopping.set()
        self._have_rows.set()  # wake the loops that wait for rows
        self._want_rows.set()

    async def run(self) -> None:
        """Deliver until stop(); then record everything and give back the rows not sent."""
        helpers = [asyncio.create_task(self._claim_loop()), asyncio.create_task(self._record_loop())]
        try:
            await self._dispatch_loop()
            if self._in_flight:
                await asyncio.wait(self._in_flight)
            await asyncio.gather(*helpers)  # they see the stop and end their round
        except asyncio.CancelledError:  # like a crash: nothing more is sent or written
            for task in [*helpers, *self._in_flight]:
                task.cancel()
            await asyncio.gather(*helpers, *self._in_flight, return_exceptions=True)
            raise
        await self._record()
        held = [row.id for row in self._held] + [row.id for rows in self._parked.values() for row in rows]
        if held:
            await self._transaction(lambda session: claims.release(session, self.worker, held))
            self._held.clear()
            self._parked.clear()
            self._chat_due.clear()

    # --- dispatching ----------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while not self._stopping.is_set():
            chat = self._due_chat()
            if chat is None and not self._held:
                self._have_rows.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._have_rows.wait(), self._until_a_chat_is_due())
                continue
            row = self._parked[chat][0] if chat is not None else self._held[0]
            if chat is None and row.chat_id in self._parked:  # behind the chat's earlier messages
                self._take_next()
                self._park(row, None)
                continue
            # A free place among the messages on their way first, then a slot of the rate: a
            # slot taken and then held up would let the messages out in a burst later.
            await self._slots.acquire()
            verdict = await self.limiter.take(row.chat_id)
            if verdict.chat_free_at is None and not verdict.wait:
                if chat is not None:
                    self._unpark(row)
                else:
                    self._take_next()
                task = asyncio.create_task(self._send(row))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                continue
            self._slots.release()
            if verdict.chat_free_at is not None:  # this chat had a message just now: the row waits, the others go on
                if chat is not None:
                    self._chat_due[chat] = verdict.chat_free_at
                else:
                    self._take_next()
                    self._park(row, verdict.chat_free_at)
            else:
                await asyncio.sleep(min(verdict.wait, LONGEST_SLEEP))

    def _take_next(self) -> None:
        self._held.popleft()
        if len(self._held) <= self.batch // 2:
            self._want_rows.set()

    def _park(self, row: claims.Claimed, chat_free_at: float | None) -> None:
        """Keep a row whose chat had a message just now (or has rows waiting already, which it
        follows) until the chat's interval is over, in memory: written back to wait in the
        database, it was claimed again and again, mostly to wait again, while other messages to
        the chat could overtake it. Past PARKED_CLAIMS claims' worth of rows it waits there,
        from the chat's time on (and is claimed again behind the chat's rows here)."""
        due = self._chat_due.get(row.chat_id, chat_free_at if chat_free_at is not None else time.time())
        if sum(map(len, self._parked.values())) >= PARKED_CLAIMS * self.batch:
            self._outcomes.later.append((row.id, datetime.fromtimestamp(due, UTC)))
            return
        self._parked.setdefault(row.chat_id, deque()).append(row)
        self._chat_due[row.chat_id] = due

    def _unpark(self, row: claims.Claimed) -> None:
        """The chat's first waiting row is on its way; the next is tried at once (the limiter
        says when the chat is free)."""
        waiting = self._parked[row.chat_id]
        waiting.popleft()
        if not waiting:
            del self._parked[row.chat_id], self._chat_due[row.chat_id]

    def _due_chat(self) -> str | None:
        now = time.time()
        return next((chat for chat, due in self._chat_due.items() if due <= now), None)

    def _until_a_chat_is_due(self) -> float:
        if not self._chat_due:
            return LONGEST_SLEEP
        return min(LONGEST_SLEEP, max(0.0, min(self._chat_due.values()) - time.time()))

    async def _send(self, row: claims.Claimed) -> None:
        try:
            await self.channel.send(row.chat_id, self._rendered(row))
        except RateLimited as error:
            # Everybody waits; this row goes first when the pause is over, ahead of any later
            # message to the same chat.
            await self.limiter.pause(error.retry_after)
            waiting = self._parked.get(row.chat_id)
            # Ahead of the chat's rows that waited behind it, if any.
            (waiting if waiting is not None else self._held).appendleft(row)
            self._have_rows.set()
        except Unreachable as error:
            self._outcomes.unreachable.append((row, str(error)))
        except OutsideWindow as error:
            self._outcomes.waiting.append((row.id, str(error)))
        except Rejected as error:
            self._outcomes.failed.append((row.id, str(error)))
        except Temporary as error:
            self._retry_later(row, str(error))
        except Exception as error:  # a bug (a text that does not render): trying again cannot help
            log.exception("delivery %s to %s %s failed", row.id, self.channel.channel, row.chat_id)
            self._outcomes.failed.append((row.id, f"{type(error).__name__}: {error}"))
        else:
            self._outcomes.sent.append(row.id)
            if self.channel.numbered_options and row.reply.options and row.person_id is not None:
                self._outcomes.menus.append(row)
        finally:
            self._slots.release()

    def _rendered(self, row: claims.Claimed) -> Any:
        key = (row.message_id, row.locale)
        rendered = self._renders.pop(key, None)
        if rendered is None:
            rendered = self.channel.render(row.reply, row.locale, row.source)
            if len(self._renders) >= RENDERS_KEPT:
                del self._renders[next(iter(self._renders))]  # the least recently used
        self._renders[key] = rendered
        return rendered

    def _retry_later(self, row: claims.Claimed, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            self._outcomes.failed.append((row.id, error))
            return
        wait = min(MAX_RETRY_WAIT, self.first_retry * 2 ** (attempts - 1))
        self._outcomes.retry.append((row.id, utcnow() + timedelta(seconds=wait), error))

    # --- claiming and recording -----------------------------------------------------------------

    async def _claim_loop(self) -> None:
        upkeep_at = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= upkeep_at:
                    await self._upkeep()
                    upkeep_at = time.monotonic() + self.lease.total_seconds() / 4
                if len(self._held) > self.batch // 2:
                    self._want_rows.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._want_rows.wait(), LONGEST_SLEEP)
                    continue
                claim = partial(
                    claims.claim, channel=self.channel.channel, worker=self.worker, limit=self.batch - len(self._held),
                    default_locale=self.default_locale, now=utcnow(),
                )
                rows = await self._transaction(claim)
                if rows:
                    self._held.extend(rows)
                    self._have_rows.set()
                else:
                    await self._unless_stopped(self.idle_poll)
            except Exception:  # the database is away: hold on to what we have and try again
                log.exception("claiming %s deliveries failed", self.channel.channel)
                await self._unless_stopped(self.idle_poll)

    async def _upkeep(self) -> None:
        async def upkeep(session: AsyncSession) -> int:
            now = utcnow()
            await claims.renew(session, self.channel.channel, self.worker, now)
            return await claims.take_back_expired(session, self.channel.channel, self.lease, now)

        taken_back = await self._transaction(upkeep)
        if taken_back:
            log.warning("%s %s deliveries were held by a sender that stopped; they go out again", taken_back, self.channel.channel)

    async def _record_loop(self) -> None:
        while not self._stopping.is_set():
            await self._unless_stopped(self.record_every)
            try:
                await self._record()
            except Exception:  # kept in memory and written with the next round
                log.exception("recording %s deliveries failed", self.channel.channel)

    async def _record(self) -> None:
        outcomes, self._outcomes = self._outcomes, claims.Outcomes()
        if not len(outcomes):
            return
        try:
            await self._transaction(lambda session: claims.record(session, self.channel.channel, self.worker, outcomes, utcnow()))
        except BaseException:
            self._outcomes.add(outcomes)
            raise

    async def _unless_stopped(self, seconds: float) -> None:
        """Sleep, but wake when the sender is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """One short transaction, carried to its end even when this sender is cancelled meanwhile:
        a database call cut off by a cancellation can leave its connection, and on SQLite the
        write lock, held with nobody to release it."""

        async def run() -> T:
            async with self.sessionmaker.begin() as session:
                return await work(session)

        return await asyncio.shield(run())
