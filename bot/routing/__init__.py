"""The routing engine: which category a resident's free text belongs to.

    engine = RoutingEngine(load_categories())
    await engine.load()                 # in a worker thread; keywords answer meanwhile
    engine.classify("楼道里的下水管又堵了")  # [Prediction("drainage", 0.93), ...]

No chat framework inside: reports, the question queue and the command line all use it.
"""

from bot.routing.engine import DEFAULT_MODEL, Example, RoutingEngine
from bot.routing.model import LinearModel, Prediction
from bot.routing.tokenizer import Tokenizer

__all__ = ["DEFAULT_MODEL", "Example", "LinearModel", "Prediction", "RoutingEngine", "Tokenizer"]
