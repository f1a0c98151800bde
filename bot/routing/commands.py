"""`gongjian route ...`: classify, train, evaluate, and rebuild the default model."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bot.config import Settings
from bot.i18n import _
from bot.routing.default_data import DEFAULT_TRAINING_CSV, default_training_set
from bot.routing.engine import DEFAULT_MODEL
from bot.routing.evaluation import evaluate, format_table, read_labelled_csv
from bot.routing.model import LinearModel
from bot.routing.tokenizer import Tokenizer


def add_route_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    route = commands.add_parser("route", help="the complaint routing engine")
    route_commands = route.add_subparsers(dest="route_command", required=True)

    classify = route_commands.add_parser("classify", help="the three likeliest categories of a text")
    classify.add_argument("text")
    classify.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    classify.set_defaults(handler=cmd_classify)

    train = route_commands.add_parser("train", help="train a model on a labelled CSV (any label set)")
    _data_arguments(train)
    train.add_argument("--out", type=Path, required=True)
    train.set_defaults(handler=cmd_train)

    evaluate_ = route_commands.add_parser("eval", help="per-category scores; the last line is JSON")
    evaluate_.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    _data_arguments(evaluate_)
    evaluate_.set_defaults(handler=cmd_eval)

    retrain = route_commands.add_parser("retrain", help="retrain now with the stored corrections; running bots pick it up")
    retrain.set_defaults(handler=cmd_retrain)

    build = route_commands.add_parser("build-default", help="rebuild the shipped default model")
    build.add_argument("--data", type=Path, default=DEFAULT_TRAINING_CSV, help="complaints_train.csv (see README)")
    build.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    build.set_defaults(handler=cmd_build_default)


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="label")


def _loaded(path: Path) -> tuple[Tokenizer, LinearModel]:
    tokenizer = Tokenizer()
    tokenizer.initialize()
    return tokenizer, LinearModel.load(path)


def cmd_classify(args: argparse.Namespace, _settings: object) -> int:
    tokenizer, model = _loaded(args.model)
    for prediction in model.predict(tokenizer, args.text, 3):
        print(f"{prediction.category}\t{prediction.score:.4f}")
    return 0


def cmd_train(args: argparse.Namespace, _settings: object) -> int:
    texts, labels = read_labelled_csv(args.data, args.text_column, args.label_column)
    _train_and_save(texts, labels, args.out)
    return 0


def _train_and_save(texts: list[str], labels: list[str], out: Path) -> None:
    """Train, write the model, and print one JSON line of what was made."""
    from bot.routing.training import train

    started = time.perf_counter()
    model = train(Tokenizer(), texts, labels)
    model.save(out)
    print(json.dumps({"n": len(texts), "labels": model.labels, "features": len(model.idf), "temperature": round(model.temperature, 4),
                      "seconds": round(time.perf_counter() - started, 1), "out": str(out)}, ensure_ascii=False))


def cmd_eval(args: argparse.Namespace, _settings: object) -> int:
    texts, labels = read_labelled_csv(args.data, args.text_column, args.label_column)
    tokenizer, model = _loaded(args.model)
    report = evaluate(lambda text: model.predict(tokenizer, text, 3), texts, labels)
    print(format_table(report))
    print(json.dumps(report.summary()))
    return 0


def cmd_build_default(args: argparse.Namespace, _settings: object) -> int:
    texts, labels = default_training_set(args.data)
    _train_and_save(texts, labels, args.out)
    return 0


def cmd_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from bot.categories import load_categories
    from bot.routing.engine import RoutingEngine
    from bot.services import routing_updates
    from storage import migrate
    from storage.db import create_engine, create_sessionmaker

    base = routing_updates.base_examples(settings.routing_training_data)
    if base is None:
        print(_("The training data {path} is not available: set GONGJIAN_ROUTING_TRAINING_DATA.").format(path=settings.routing_training_data), file=sys.stderr)
        return 1

    async def run() -> int | None:
        database = create_engine(settings.database_url)
        try:
            await migrate.upgrade(database)
            routing = RoutingEngine(load_categories(settings.categories_file))
            return await routing_updates.retrain(routing, create_sessionmaker(database), base)
        finally:
            await database.dispose()

    version = asyncio.run(run())
    print(json.dumps({"version": version}))
    return 0 if version is not None else 1
