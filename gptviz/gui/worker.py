"""The training loop on its own thread, controlled by thread-safe calls, reporting by signals.

`TrainingWorker` builds its `Trainer` on the worker thread and is the only thread that
touches the model. (Measured on this project's 2-core machines: once one thread has run
torch's OpenMP-parallel ops, training on another thread runs at about half speed for as
long as the first lives, so the GUI thread must not even build the model.)

The window calls `pause()`, `resume()`, `step_once()`, `stop()`, `request_sample()`,
`request_save()` and `reconfigure()` from the GUI thread; they only put a command in a
queue, which the loop reads between two optimizer steps. Pause and Stop need not wait
for a long step: a step that may be long (WATCH_STEPS_LONGER_THAN), an evaluation and a
sample look for them as they go and give way (an abandoned step changes nothing; see
Trainer.step). Step likewise cuts short a sample being drawn, so that it does its one
step at once. Everything the worker emits
is a copy made of numpy arrays and Python values, coalesced so that the GUI gets about
30 updates a second however fast the steps come.
"""

from __future__ import annotations

import math
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal, Slot

from ..attention_probe import AttentionSettings, AttentionWatch
from ..checkpoint import save_checkpoint
from ..config import TrainConfig
from ..next_char_probs import DEFAULT_TOP, ChoiceBatch
from ..samplelog import sample_row
from ..sampler import Sampler, SamplingError
from ..trainer import StepInterrupted, Trainer, TrainingError
from .frame_pacer import PACER
from .payloads import Diagnostics, StepBatch

EMIT_INTERVAL = 1 / 30  # seconds between coalesced pieces of a streamed sample
IDLE_WAIT = 0.05  # seconds the paused loop sleeps between looks at the queue
#: A step is watched for Pause and Stop from inside (Trainer.step's should_stop) unless the
#: last one took less than this: a short step ends soon enough on its own, and watching
#: costs ~1% of a `default` step. Pause and Stop must act within 200 ms.
WATCH_STEPS_LONGER_THAN = 0.1  # seconds
#: Diagnostics come on every `diagnostics_every`-th step, or the first multiple of it that
#: keeps them to DIAGNOSTICS_BUDGET of the training time, by what the worker measured a
#: diagnostics step to cost over a plain one (`default`: 12-17 ms on a ~54 ms step, so every
#: 30th-40th step, ~2 s; every 10th cost it ~2.4 % of its training time). They also come on any
#: step expected to end DIAGNOSTICS_AT_LEAST_EVERY seconds of training after the last ones:
#: `lecture` steps take ~9 s on 2 cores (a diagnostics step costs it ~0.17 s, ~2 %), and its
#: views should not wait minutes. A step taken by hand while paused always gets them: it is
#: the one the user wants to look at.
DIAGNOSTICS_BUDGET = 0.01  # share of training time
DIAGNOSTICS_AT_LEAST_EVERY = 5.0  # seconds of training time (pauses and evaluations not counted)


@dataclass
class SampleSettings:
    prompt: str = ""
    temperature: float = 0.8
    top_k: int | None = None
    top_p: float | None = None
    max_new_tokens: int = 300
    every: int = 200  # steps between automatic samples; 0 = only on request
    top_probs: int = DEFAULT_TOP  # next-character probabilities kept per character; 0 = none


