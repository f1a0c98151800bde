"""A time typed the way people write it: "2026-11-26 09:00", "11-26 9:00", "11月26日 9点",
"明天 9:00", "今天18:30", "tomorrow 9:00", or just "9:00" (the next time it comes)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAY_WORDS = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}
_PATTERN = re.compile(
    r"^\s*(?:(?P<word>今天|明天|后天|today|tomorrow)|(?:(?P<year>\d{4})[-/年.])?(?P<month>\d{1,2})[-/月.](?P<day>\d{1,2})日?)?"
    r"\s*(?P<hour>\d{1,2})(?:[:：点时](?P<minute>\d{1,2})?分?)?\s*$",
    re.IGNORECASE,
)


def parse_time(text: str, now: datetime, zone: str) -> datetime | None:
    """The moment `text` names in the time zone `zone`, as an aware datetime; None if it names
    none, or names a moment that has passed."""
    match = _PATTERN.match(unicodedata.normalize("NFKC", text))  # full-width digits and colons
    if match is None:
        return None
    local_now = now.astimezone(ZoneInfo(zone))
    try:
        at = time(int(match["hour"]), int(match["minute"] or 0))
        if match["word"]:
            day = local_now.date() + timedelta(days=_DAY_WORDS[match["word"].lower()])
        elif match["month"]:
            day = date(int(match["year"] or local_now.year), int(match["month"]), int(match["day"]))
        else:
            day = local_now.date() if at > local_now.time() else local_now.date() + timedelta(days=1)
    except ValueError:  # 25:00, February 30th
        return None
    moment = datetime.combine(day, at, tzinfo=ZoneInfo(zone))
    return moment if moment > now else None
