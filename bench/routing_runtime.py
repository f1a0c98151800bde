"""The routing engine at run time: jieba start, model load, time per message, model size, and
the whole bot's resident memory once the model is in.

    python bench/routing_runtime.py [--data ../shared/data/complaints_train.csv] [--model PATH]

The last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr  # noqa: E402

from bot.app import application  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.emulator import BotApiEmulator  # noqa: E402
from bot.routing import DEFAULT_MODEL, LinearModel, Tokenizer  # noqa: E402
from bot.routing.default_data import DEFAULT_TRAINING_CSV  # noqa: E402
from bot.routing.evaluation import read_labelled_csv  # noqa: E402
from bot.services import routing_updates  # noqa: E402


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bot_memory() -> float:
    """Assemble the real bot (database, dispatcher, router) and load the default model."""
    emulator = BotApiEmulator()
    base_url = await emulator.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(bot_token=SecretStr(emulator.token), telegram_api_url=base_url,
                            database_url=f"sqlite+aiosqlite:///{folder}/bench.db", _env_file=None)
        async with application(settings) as app:
            await routing_updates.load_current(app.routing, app.sessionmaker)
            app.routing.classify("楼道灯坏了")
            memory = resident_mb()
    await emulator.stop()
    return memory


def bot_memory_in_fresh_process() -> float:
    """In a process of its own, so that nothing this benchmark loaded counts."""
    done = subprocess.run([sys.executable, __file__, "--bot-memory-only"], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_TRAINING_CSV)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--bot-memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot_memory_only:
        print(asyncio.run(bot_memory()))
        return

    started = time.perf_counter()
    tokenizer = Tokenizer()
    tokenizer.initialize()
    jieba_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = LinearModel.load(args.model)
    load_seconds = time.perf_counter() - started

    texts, _ = read_labelled_csv(args.data)
    texts = texts[: args.messages]
    model.predict(tokenizer, texts[0])
    started = time.perf_counter()
    for text in texts:
        model.predict(tokenizer, text)
    ms_per_message = 1000 * (time.perf_counter() - started) / len(texts)
    mean_chars = sum(len(t) for t in texts) / len(texts)

    print(json.dumps({
        "jieba_start_s": round(jieba_seconds, 3),
        "model_load_s": round(load_seconds, 3),
        "ms_per_message": round(ms_per_message, 3),
        "mean_message_chars": round(mean_chars),
        "messages": len(texts),
        "model_file_mb": round(args.model.stat().st_size / 2**20, 2),
        "model_features": len(model.idf),
        "bot_rss_mb": round(bot_memory_in_fresh_process(), 1),
    }))


if __name__ == "__main__":
    main()
