"""In-process publish/subscribe that feeds the watch streams.

Topics are tuples. A subscriber is an unbounded queue: the engine never blocks on a slow
stream, and streams coalesce as they see fit (details streams just re-read the current state).
A subscription must be taken *before* reading a snapshot, so nothing published in between
is lost (duplicates are harmless: every update carries the full current phase).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Iterator
from typing import Any


class Subscription:
    def __init__(self, hub: Hub, topics: tuple[Hashable, ...]) -> None:
        self._hub = hub
        self.topics = topics
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    async def get(self, closing: asyncio.Event) -> Any | None:
        """The next item, or None once `closing` is set."""
        if not self.queue.empty():
            return self.queue.get_nowait()
        getter = asyncio.ensure_future(self.queue.get())
        closer = asyncio.ensure_future(closing.wait())
        try:
            done, _ = await asyncio.wait({getter, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closer.cancel()
        if getter in done:
            return getter.result()
        getter.cancel()
        return None

    def drain(self) -> list[Any]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


class Hub:
    def __init__(self) -> None:
        self._subs: dict[Hashable, set[Subscription]] = {}

    @contextlib.contextmanager
    def subscribe(self, *topics: Hashable) -> Iterator[Subscription]:
        sub = Subscription(self, topics)
        for t in topics:
            self._subs.setdefault(t, set()).add(sub)
        try:
            yield sub
        finally:
            for t in topics:
                subs = self._subs.get(t)
                if subs is not None:
                    subs.discard(sub)
                    if not subs:
                        del self._subs[t]

    def publish(self, topic: Hashable, item: Any) -> None:
        for sub in self._subs.get(topic, ()):
            sub.queue.put_nowait(item)

    def has_subscribers(self, topic: Hashable) -> bool:
        return topic in self._subs
