"""The model of a watched run's latest checkpoint, for the views that need a model (the
Attention tab): loaded and run on threads that end, never on the GUI thread.

A checkpoint can be large (the `lecture` preset's is ~130 MB with its optimizer state) and
may sit on a slow network folder, so it is loaded on a thread of its own; so is each
forward pass for the attention maps (torch would otherwise start an OpenMP thread team on
the GUI thread, which slows a later training run: DEVELOPERS.md). One job runs at a time.
The job only computes: the GUI thread collects its result with `take()` from its polling
timer (run_watch.py), so no Qt object crosses threads and nothing is emitted from the job.
Only the model and its vocabulary are kept; the optimizer state is dropped after loading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..attention_probe import AttentionMaps, AttentionSettings, attention_maps
from ..checkpoint import CheckpointError, load_checkpoint, load_model
from ..openmp import alone
from ..tokenizer import CharTokenizer


@dataclass
class Loaded:
    step: int
    model: object  # the checkpoint's model, in eval mode, on the CPU
    tokenizer: CharTokenizer


@dataclass
class JobResult:
    loaded: Loaded | None = None  # a new checkpoint's model (None for a refresh)
    maps: AttentionMaps | None = None
    error: str | None = None  # the checkpoint could not be loaded, and why


class WatchedModel:
    """The latest checkpoint's model and the job that loads it or draws maps from it."""

    def __init__(self):
        self.current: Loaded | None = None
        self._thread: threading.Thread | None = None
        self._result: JobResult | None = None

    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def load(self, path: Path, attention: AttentionSettings) -> bool:
        """Load checkpoint.pt and draw its maps (False if a job is still running)."""
        def work() -> JobResult:
            try:
                ckpt = load_checkpoint(path)
                model, tokenizer = load_model(ckpt)
            except CheckpointError as e:
                return JobResult(error=str(e))
            loaded = Loaded(ckpt.step, model, tokenizer)
            return JobResult(loaded, attention_maps(model, tokenizer, attention.prompt, ckpt.step))
        return self._start(work)

    def refresh(self, attention: AttentionSettings) -> bool:
        """Draw the current model's maps for the prompt (False if busy or there is no model)."""
        current = self.current
        if current is None:
            return False
        return self._start(lambda: JobResult(
            maps=attention_maps(current.model, current.tokenizer, attention.prompt, current.step)))

    def take(self) -> JobResult | None:
        """The finished job's result, once (None while it runs or when there was none)."""
        if self._thread is None or self._thread.is_alive():
            return None
        self._thread.join()
        self._thread, result, self._result = None, self._result, None
        if result is not None and result.loaded is not None:
            self.current = result.loaded
        return result

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait for the job (closing the window); True if none is left running."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy()

    def _start(self, work: Callable[[], JobResult]) -> bool:
        if self.busy():
            return False
        self.take()  # a result not collected yet is superseded

        def run() -> None:
            try:
                alone()  # no OpenMP team for this short thread (openmp.py)
                self._result = work()
            except Exception as e:  # a bug must not kill the thread silently: show it
                self._result = JobResult(error=f"{type(e).__name__}: {e}")

        self._thread = threading.Thread(target=run, name="gptviz-watched-checkpoint", daemon=True)
        self._thread.start()
        return True