class TrainingWorker(QObject):
    stepsReady = Signal(object)  # StepBatch
    evalReady = Signal(object)  # EvalMetrics
    diagnosticsReady = Signal(object)  # Diagnostics
    sampleStarted = Signal(int, object)  # step, val loss (float or None)
    sampleText = Signal(str)  # the next characters of the current sample
    sampleFinished = Signal()
    sampleRecorded = Signal(object)  # samplelog.sample_row() of the sample just ended, for the run dir
    sampleProbs = Signal(object)  # ChoiceBatch: what the characters just sent were drawn from
    attentionReady = Signal(object)  # AttentionMaps of the prompt the Attention view asked for
    stateChanged = Signal(str)  # "running", "paused", "finished", "stopped"
    failed = Signal(str)  # a message for the user; the run is paused, state kept
    saved = Signal(str)  # path of a checkpoint just written
    finished = Signal()  # the loop has returned; the thread may quit

    def __init__(self, make_trainer: Callable[[], Trainer], start_paused: bool = False,
                 diagnostics_every: int = 10, diagnostics_budget: float | None = None):
        super().__init__()
        self._make_trainer = make_trainer
        self.trainer: Trainer | None = None
        self.diagnostics_every = diagnostics_every
        # (0: every `diagnostics_every` steps whatever they cost)
        self.diagnostics_budget = DIAGNOSTICS_BUDGET if diagnostics_budget is None else diagnostics_budget
        self._commands: queue.Queue = queue.Queue()
        self._wake = threading.Event()
        self._paused = start_paused
        self._stop = False
        self._sampling = SampleSettings()
        self._sampling_lock = threading.Lock()
        self.attention = AttentionWatch()  # its prompt and cadence, set from the GUI thread
        self._pending: list = []
        self._last_emit = 0.0
        self._last_step_seconds = math.inf  # unknown before the first step: watch it
        self._diagnosed_at = 0.0  # Trainer.elapsed after the last diagnostics (or at the start)
        self._diagnosed_step = 0  # the step they came with (or the start's)
        self._plain_steps: deque[float] = deque(maxlen=9)  # recent steps without them (not the first)
        self._first_step = True
        self._diagnostics_costs: deque[float] = deque(maxlen=5)  # what they added to recent steps
        self._last_val: float | None = None
        self._eval_due = False
        self._sample_due = False
        self.state = "paused" if start_paused else "running"

    # -- called from the GUI thread ----------------------------------------------------------
    def pause(self) -> None:
        self._post("pause")

    def resume(self) -> None:
        self._post("resume")

    def step_once(self) -> None:
        self._post("step")

    def stop(self) -> None:
        self._post("stop")

    def request_sample(self) -> None:
        self._post("sample")

    def request_save(self, path: str) -> None:
        self._post(("save", path))

    def reconfigure(self, config: TrainConfig) -> None:
        """Go on with changed schedule settings, e.g. a larger max_iters after finishing."""
        self._post(("configure", config))

    def set_sample_settings(self, settings: SampleSettings) -> None:
        with self._sampling_lock:
            self._sampling = settings

    def request_attention(self) -> None:
        self._post("attention")

    def set_attention_settings(self, settings: AttentionSettings) -> None:
        self.attention.configure(settings)

    def _post(self, command) -> None:
        self._commands.put(command)
        self._wake.set()

    # -- the loop, in the worker thread ------------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            try:
                self.trainer = self._make_trainer()
            except (ValueError, TrainingError, OSError) as e:  # bad config, corpus or checkpoint
                self.failed.emit(f"cannot start: {e}")
                return
            self._eval_due = self.trainer.step_count == 0
            self._diagnosed_at = self.trainer.elapsed  # (a resumed run's clock goes on from its checkpoint)
            self._diagnosed_step = self.trainer.step_count
            self._set_state(self.state)
            while not self._stop:
                self._handle_commands()
                if self._stop:
                    break
                if self._eval_due and not self._paused:
                    self._evaluate()
                    continue
                if self._sample_due and not self._paused:
                    self._sample_due = False  # after any due evaluation, so its val is current
                    self._sample()
                    continue
                if self._paused or self.trainer.done:
                    if self.trainer.done and self.state == "running":
                        self._flush()
                        self._set_state("finished")
                    self._wake.wait(IDLE_WAIT)
                    self._wake.clear()
                    continue
                self._train_step()
        except Exception as e:  # noqa: BLE001 - anything unexpected reaches the user, not stderr
            self.failed.emit(f"training stopped by an unexpected error: {type(e).__name__}: {e}")
        finally:
            self._flush()
            self._set_state("stopped")
            self.finished.emit()

    def _handle_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            if command == "stop":
                self._stop = True
                return
            if command == "pause":
                self._paused = True
                self._flush()
                self._set_state("paused")
            elif command == "resume":
                self._paused = False
                self._set_state("finished" if self.trainer.done else "running")
            elif command == "step":
                if self._paused and not self.trainer.done:
                    self._train_step(by_hand=True)
                    self._flush()
            elif command == "sample":
                self._sample()
            elif command == "attention":
                self._attention()
            elif isinstance(command, tuple) and command[0] == "save":
                self._save(command[1])
            elif isinstance(command, tuple) and command[0] == "configure":
                self._reconfigure(command[1])

    def _waiting(self, *commands: str) -> bool:
        """Whether one of these commands is queued (thread-safe, about a microsecond)."""
        with self._commands.mutex:
            return any(c in commands for c in self._commands.queue)

    def _interrupted(self) -> bool:
        """True when a pause or stop is waiting: steps and evaluations give way to it."""
        return self._waiting("pause", "stop")

    def _train_step(self, by_hand: bool = False) -> None:
        t = self.trainer
        diagnostics = self.diagnostics_every > 0 and (by_hand or self._diagnostics_due(t))
        watch = self._last_step_seconds >= WATCH_STEPS_LONGER_THAN
        try:
            m = t.step(diagnostics=diagnostics, should_stop=self._interrupted if watch else None)
        except StepInterrupted:
            return  # abandoned for a pause or stop, leaving the trainer as it was
        except TrainingError as e:
            self._flush()
            self._paused = True
            self._set_state("paused")
            self.failed.emit(str(e))
            return
        self._last_step_seconds = m.dt
        self._pending.append(m)
        if diagnostics:
            self._diagnosed_at, self._diagnosed_step = t.elapsed, t.step_count
            if self._plain_steps:  # (medians: one step slowed by other work says little)
                self._diagnostics_costs.append(m.dt - statistics.median(self._plain_steps))
            self.diagnosticsReady.emit(Diagnostics.from_metrics(m))
        elif not self._first_step:  # (the first is slower: memory, threads and caches to set up)
            self._plain_steps.append(m.dt)
        self._first_step = False
        if time.perf_counter() - self._last_emit >= PACER.rows_every():  # coalesced to the redraw rate
            self._flush()
        if t.step_count % t.config.eval_interval == 0 or t.done:
            self._eval_due = True
        if self.attention.due(t.step_count):
            self._attention()  # one forward pass of one prompt
        with self._sampling_lock:
            every = self._sampling.every
        if every > 0 and t.step_count % every == 0:
            self._flush()
            self._sample_due = True

    def _diagnostics_due(self, t: Trainer) -> bool:
        """Whether the next step gets diagnostics (see DIAGNOSTICS_BUDGET): a multiple of
        `diagnostics_every` at least cost/budget seconds of training after the last ones, or
        any step the last step's length says will end DIAGNOSTICS_AT_LEAST_EVERY seconds of
        training after them (or after the start of this worker's training)."""
        since = t.elapsed + self._last_step_seconds - self._diagnosed_at
        if not math.isfinite(since):  # before the first step, whose length says what to expect
            return False
        if since >= DIAGNOSTICS_AT_LEAST_EVERY:
            return True
        if (t.step_count + 1) % self.diagnostics_every != 0:
            return False
        budget = self.diagnostics_budget
        if budget <= 0:
            return True
        if not self._plain_steps or t.step_count == self._diagnosed_step:
            return False  # a plain step between any two, so that what they cost can be told
        cost = statistics.median(self._diagnostics_costs) if self._diagnostics_costs else 0.0
        return since * budget >= cost

    def _flush(self) -> None:
        if self._pending:
            self.stepsReady.emit(StepBatch.from_metrics(self._pending))
            self._pending = []
        self._last_emit = time.perf_counter()

    def _evaluate(self) -> None:
        self._flush()
        ev = self.trainer.estimate_loss(should_stop=self._interrupted)
        if ev is None:
            return  # interrupted: still due, done again when running resumes
        self._eval_due = False
        if math.isfinite(ev.val_loss):
            self._last_val = ev.val_loss
        self.evalReady.emit(ev)

    def _sample(self) -> None:
        with self.trainer.side_work():
            self._stream_sample()

    def _stream_sample(self) -> None:
        with self._sampling_lock:
            s = self._sampling
        sampler = Sampler(self.trainer.model, self.trainer.corpus.tokenizer, self.trainer.device)
        try:
            sampler.validate(s.prompt, s.temperature, s.top_k, s.top_p, s.max_new_tokens)
        except SamplingError as e:
            self.failed.emit(f"cannot sample: {e}")
            return
        self.sampleStarted.emit(self.trainer.step_count, self._last_val)
        if s.prompt:
            self.sampleText.emit(s.prompt)
        chunk, choices, last, start = [], [], time.perf_counter(), len(s.prompt)
        generated = []  # the whole text, for the run directory's samples.jsonl
        for ch, choice in sampler.stream_choices(
                s.prompt, max_new_tokens=s.max_new_tokens, temperature=s.temperature, top_k=s.top_k,
                top_p=s.top_p, seed=self.trainer.config.seed + self.trainer.step_count, keep=s.top_probs):
            chunk.append(ch)
            generated.append(ch)
            if choice is not None:
                choices.append(choice)
            if time.perf_counter() - last >= EMIT_INTERVAL:
                self._send_sample_chunk(chunk, choices, start, s)
                start += len(chunk)
                chunk, choices, last = [], [], time.perf_counter()
                if self._waiting("pause", "stop", "step"):
                    break  # a step waits for this sample only as long as a pause would
        if chunk:
            self._send_sample_chunk(chunk, choices, start, s)
        self.sampleFinished.emit()
        self.sampleRecorded.emit(sample_row(
            self.trainer.step_count, self._last_val, s.prompt, "".join(generated), temperature=s.temperature,
            top_k=s.top_k, top_p=s.top_p, max_new_tokens=s.max_new_tokens,
            seed=self.trainer.config.seed + self.trainer.step_count))

    def _send_sample_chunk(self, chunk: list[str], choices: list, start: int, s: SampleSettings) -> None:
        """The characters, then (if recorded) what they were drawn from, as numpy copies."""
        text = "".join(chunk)
        self.sampleText.emit(text)
        if choices:
            self.sampleProbs.emit(ChoiceBatch.from_choices(
                start, choices, self.trainer.corpus.tokenizer.chars, text, s.temperature, s.top_k, s.top_p))

    def _attention(self) -> None:
        """The Attention view's maps of the model as it is now (a few ms for `default`)."""
        t = self.trainer
        with t.side_work():
            maps = self.attention.compute(t.model, t.corpus.tokenizer, t.step_count, t.device)
        self.attentionReady.emit(maps)

    def _reconfigure(self, config: TrainConfig) -> None:
        try:
            self.trainer.reconfigure(config)
        except TrainingError as e:
            self.failed.emit(str(e))
            return
        if self.state == "finished" and not self.trainer.done:
            self._set_state("paused" if self._paused else "running")

    def _save(self, path: str) -> None:
        try:
            written = save_checkpoint(path, self.trainer)
        except OSError as e:
            self.failed.emit(f"could not save the checkpoint to {path}: {e.strerror or e}; "
                             f"the previous file, if any, is unchanged")
            return
        self.saved.emit(str(written))

    def _set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)
