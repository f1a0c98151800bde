"""Everything the bot sends on its own: the outbox (written in the transaction of the change
that causes it) and the sender that delivers it within the channel's limits."""
