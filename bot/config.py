"""Settings read from the environment (prefix GONGJIAN_) and from a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.categories import DEFAULT_CATEGORIES_FILE
from bot.routing.default_data import DEFAULT_TRAINING_CSV

TELEGRAM_API_URL = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGJIAN_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./gongjian.db"
    telegram_api_url: str = TELEGRAM_API_URL
    # Used in invite links; asked from the Bot API (getMe) when not set.
    bot_username: str | None = None
    redis_url: str | None = None
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"

    # Complaint routing: the categories (a TOML file a deployment may edit), the labelled data
    # that retraining starts from, and the local hour of the nightly retraining.
    categories_file: Path = DEFAULT_CATEGORIES_FILE
    routing_training_data: Path | None = DEFAULT_TRAINING_CSV
    routing_retrain_hour: int = Field(default=3, ge=0, le=23)

    # Messages the bot sends on its own (bot/delivery): at most `delivery_rate` a second over
    # all chats (Telegram allows about 30) and one per `delivery_chat_interval` seconds to a
    # chat (Telegram: one a second). With redis_url, all workers share these limits.
    delivery_rate: float = Field(default=25.0, gt=0)
    delivery_chat_interval: float = Field(default=1.1, ge=0)

    # Webhook mode (gongjian run --webhook): Telegram posts to webhook_base_url + webhook_path,
    # and every request must carry webhook_secret in X-Telegram-Bot-Api-Secret-Token.
    webhook_base_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
