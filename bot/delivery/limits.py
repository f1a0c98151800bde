"""Rate limits for messages the bot sends on its own: a global rate per channel, a minimum
interval per chat, and a pause for everyone when the channel says "too many requests".

The global rate is a GCRA (a token bucket kept as one timestamp, the theoretical arrival time
of the next message): sends are spaced 1/rate apart, and a sender that fell behind (a sleep
that overshot, a busy event loop) may catch up by at most CATCH_UP_SECONDS, so any one-second
window holds at most rate × (1 + CATCH_UP_SECONDS) + 1 messages. The channel counts arrivals,
which jitter, so set the rate a little under the channel's limit (25 for Telegram's 30). In one process the state is local;
with Redis configured it lives in Redis and every worker takes from the same bucket, timed by
Redis's clock, so the workers' own clocks do not matter.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

# How far a sender that fell behind may catch up, in seconds.
CATCH_UP_SECONDS = 0.005


@dataclass(frozen=True)
class Verdict:
    """May this message go now? Yes, unless everyone must `wait` (seconds: the rate, a pause)
    or this chat had a message too recently: then the row waits until `chat_free_at` (a Unix
    time, the same for every row that waits for this chat, so they keep their order)."""

    wait: float = 0.0
    chat_free_at: float | None = None


SEND_NOW = Verdict()


class Limiter(Protocol):
    async def take(self, chat_id: str) -> Verdict:
        """Take a slot for one message to this chat, or say why not. A busy chat does not use up
        a slot of the global rate."""
        ...

    async def pause(self, seconds: float) -> None:
        """Nobody sends for `seconds` (the channel answered 429 with retry_after)."""
        ...

    async def close(self) -> None: ...


class LocalLimiter:
    """The limits of one process: SQLite deployments, and PostgreSQL ones without Redis.
    Times are Unix times, as chat_free_at is stored in the rows."""

    def __init__(self, rate: float, chat_interval: float) -> None:
        self.interval = 1.0 / rate
        self.chat_interval = chat_interval
        self._next_at = 0.0  # the theoretical arrival time of the next message
        self._paused_until = 0.0
        # chat → when it may receive again (Unix time), oldest first: expired entries are
        # dropped from the front, so memory follows the chats of the last chat_interval only.
        self._chats: OrderedDict[str, float] = OrderedDict()

    async def take(self, chat_id: str) -> Verdict:
        now = time.time()
        if now < self._paused_until:
            return Verdict(self._paused_until - now)
        start = max(self._next_at, now - CATCH_UP_SECONDS)
        if start > now:
            return Verdict(start - now)
        while self._chats and next(iter(self._chats.values())) <= now:
            self._chats.popitem(last=False)
        free_at = self._chats.get(chat_id)
        if free_at is not None:
            return Verdict(chat_free_at=free_at)
        if self.chat_interval > 0:
            self._chats[chat_id] = now + self.chat_interval
        self._next_at = start + self.interval
        return SEND_NOW

    async def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.time() + seconds)

    async def close(self) -> None:
        pass


# KEYS: next arrival time, pause, chat. ARGV: interval, tolerance (µs), chat interval (ms).
# Returns {0, 0} (send now), {1, µs to wait} (everyone waits) or {2, Unix µs} (the chat is busy
# until then; the key holds that time).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {1, paused * 1000} end
local start = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now - tonumber(ARGV[2]))
if start > now then return {1, start - now} end
local busy_until = redis.call('GET', KEYS[3])
if busy_until then return {2, tonumber(busy_until)} end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[3], string.format('%d', now + tonumber(ARGV[3]) * 1000), 'PX', ARGV[3]) end
local next_at = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', next_at), 'PX', math.ceil((next_at - now) / 1000) + 1000)
return {0, 0}
"""
# KEYS: pause. ARGV: ms. The longer of two pauses wins.
_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], 1, 'PX', ARGV[1]) end
"""


class RedisLimiter:
    """The same limits shared by every worker of a deployment through Redis."""

    def __init__(self, redis: Redis, channel: str, rate: float, chat_interval: float) -> None:
        self.redis = redis
        self.prefix = f"gongjian:delivery:{channel}:"
        self.args = (round(1e6 / rate), round(CATCH_UP_SECONDS * 1e6), round(chat_interval * 1000))
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)

    async def take(self, chat_id: str) -> Verdict:
        keys = (self.prefix + "next", self.prefix + "pause", self.prefix + "chat:" + chat_id)
        kind, micros = await self._take(keys=keys, args=self.args)
        if kind == 0:
            return SEND_NOW
        return Verdict(chat_free_at=int(micros) / 1e6) if kind == 2 else Verdict(int(micros) / 1e6)

    async def pause(self, seconds: float) -> None:
        await self._pause(keys=(self.prefix + "pause",), args=(max(1, round(seconds * 1000)),))

    async def close(self) -> None:
        await self.redis.aclose()


def create_limiter(channel: str, rate: float, chat_interval: float, redis_url: str | None) -> Limiter:
    if redis_url:
        from redis.asyncio import Redis  # 6 MB a process without Redis need not carry

        return RedisLimiter(Redis.from_url(redis_url), channel, rate, chat_interval)
    return LocalLimiter(rate, chat_interval)
