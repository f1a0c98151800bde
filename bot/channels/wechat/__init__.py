"""WeChat Official Accounts (公众号): the webhook WeChat pushes XML to, the API the bot calls,
the custom menu and the parametric QR codes for joining. Plumbing only: every conversation is
the channel-neutral one (bot/conversations), shown as text with numbered options."""

from bot.conversations.turn import ChannelTraits
from bot.services import people

CHANNEL = people.WECHAT
TRAITS = ChannelTraits(CHANNEL, numbered_options=True)
