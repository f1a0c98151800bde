"""Channels' plumbing: how a channel-neutral reply is shown on Telegram, or on a text-only
channel as numbered lines."""
