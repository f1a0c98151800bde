"""Text helpers shared by every channel."""

from __future__ import annotations

MAX_MESSAGE_LENGTH = 4096


def split_message(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split at line breaks where possible, so no part is longer than `limit`.

    Formatting tags never span lines in gongjian's messages, so a split at a line break keeps
    them balanced; a single line longer than the limit is cut hard.
    """
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current.strip():
        parts.append(current)
    return [p.rstrip("\n") or p for p in parts]
