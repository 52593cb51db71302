"""Every setting of a training run in one flat dataclass, plus the named presets.

The same keys are used by `gptviz train` flags (``--n-layer 4``), ``--set n_layer=4``,
the window's editors and checkpoints, so a run is described the same way everywhere.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

from .model import ConfigError, GPTConfig

CHOICES: dict[str, tuple[str, ...]] = {  # the settings that take one of a few words
    "model": ("gpt", "bigram"),
    "activation": ("gelu", "relu2"),
    "decay": ("cosine", "linear"),
    "optimizer": ("adamw", "muon"),
}


MAX_INT = 2**31 - 1  # every integer setting (the window's spin boxes reach this far)
MAX_RATE = 1000.0  # lr, muon_lr, weight_decay: far past divergence, short of float32 overflow


@dataclass(frozen=True)
class TrainConfig:
    # model
    model: str = "gpt"  # "gpt" or "bigram"
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    dropout: float = 0.0
    bias: bool = False
    rope: bool = False
    qk_norm: bool = False
    activation: str = "gelu"
    # data and schedule
    batch_size: int = 12
    grad_accum: int = 1  # micro-batches of batch_size per optimizer step (gradient accumulation)
    max_iters: int = 2000
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    lr_decay_iters: int = 0  # 0: decay over max_iters
    decay: str = "cosine"  # "cosine" or "linear" from lr down to min_lr
    # optimizer
    optimizer: str = "adamw"  # "adamw", or "muon" (Muon for hidden matrices, AdamW for the rest)
    muon_lr: float = 0.02
    muon_momentum: float = 0.95
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # 0 disables clipping (the norm is still measured)
    # evaluation and reproducibility
    eval_interval: int = 250
    eval_iters: int = 20
    seed: int = 1337

    def __post_init__(self) -> None:
        positive = ("n_layer", "n_head", "n_embd", "block_size", "batch_size", "grad_accum",
                    "max_iters", "eval_interval", "eval_iters")
        non_negative = ("warmup_iters", "lr_decay_iters", "seed")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value)):
                raise ConfigError(f"{f.name} must be a finite number, got {value!r}")
            if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{f.name} must be an integer, got {value!r}")
            if f.type == "int" and value > MAX_INT:
                raise ConfigError(f"{f.name} must be at most {MAX_INT:,}, got {value:,}")
            if f.type == "bool" and not isinstance(value, bool):
                raise ConfigError(f"{f.name} must be true or false, got {value!r}")
            if f.name in positive and value < 1:
                raise ConfigError(f"{f.name} must be at least 1, got {value}")
            if f.name in non_negative and value < 0:
                raise ConfigError(f"{f.name} must not be negative, got {value}")
        for name in ("lr", "muon_lr"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.min_lr <= self.lr:
            raise ConfigError(f"min_lr ({self.min_lr}) must be between 0 and lr ({self.lr})")
        for name in ("beta1", "beta2", "muon_momentum"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        for name in ("lr", "muon_lr", "weight_decay"):
            if getattr(self, name) > MAX_RATE:  # larger ones overflow float32 in the update
                raise ConfigError(f"{name} must be at most {MAX_RATE:g}, got {getattr(self, name)}")
        for name in ("weight_decay", "grad_clip"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative, got {getattr(self, name)}")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(map(repr, allowed))}, "
                                  f"got {getattr(self, name)!r}")
        self.model_config(vocab_size=1)  # the model's own checks (heads, dropout, activation)

    def model_config(self, vocab_size: int) -> GPTConfig:
        return GPTConfig(
            vocab_size=vocab_size, block_size=self.block_size, n_layer=self.n_layer,
            n_head=self.n_head, n_embd=self.n_embd, dropout=self.dropout, bias=self.bias,
            rope=self.rope, qk_norm=self.qk_norm, activation=self.activation,
        )

    @property
    def decay_iters(self) -> int:
        return self.lr_decay_iters or self.max_iters

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return cls(**values)

    def replace(self, **changes) -> TrainConfig:
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)


FIELD_TYPES = {f.name: f.type for f in fields(TrainConfig)}


def parse_value(key: str, text: str):
    """A setting's value from text, by the setting's type (for --set KEY=VALUE)."""
    if key not in FIELD_TYPES:
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(FIELD_TYPES)}")
    kind = FIELD_TYPES[key]
    text = text.strip()
    try:
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        raise ConfigError(f"{key} expects a {kind} value, got {text!r}") from None
    return text


def parse_assignments(items: list[str]) -> dict:
    """['n_layer=4', 'lr=3e-3'] → {'n_layer': 4, 'lr': 0.003}."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"expected KEY=VALUE, got {item!r}")
        key = key.strip().replace("-", "_")
        out[key] = parse_value(key, value)
    return out


PRESETS: dict[str, dict] = {
    # Trains in a few seconds: for tests and for trying the tool out.
    "tiny": dict(n_layer=2, n_head=2, n_embd=32, block_size=32, batch_size=8, max_iters=60,
                 lr=3e-3, min_lr=3e-4, warmup_iters=5, eval_interval=20, eval_iters=4),
    # nanoGPT's Shakespeare-char recipe for a CPU (its README): val ~1.88 after 2000 iters.
    "cpu": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout=0.0,
                lr=1e-3, min_lr=1e-4, warmup_iters=100, max_iters=2000, beta1=0.9, beta2=0.99,
                weight_decay=0.1, grad_clip=1.0, eval_interval=250, eval_iters=20),
    # The lecture's GPU model: 6 layers, 6 heads, 384 dims, context 256, dropout 0.2, and its
    # 64 sequences per step, taken as 4 micro-batches of 16 (benchmarks/bench_pause.py, 2 CPU
    # cores: 9.8 s a step instead of 14.5, and Pause within 54 ms instead of 624). Evaluation
    # covers the lecture's 200 x 64 sequences.
    "lecture": dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=16, grad_accum=4,
                    dropout=0.2, bias=True, lr=3e-4, min_lr=3e-5, warmup_iters=100,
                    max_iters=5000, eval_interval=500, eval_iters=800),
    # Tuned for time-to-quality on 2 CPU cores (benchmarks/time_to_loss.py): the cpu model's
    # size with Muon for the hidden matrices, rotary positions, QK-norm and ReLU^2, a higher
    # AdamW lr for embeddings and gains, and a schedule sized to end near val 1.85.
    "default": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout=0.0,
                    bias=False, rope=True, qk_norm=True, activation="relu2", optimizer="muon",
                    muon_lr=0.03, lr=3e-3, min_lr=3e-4, warmup_iters=50, max_iters=600,
                    weight_decay=0.1, beta2=0.99, grad_clip=1.0, eval_interval=100, eval_iters=50),
}


def preset(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})
