"""torch's CPU thread count: measured rather than assumed, and changed only for the duration of a call.

torch's thread count is process-wide. :func:`torch_threads` sets it for one backend call and puts
the caller's value back afterwards; inside, a :class:`ThreadTuner` may change it pass by pass.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager


def available_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def torch_threads(threads: int | None = None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads (None: as they are), then restore the caller's count."""
    import torch

    before = torch.get_num_threads()
    if threads and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class ThreadTuner:
    """Chooses torch's CPU thread count while scoring, by measured tokens/s.

    On a shared CPU one thread can beat two by 2-5x (threads wait for each other) and the
    winner changes with the load. All CPUs are used first; the other choice is tried every
    ``EXPLORE``-th forward pass, and more often while the current choice runs well below its
    best speed (a sign of contention); the faster one (recent average) is kept. Use
    :meth:`measure` inside :func:`torch_threads`, which restores the count afterwards.
    """

    EXPLORE = 20
    EXPLORE_SLOWED = 4
    SLOWED = 0.6

    def __init__(self, choices: tuple[int, ...]):
        self.choices = tuple(dict.fromkeys(choices))
        self.rate: dict[int, float] = {}
        self.peak: dict[int, float] = {}
        self.calls = 0
        self.current = self.choices[-1]  # the count of the latest pass

    def choose(self) -> int:
        self.calls += 1
        if not self.rate:
            return self.choices[-1]
        best = max(self.rate, key=self.rate.get)
        others = [c for c in self.choices if c != best]
        slowed = self.rate[best] < self.SLOWED * self.peak[best]
        if others and (self.calls % self.EXPLORE == 0 or (slowed and self.calls % self.EXPLORE_SLOWED == 0)):
            untried = [c for c in others if c not in self.rate]
            return (untried or others)[0]
        return best

    def reset(self) -> None:
        self.rate.clear()
        self.peak.clear()

    @contextmanager
    def measure(self, tokens: int) -> Iterator[None]:
        import torch

        threads = self.current = self.choose()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        start = time.perf_counter()
        yield
        rate = tokens / max(time.perf_counter() - start, 1e-9)
        old = self.rate.get(threads)
        self.rate[threads] = rate if old is None else 0.5 * old + 0.5 * rate
        self.peak[threads] = max(self.peak.get(threads, 0.0), rate)


__all__ = ["ThreadTuner", "available_threads", "torch_threads"]
