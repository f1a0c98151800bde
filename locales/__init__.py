"""gettext catalogues (.po); compiled in memory when the bot starts."""

from pathlib import Path

LOCALES_DIR = Path(__file__).parent
DOMAIN = "gongjian"
