"""The Official Account's access token, one for every worker.

WeChat issues one token at a time (it lasts two hours; a new one cuts the old off five minutes
later), so workers must not each fetch their own. The token lives in a shared store (Redis when
configured, else the database) with its expiry; the worker that claims a short lease fetches
the next one while the others keep using the current token, or wait for the new one. Each
process keeps a copy in memory and reads the store only when its copy nears expiry or WeChat
rejected it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import WeChatAccessToken, utcnow

# Refresh this long before the token expires, so that no request carries one that dies in flight.
REFRESH_MARGIN = timedelta(minutes=5)
# The longest a fetch may take before another worker may try; WeChat answers in well under a second.
REFRESH_LEASE = timedelta(seconds=30)
WAIT_POLL_SECONDS = 0.1


class TokenUnavailable(RuntimeError):
    """Another worker holds the refresh lease and no usable token appeared in time."""


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime

    def usable(self, rejected: str | None) -> bool:
        return self.value != rejected and self.expires_at - utcnow() > REFRESH_MARGIN

    def alive(self, rejected: str | None) -> bool:
        """Past the refresh margin, but WeChat still takes it: good while another worker refreshes."""
        return self.value != rejected and self.expires_at > utcnow()


class TokenStore(Protocol):
    async def read(self) -> Token | None: ...

    async def claim_refresh(self) -> bool:
        """Take the refresh lease; False while another worker holds it."""
        ...

    async def write(self, token: Token) -> None:
        """Store the new token and give the lease back."""
        ...

    async def release(self) -> None:
        """Give the lease back after a failed fetch."""
        ...


Fetch = Callable[[], Awaitable[tuple[str, int]]]  # the new token and its lifetime in seconds


class AccessTokens:
    def __init__(self, store: TokenStore, fetch: Fetch) -> None:
        self.store = store
        self.fetch = fetch
        self._copy: Token | None = None
        self._lock = asyncio.Lock()  # one task per process reads or refreshes at a time

    async def get(self, *, rejected: str | None = None) -> str:
        """A token to use. `rejected`: the one WeChat just refused (40001), never handed out again."""
        async with self._lock:
            deadline = time.monotonic() + REFRESH_LEASE.total_seconds()
            while True:
                if self._copy is not None and self._copy.usable(rejected):
                    return self._copy.value
                stored = await self.store.read()
                if stored is not None and stored.usable(rejected):
                    self._copy = stored
                    return stored.value
                if await self.store.claim_refresh():
                    return await self._refresh(rejected)
                if stored is not None and stored.alive(rejected):
                    return stored.value
                if time.monotonic() > deadline:
                    raise TokenUnavailable("another worker is refreshing the WeChat access token and no token appeared")
                await asyncio.sleep(WAIT_POLL_SECONDS)

    async def _refresh(self, rejected: str | None) -> str:
        stored = await self.store.read()
        if stored is not None and stored.usable(rejected):  # another worker wrote it between our read and our claim
            await self.store.release()
            self._copy = stored
            return stored.value
        try:
            value, lifetime = await self.fetch()
        except BaseException:
            await self.store.release()
            raise
        self._copy = Token(value, utcnow() + timedelta(seconds=lifetime))
        await self.store.write(self._copy)
        return value


class DatabaseTokenStore:
    """One row per app id; the lease is a conditional UPDATE, so of several workers one wins."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], app_id: str) -> None:
        self.sessionmaker = sessionmaker
        self.app_id = app_id

    async def read(self) -> Token | None:
        async with self.sessionmaker() as session:
            row = await session.get(WeChatAccessToken, self.app_id)
            return Token(row.token, row.expires_at) if row is not None and row.token and row.expires_at else None

    async def claim_refresh(self) -> bool:
        now = utcnow()
        async with self.sessionmaker.begin() as session:
            if await session.scalar(select(WeChatAccessToken.app_id).where(WeChatAccessToken.app_id == self.app_id)) is None:
                try:
                    async with session.begin_nested():  # two workers may create the row at once
                        session.add(WeChatAccessToken(app_id=self.app_id))
                except IntegrityError:
                    pass
            claimed = await session.execute(
                update(WeChatAccessToken)
                .where(
                    WeChatAccessToken.app_id == self.app_id,
                    WeChatAccessToken.refreshing_until.is_(None) | (WeChatAccessToken.refreshing_until < now),
                )
                .values(refreshing_until=now + REFRESH_LEASE)
            )
            return claimed.rowcount == 1

    async def write(self, token: Token) -> None:
        await self._update(token=token.value, expires_at=token.expires_at, refreshing_until=None)

    async def release(self) -> None:
        await self._update(refreshing_until=None)

    async def _update(self, **values: object) -> None:
        async with self.sessionmaker.begin() as session:
            await session.execute(update(WeChatAccessToken).where(WeChatAccessToken.app_id == self.app_id).values(**values))


class RedisTokenStore:
    """The token as a key that expires with it; the lease as SET NX with its own expiry."""

    def __init__(self, redis_url: str, app_id: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(redis_url)
        self.key = f"gongjian:wechat:{app_id}:access_token"
        self.lease_key = self.key + ":refreshing"

    async def read(self) -> Token | None:
        raw = await self.redis.get(self.key)
        if raw is None:
            return None
        data = json.loads(raw)
        return Token(data["value"], datetime.fromisoformat(data["expires_at"]))

    async def claim_refresh(self) -> bool:
        return bool(await self.redis.set(self.lease_key, "1", nx=True, px=int(REFRESH_LEASE.total_seconds() * 1000)))

    async def write(self, token: Token) -> None:
        lifetime_ms = int((token.expires_at - utcnow()).total_seconds() * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.key, json.dumps({"value": token.value, "expires_at": token.expires_at.isoformat()}), px=max(lifetime_ms, 1))
            pipe.delete(self.lease_key)
            await pipe.execute()

    async def release(self) -> None:
        await self.redis.delete(self.lease_key)

    async def close(self) -> None:
        await self.redis.aclose()
