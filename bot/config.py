"""Settings read from the environment (prefix GONGJIAN_) and from a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.categories import DEFAULT_CATEGORIES_FILE
from bot.routing.default_data import DEFAULT_TRAINING_CSV
from storage.db import POOL_SIZE

TELEGRAM_API_URL = "https://api.telegram.org"
WECHAT_API_URL = "https://api.weixin.qq.com"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGJIAN_", env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./gongjian.db"
    # PostgreSQL: connections each process keeps open (SQLite has one); more than the updates
    # handled at once (32) gains nothing.
    database_pool_size: int = Field(default=POOL_SIZE, ge=1, le=100)
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
    # How often due work is swept (bot/scheduling.py); 0 turns the sweeps off, for tests that run
    # them by hand at a time of their choosing.
    sweep_seconds: int = Field(default=30, ge=0)
    # Problem reports: hours to the deadline per category code, over the categories file's:
    # GONGJIAN_REPORT_DEADLINES='{"elevator": 24}'.
    report_deadlines: dict[str, int] = Field(default_factory=dict)

    # Messages the bot sends on its own (bot/delivery): at most `delivery_rate` a second over
    # all chats (Telegram allows about 30) and one per `delivery_chat_interval` seconds to a
    # chat (Telegram: one a second). With redis_url, all workers share these limits.
    delivery_rate: float = Field(default=25.0, gt=0)
    delivery_chat_interval: float = Field(default=1.1, ge=0)

    # Questions to grid workers: a waiting question reminds its grid's workers after
    # `question_reminder_hours`; one still unanswered after `question_deadline_hours` is
    # escalated to the community's administrators.
    question_reminder_hours: float = Field(default=4.0, gt=0)
    question_deadline_hours: float = Field(default=24.0, gt=0)

    # Webhook mode (gongjian run --webhook): Telegram posts to webhook_base_url + webhook_path,
    # and every request must carry webhook_secret in X-Telegram-Bot-Api-Secret-Token.
    webhook_base_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)

    # WeChat Official Account (公众号): on when the app id, app secret and token are all set.
    # WeChat pushes to webhook_host:webhook_port + wechat_path; safe mode (安全模式) needs the
    # EncodingAESKey. The API may be any compatible server (the emulator in tests and the demo).
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_encoding_aes_key: SecretStr | None = None
    wechat_api_url: str = WECHAT_API_URL
    wechat_path: str = "/wechat"
    # Template ids (模板消息) per kind of message the bot sends on its own, as JSON:
    # GONGJIAN_WECHAT_TEMPLATES='{"notice": "..."}': used outside a person's 48-hour window
    # (the kind and the template's fields: bot/delivery/wechat.py); without one, the message
    # waits until the person writes.
    wechat_templates: dict[str, str] = Field(default_factory=dict)
    # WeChat waits 5 seconds for the passive reply; what is not ready by then goes out through
    # the customer-service API. The rest of the 5 seconds is for the network.
    wechat_reply_seconds: float = Field(default=4.0, gt=0, lt=5)

    # Plans: how long the public notice (公示) runs, how long residents have to confirm a
    # completed item (完工确认), and the share of those who answered who must confirm it.
    plan_notice_days: int = Field(default=7, ge=1, le=90)
    plan_acceptance_days: int = Field(default=7, ge=1, le=90)
    plan_acceptance_share: float = Field(default=0.5, gt=0, le=1)

    def wechat_required(self) -> dict[str, object]:
        return {"GONGJIAN_WECHAT_APP_ID": self.wechat_app_id, "GONGJIAN_WECHAT_APP_SECRET": self.wechat_app_secret, "GONGJIAN_WECHAT_TOKEN": self.wechat_token}

    def wechat_missing(self) -> list[str]:
        """The WeChat settings still needed; all of them missing means WeChat is simply off."""
        return [name for name, value in self.wechat_required().items() if not value]

    @property
    def wechat_enabled(self) -> bool:
        return not self.wechat_missing()
