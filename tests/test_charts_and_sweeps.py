"""Shared machinery the features stand on: charts that draw Chinese, replies with drawn
attachments waiting in the outbox, and sweeps that run due work once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from matplotlib.ft2font import FT2Font
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import scheduling
from bot.charts import CJK_FONT_FILE, bar_chart_png
from bot.config import Settings
from bot.replies import Attachment, Reply, reply_from_json, reply_to_json
from storage.models import ProcessedUpdate


def test_the_chart_font_has_the_glyphs_of_chinese_labels() -> None:
    font = FT2Font(str(CJK_FONT_FILE))
    for character in "电梯供水道路照明满意率同意不同意弃权":
        assert font.get_char_index(ord(character)) != 0, character
    png = bar_chart_png("八月 问题办理", ["电梯", "供水"], {"响应率": [0.9, 0.5]}, percent=True)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_a_drawn_attachment_waits_in_the_outbox_as_bytes() -> None:
    chart = bar_chart_png("结果", ["同意"], {"户数": [3]})
    reply = Reply("投票结果", attachment=Attachment("photo", content=chart, filename="result.png"))
    back = reply_from_json(reply_to_json(reply))
    assert back.attachment == Attachment("photo", content=chart, filename="result.png")
    with pytest.raises(ValueError):
        reply_to_json(Reply("x", attachment=Attachment("photo", content=b"0" * 2_000_000)))


async def test_sweeps_run_each_due_thing_once_and_survive_a_failing_one(
    sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(session: AsyncSession, now: datetime, settings: Settings) -> int:
        raise RuntimeError("broken sweep")

    async def mark_once(session: AsyncSession, now: datetime, settings: Settings) -> int:
        # Due work marked done in the sweep's own transaction: the second run finds nothing.
        if await session.scalar(select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_key == "swept")):
            return 0
        session.add(ProcessedUpdate(channel="test", update_key="swept", processed_at=now))
        return 1

    monkeypatch.setattr(scheduling, "SWEEPS", (("failing", failing), ("mark", mark_once)))
    settings = Settings()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert await scheduling.run_sweeps(sessionmaker, settings, now) == {"mark": 1}
    assert await scheduling.run_sweeps(sessionmaker, settings, now) == {"mark": 0}
