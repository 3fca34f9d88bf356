"""Which ID numbers may already be in the registry while a file is imported, in 8 bytes a person.

A roster chunk asks the database about the people it names (to tell new, changed and unchanged
rows apart). For a new county that is a look-up per row that finds nothing, and on PostgreSQL a
join whose cost grew with the table, chunk after chunk. `KnownIds` holds every ID number that was
registered when the import began plus every one this file has written since, so only the chunk's
IDs found here need the database: the answer (the `existing` people) is exactly the same.

An ID number is kept as the integer of its first 17 digits: the 18th is their check character, so
two valid numbers with the same 17 digits are the same number. Runs are kept sorted and merged
like a binary counter (a run is merged into the previous one when that one is not bigger), so
adding a chunk costs O(chunk log file) and a look-up a binary search per run (at most ~20 runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

_POWERS = 10 ** np.arange(16, -1, -1, dtype=np.int64)


def as_ints(numbers: Sequence[str]) -> np.ndarray | None:
    """The 17-digit integers of 18-character ASCII ID numbers, or None if any is not one."""
    n = len(numbers)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    joined = "".join(numbers)
    if len(joined) != 18 * n or not joined.isascii():
        return None
    digits = np.frombuffer(joined.encode(), dtype=np.uint8).reshape(n, 18)[:, :17].astype(np.int64) - 48
    if ((digits < 0) | (digits > 9)).any():
        return None
    return digits @ _POWERS


class KnownIds:
    """`maybe(numbers)`: which of them may be registered; `add(numbers)`: now they are.
    When an ID number in the database is not a plain 18-character one (not written by the
    importers), `exact` is False and every number counts as maybe registered."""

    def __init__(self, registered: Iterable[Sequence[str]]) -> None:
        self.exact = True
        self._runs: list[np.ndarray] = []
        for batch in registered:
            if self.exact:
                self.add(batch)

    def add(self, numbers: Sequence[str]) -> None:
        if not self.exact:
            return
        ints = as_ints(numbers)
        if ints is None:
            self.exact, self._runs = False, []
            return
        run = np.sort(ints)
        while self._runs and len(self._runs[-1]) <= len(run):
            run = np.sort(np.concatenate((self._runs.pop(), run)), kind="mergesort")
        self._runs.append(run)

    def maybe(self, numbers: Sequence[str]) -> list[bool]:
        ints = as_ints(numbers) if self.exact else None
        if ints is None:
            return [True] * len(numbers)
        hit = np.zeros(len(ints), dtype=bool)
        for run in self._runs:
            at = np.searchsorted(run, ints)
            hit |= run[np.minimum(at, len(run) - 1)] == ints
        return hit.tolist()
