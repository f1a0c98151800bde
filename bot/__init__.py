"""gongjian (共建): residents take part in the renovation of old residential compounds."""

from bot.aiogram_models import defer_builds

# Before anything imports aiogram: its ~400 pydantic models are built when used, not all at import.
defer_builds()
