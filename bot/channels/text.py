"""Replies as plain text for a channel without buttons (WeChat, SMS, a terminal): the options
become numbered lines, and the person answers with the number or the option's words."""

from __future__ import annotations

from bot.replies import L, Reply, Response, render_text


def render(reply: Reply, locale: str) -> str:
    lines = []
    if reply.title is not None:
        lines.append("【" + render_text(reply.title, locale) + "】")
    lines.append(render_text(reply.text, locale))
    for number, option in enumerate(reply.options, start=1):
        lines.append(render_text(L("Reply {number}: {label}", number=number, label=option.label), locale))
    if reply.link is not None:
        lines.append(render_text(reply.link.label, locale) + ": " + reply.link.url)
    return "\n".join(lines)


def render_response(response: Response, locale: str) -> list[str]:
    """Each reply as one message; a notice (no toasts here) as a message of its own."""
    messages = [render(reply, locale) for reply in response.replies]
    if response.notice is not None and not messages:
        messages.append(render_text(response.notice, locale))
    return messages
