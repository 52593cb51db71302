"""Where the window keeps what each sampled character was drawn from, within a memory budget.

The worker sends, with each chunk of streamed text, a ChoiceBatch (next_char_probs.py) of the
top-k next-character probabilities of those characters: about 140 bytes a character with
k = 10. The log files them under the sample they belong to, answers "what was character
`offset` of sample `id` drawn from?" by binary search, and drops the oldest samples' records
once it holds more than `max_bytes` (16 MB ≈ 120,000 characters: every sample the samples
view keeps at its default length). A sample without records simply shows none.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict

from ..next_char_probs import CharProbs, ChoiceBatch

DEFAULT_MAX_BYTES = 16_000_000


class ProbabilityLog:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self._samples: OrderedDict[int, list[ChoiceBatch]] = OrderedDict()  # oldest first
        self._starts: dict[int, list[int]] = {}
        self.nbytes = 0

    def add(self, sample_id: int, batch: ChoiceBatch) -> None:
        """File a batch under its sample; batches of one sample arrive in order."""
        batches = self._samples.setdefault(sample_id, [])
        self._starts.setdefault(sample_id, [])
        batches.append(batch)
        self._starts[sample_id].append(batch.start)
        self.nbytes += batch.nbytes
        while self.nbytes > self.max_bytes and len(self._samples) > 1:
            self.drop(next(iter(self._samples)))
        while self.nbytes > self.max_bytes and len(batches) > 1:  # one huge sample: its start goes
            old = batches.pop(0)
            self._starts[sample_id].pop(0)
            self.nbytes -= old.nbytes

    def at(self, sample_id: int, offset: int) -> CharProbs | None:
        """The figures of the character at `offset` of the sample's text, or None."""
        starts = self._starts.get(sample_id)
        if not starts:
            return None
        i = bisect.bisect_right(starts, offset) - 1
        return self._samples[sample_id][i].row(offset) if i >= 0 else None

    def first_offset(self, sample_id: int) -> int | None:
        """The offset of the first character with a record (the prompt comes before it)."""
        starts = self._starts.get(sample_id)
        return starts[0] if starts else None

    def settings_of(self, sample_id: int) -> tuple[float, int | None, float | None] | None:
        """(temperature, top_k, top_p) the sample was drawn with, if any record is kept."""
        batches = self._samples.get(sample_id)
        if not batches:
            return None
        b = batches[0]
        return b.temperature, b.top_k, b.top_p

    def drop(self, sample_id: int) -> None:
        for batch in self._samples.pop(sample_id, []):
            self.nbytes -= batch.nbytes
        self._starts.pop(sample_id, None)

    def clear(self) -> None:
        self._samples.clear()
        self._starts.clear()
        self.nbytes = 0

    def __contains__(self, sample_id: int) -> bool:
        return sample_id in self._samples
