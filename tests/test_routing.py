"""The routing engine: training and evaluation from the command line, the shipped default model,
keyword fallback, loading without blocking, hot swaps, corrections and retraining."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.categories import load_categories
from bot.cli import main
from bot.routing import DEFAULT_MODEL, Example, LinearModel, RoutingEngine, Tokenizer
from bot.routing.default_data import seed_examples
from bot.routing.tokenizer import normalize
from bot.routing.training import TrainingConfig, train
from bot.services import corrections, routing_updates
from storage.models import CategoryCorrection, RoutingModelVersion
from tests.conftest import loop_heartbeat

CATEGORIES = load_categories()


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    tokenizer = Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.fixture(scope="module")
def seed_model(tokenizer: Tokenizer) -> LinearModel:
    texts, labels = seed_examples()
    return train(tokenizer, texts, labels, TrainingConfig(min_document_frequency=1))


def seeds() -> list[Example]:
    texts, labels = seed_examples()
    return [Example(t, label) for t, label in zip(texts, labels)]


def write_csv(path: Path, rows: list[tuple[str, str]], columns: tuple[str, str] = ("text", "label")) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def test_train_classify_and_eval_on_any_label_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fruit = [("我爱吃苹果和香蕉", "fruit"), ("葡萄和西瓜都很甜", "fruit"), ("橘子苹果梨子", "fruit"), ("香蕉西瓜葡萄", "fruit"),
             ("今天下雨了要带伞", "weather"), ("明天晴天气温升高", "weather"), ("台风来了风很大", "weather"), ("下雪了很冷", "weather"),
             ("足球比赛踢得很好", "sport"), ("篮球联赛今天开打", "sport"), ("他跑步拿了冠军", "sport"), ("游泳比赛很精彩", "sport")]
    data = write_csv(tmp_path / "train.csv", fruit * 2, columns=("message", "topic"))
    model = tmp_path / "model.npz"
    assert main(["route", "train", "--data", str(data), "--text-column", "message", "--label-column", "topic", "--out", str(model)]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["labels"] == ["fruit", "sport", "weather"]

    assert main(["route", "classify", "--model", str(model), "西瓜和苹果"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("fruit\t")
    scores = [float(line.split("\t")[1]) for line in lines]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001

    # A second category after the primary one counts as the primary alone.
    test = write_csv(tmp_path / "test.csv", [("香蕉苹果", "fruit"), ("今天下大雨", "weather;sport"), ("篮球比赛", "sport")], columns=("message", "topic"))
    assert main(["route", "eval", "--model", str(model), "--data", str(test), "--text-column", "message", "--label-column", "topic"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(out[-1])
    assert {"macro_f1", "accuracy", "top3_recall", "ms_per_message", "n"} <= set(summary)
    assert summary["n"] == 3 and summary["top3_recall"] == 1.0 and summary["accuracy"] >= 2 / 3
    assert any(line.startswith("weather") for line in out[:-1])


def test_eval_refuses_a_file_without_the_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "wrong.csv", [("x", "y")], columns=("body", "dept"))
    assert main(["route", "eval", "--data", str(data)]) == 1
    error = capsys.readouterr().err
    assert "no column" in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("楼道里的下水管又堵了，臭得不行", "drainage"),
        ("电梯坏了三天了，我妈八十岁下不了楼", "elevator"),
        ("楼下烧烤店吵到半夜，根本睡不着", "noise_nuisance"),
        ("小区门口的路灯不亮，晚上很黑", "greening_lighting"),
        ("家里停水一整天了也没通知", "water"),
        ("物业费年年涨，服务却越来越差", "property_management"),
        ("有人在楼顶搭了个违章建筑", "illegal_construction"),
        # By topic, not by place (categories.md): outside the compound still goes to its category.
        ("国道上好多坑，开车很危险", "roads"),
        ("城区主干道的井盖丢了", "roads"),
        ("街上摆摊的把人行道全占了", "illegal_construction"),
        ("马路边的大树被风刮倒了没人管", "greening_lighting"),
        ("村口的垃圾堆了半个月没人清运", "waste"),
        # `other` is for topics no category covers.
        ("孩子小学入学要准备什么材料", "other"),
        ("公司拖欠我三个月工资", "other"),
        ("出租车不打表乱收费", "other"),
    ],
)
def test_the_shipped_model_routes_resident_messages(tokenizer: Tokenizer, text: str, category: str) -> None:
    engine = RoutingEngine(CATEGORIES, tokenizer)
    engine.swap(LinearModel.load(DEFAULT_MODEL))
    predictions = engine.classify(text)
    assert predictions[0].category == category, predictions
    assert len(predictions) == 3 and all(p.category in CATEGORIES for p in predictions)
    assert set(engine.model.labels if engine.model else []) == set(CATEGORIES)


def test_keywords_answer_before_the_model_and_for_categories_it_never_saw(tokenizer: Tokenizer, seed_model: LinearModel) -> None:
    engine = RoutingEngine(CATEGORIES, tokenizer)
    assert not engine.ready
    guesses = engine.classify("楼道灯坏了好几天")
    assert guesses[0].category == "greening_lighting" and not engine.is_confident(guesses)  # a keyword guess: ask
    assert engine.classify("今天天气不错")[0].category == "other"

    # A model that knows only some categories still proposes the others from their keywords.
    partial = train(tokenizer, ["停水了", "没水用", "水压低", "电梯坏了", "电梯关人", "电梯异响"], ["water"] * 3 + ["elevator"] * 3,
                    TrainingConfig(min_document_frequency=1))
    engine.swap(partial)
    assert "gas" in [p.category for p in engine.classify("闻到燃气味，是不是漏气了")]


async def test_loading_does_not_block_the_event_loop(tokenizer: Tokenizer) -> None:
    engine = RoutingEngine(CATEGORIES, Tokenizer())
    async with loop_heartbeat() as beats:
        loading = asyncio.create_task(engine.load())
        await asyncio.sleep(0.05)
        answered_meanwhile = engine.classify("电梯坏了")  # keywords, while jieba and the model load
        await loading
    assert answered_meanwhile[0].category == "elevator"
    assert engine.ready and beats[0] >= 5


def test_a_swap_replaces_the_model_whole(tokenizer: Tokenizer, seed_model: LinearModel) -> None:
    engine = RoutingEngine(CATEGORIES, tokenizer)
    engine.swap(seed_model)
    assert engine.is_confident(engine.classify("楼道里的下水管又堵了，臭得不行"))  # a sentence it was trained on
    before = engine.classify("楼道灯坏了")[0].category
    only_two = train(tokenizer, ["灯坏了", "灯不亮", "楼道灯", "水管爆了", "停水", "没水"], ["water"] * 3 + ["elevator"] * 3,
                     TrainingConfig(min_document_frequency=1))
    engine.swap(only_two)
    assert before == "greening_lighting"
    assert engine.classify("楼道灯坏了")[0].category == "water"  # the deliberately wrong new model is in use


async def test_bad_corrections_are_ignored(sessionmaker: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture) -> None:
    async with sessionmaker.begin() as session:
        assert not await corrections.record_correction(session, CATEGORIES, "楼道灯坏了", "lighting_typo")
        assert not await corrections.record_correction(session, CATEGORIES, "   ", "water")
        assert await corrections.record_correction(session, CATEGORIES, "楼道灯坏了", "greening_lighting", previous_category="power")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CategoryCorrection)) == 1
    assert "lighting_typo" in caplog.text

    engine = RoutingEngine(CATEGORIES, Tokenizer())
    usable = engine.usable_examples([Example("停水了", "water"), Example("x", "no_such"), Example("", "water")])
    assert usable == [Example("停水了", "water")]
    assert await engine.retrain([Example("停水了", "water"), Example("y", "no_such")]) is None
    assert engine.model is None  # nothing was swapped in


async def test_retraining_learns_corrections_and_reaches_other_workers(
    sessionmaker: async_sessionmaker[AsyncSession], tokenizer: Tokenizer
) -> None:
    odd = "阳台上的鸽子窝"  # a message no seed covers, corrected to a category
    async with sessionmaker.begin() as session:
        for _ in range(2):
            await corrections.record_correction(session, CATEGORIES, odd, "waste", previous_category="other")
    first, second = RoutingEngine(CATEGORIES, tokenizer), RoutingEngine(CATEGORIES, tokenizer)
    version = await routing_updates.retrain(first, sessionmaker, seeds(), run_key="2026-11-24")
    assert version is not None and first.version == version
    assert first.classify(odd)[0].category == "waste"

    # The other worker's nightly run finds the day claimed, and picks the model up instead.
    assert await routing_updates.retrain(second, sessionmaker, seeds(), run_key="2026-11-24") is None
    assert await routing_updates.refresh_if_newer(second, sessionmaker)
    assert second.version == version and second.classify(odd)[0].category == "waste"
    assert not await routing_updates.refresh_if_newer(second, sessionmaker)
    async with sessionmaker() as session:
        stored = await session.scalar(select(RoutingModelVersion).where(RoutingModelVersion.id == version))
        assert stored is not None and stored.corrections == 2 and stored.examples == len(seeds())


def test_segmentation_keeps_domain_words_whole_and_drops_punctuation(tokenizer: Tokenizer) -> None:
    words = tokenizer.words(normalize("楼道里的下水管又堵了，臭得不行！加装电梯的事也没人管。"))
    assert {"楼道", "下水管", "加装电梯"} <= set(words)
    assert "，" not in words and "!" not in words
    assert words[-1] == "管"  # the whole message is segmented, not only its opening


def test_probabilities_of_many_messages_match_one_at_a_time(tokenizer: Tokenizer, seed_model: LinearModel) -> None:
    texts = ["楼道灯坏了一个月没人修", "电梯又困人了", "小区门口烧烤太吵"]
    one_by_one = [seed_model.probabilities(seed_model.scores(seed_model.features(tokenizer, t))) for t in texts]
    together = seed_model.probabilities(np.stack([seed_model.scores(seed_model.features(tokenizer, t)) for t in texts]))
    assert np.allclose(together, np.stack(one_by_one))
    assert np.allclose(together.sum(axis=1), 1.0)
