"""{{name}}: a Corral tool in Python. The world in `wit/world.wit` declares
what it exports; componentize-py generates the `wit_world` module from it."""

from componentize_py_types import Err
import wit_world
from wit_world import TextStats
from wit_world.imports import log


class WitWorld(wit_world.WitWorld):
    def count_words(self, text: str) -> TextStats:
        if not text:
            raise Err("the text is empty: give the text to count")
        stats = TextStats(words=len(text.split()), lines=len(text.splitlines()), characters=len(text))
        log.log(log.Level.DEBUG, "{{name}}", f"counted {stats.words} words")
        return stats
