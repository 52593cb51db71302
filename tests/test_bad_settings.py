"""Bad settings: every field at and past its limits, NaN and huge values, and settings
whose run cannot fit in memory. Each is a ConfigError naming the setting, raised before
anything is allocated; values at the limits are accepted (and train, where that is quick).
n_embd not divisible by n_head is in test_model.py and test_cli.py."""

import math
import resource
import time
from dataclasses import fields

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gptviz.config import CHOICES, FIELD_TYPES, MAX_INT, MAX_RATE, TrainConfig, parse_value, preset
from gptviz.corpus import Corpus, CorpusError
from gptviz.memory_needs import check_fits, parameter_count, training_needs
from gptviz.model import ConfigError, build_model
from gptviz.trainer import Trainer, TrainingError

BASE = preset("tiny")

# field: (lowest accepted, highest accepted, just below, just above); None: no such side.
# Partners keep the other checks (n_embd % n_head, min_lr <= lr) out of the way.
LIMITS = {
    "n_layer": (1, MAX_INT, 0, MAX_INT + 1),
    "n_head": (1, MAX_INT, 0, MAX_INT + 1),
    "n_embd": (1, MAX_INT, 0, MAX_INT + 1),
    "block_size": (1, MAX_INT, 0, MAX_INT + 1),
    "dropout": (0.0, math.nextafter(1.0, 0), -1e-300, 1.0),
    "batch_size": (1, MAX_INT, 0, MAX_INT + 1),
    "grad_accum": (1, MAX_INT, 0, MAX_INT + 1),
    "max_iters": (1, MAX_INT, 0, MAX_INT + 1),
    "lr": (1e-300, MAX_RATE, 0.0, math.nextafter(MAX_RATE, math.inf)),
    "min_lr": (0.0, BASE.lr, -1e-300, math.nextafter(BASE.lr, 1)),
    "warmup_iters": (0, MAX_INT, -1, MAX_INT + 1),
    "lr_decay_iters": (0, MAX_INT, -1, MAX_INT + 1),
    "muon_lr": (1e-300, MAX_RATE, 0.0, math.nextafter(MAX_RATE, math.inf)),
    "muon_momentum": (0.0, math.nextafter(1.0, 0), -1e-300, 1.0),
    "weight_decay": (0.0, MAX_RATE, -1e-300, math.nextafter(MAX_RATE, math.inf)),
    "beta1": (0.0, math.nextafter(1.0, 0), -1e-300, 1.0),
    "beta2": (0.0, math.nextafter(1.0, 0), -1e-300, 1.0),
    "grad_clip": (0.0, 1.7e308, -1e-300, None),
    "eval_interval": (1, MAX_INT, 0, MAX_INT + 1),
    "eval_iters": (1, MAX_INT, 0, MAX_INT + 1),
    "seed": (0, MAX_INT, -1, MAX_INT + 1),
}
PARTNERS = {("n_embd", MAX_INT): dict(n_head=1), ("n_embd", 1): dict(n_head=1),
            ("n_head", MAX_INT): dict(n_embd=MAX_INT),
            ("n_head", 1): dict(n_embd=32), ("lr", 1e-300): dict(min_lr=0.0)}
NUMERIC = [f.name for f in fields(TrainConfig) if f.type in ("int", "float")]


def make(name, value):
    return BASE.replace(**{name: value, **PARTNERS.get((name, value), {})})


def test_every_numeric_setting_has_its_limits_listed():
    assert sorted(LIMITS) == sorted(NUMERIC)


@pytest.mark.parametrize("name", NUMERIC)
def test_at_the_limits_is_accepted(name):
    low, high, _, _ = LIMITS[name]
    assert getattr(make(name, low), name) == low
    assert getattr(make(name, high), name) == high


@pytest.mark.parametrize("name", NUMERIC)
def test_past_the_limits_is_a_config_error_naming_the_setting(name):
    _, _, below, above = LIMITS[name]
    for value in (below, above):
        if value is None:
            continue
        with pytest.raises(ConfigError, match=rf"\b{name}\b"):
            make(name, value)


def _refused_everywhere(name, value) -> bool:
    if FIELD_TYPES[name] == "float" and value == 2.5:
        return False  # a float setting may be 2.5 (checked against its range above)
    return not (name == "grad_clip" and value == 10**30)  # no upper limit: any finite clip works


@pytest.mark.parametrize("name, value", [
    (name, value) for name in NUMERIC
    for value in (math.nan, math.inf, -math.inf, 10**30, -(10**30), True, "3", None, 2.5)
    if _refused_everywhere(name, value)], ids=repr)
def test_nan_inf_huge_and_wrong_types(name, value):
    with pytest.raises(ConfigError, match=rf"\b{name}\b"):
        make(name, value)


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_choices_refuse_other_words(name):
    for value in ("", "GPT", None, 3, ["gpt"]):
        with pytest.raises(ConfigError, match=rf"{name} must be one of"):
            BASE.replace(**{name: value})


@pytest.mark.parametrize("changes", [
    dict(lr=MAX_RATE), dict(optimizer="muon", muon_lr=MAX_RATE), dict(weight_decay=MAX_RATE),
    dict(lr=MAX_RATE, weight_decay=MAX_RATE, beta1=math.nextafter(1.0, 0)),
    dict(grad_clip=1.7e308), dict(seed=MAX_INT), dict(max_iters=MAX_INT, warmup_iters=MAX_INT),
    dict(lr_decay_iters=MAX_INT, eval_interval=MAX_INT),
], ids=lambda c: ",".join(c))
def test_limit_values_train_or_stop_cleanly(small_corpus, changes):
    """The largest rates diverge, but as a TrainingError with the model's last good state,
    never as an overflow inside the optimizer."""
    trainer = Trainer(BASE.replace(**changes), small_corpus)
    for _ in range(2):  # the first update uses the rate; the second step sees its result
        try:
            m = trainer.step()
        except TrainingError:
            break
        assert math.isfinite(m.loss) and math.isfinite(m.lr)


# -- hypothesis: whatever the values, a config or a ConfigError ----------------------------

VALUES = st.one_of(
    st.integers(-3, 3), st.integers(-(2**70), 2**70), st.sampled_from([0, 1, MAX_INT, MAX_INT + 1]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(), st.text(max_size=4),
    st.sampled_from(["gpt", "bigram", "gelu", "relu2", "cosine", "linear", "adamw", "muon"]),
)


@settings(max_examples=400, deadline=None, database=None)
@given(st.dictionaries(st.sampled_from([f.name for f in fields(TrainConfig)]), VALUES, max_size=6))
def test_any_values_give_a_valid_config_or_a_config_error(changes):
    try:
        config = BASE.replace(**changes)
    except ConfigError as e:
        assert str(e)
        return
    for name in NUMERIC:  # an accepted config is inside every limit
        low, high, _, _ = LIMITS[name]
        value = getattr(config, name)
        assert (low if name != "min_lr" else 0.0) <= value <= (high if name != "min_lr" else config.lr)
    assert TrainConfig.from_dict(config.to_dict()) == config


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(sorted(FIELD_TYPES)), st.text(max_size=12))
def test_any_text_for_a_setting_parses_or_is_a_config_error(name, text):
    try:
        parse_value(name, text)
    except ConfigError as e:
        assert name in str(e)


# -- runs that cannot fit ------------------------------------------------------------------

def test_block_larger_than_the_validation_split(small_corpus):
    n_val = len(small_corpus.val_data)
    with pytest.raises(CorpusError, match=rf"the val split has {n_val} characters, fewer than "
                                          rf"block_size \+ 1 = {n_val + 1}"):
        Trainer(BASE.replace(block_size=n_val), small_corpus)
    Trainer(BASE.replace(block_size=n_val - 1, batch_size=1), small_corpus)  # one window fits


@pytest.mark.parametrize("changes, part", [
    (dict(batch_size=MAX_INT), "activations"),
    (dict(n_embd=2**20, n_head=2), "weights"),
    (dict(n_layer=MAX_INT), "activations"),
    (dict(n_layer=200_000, batch_size=1, block_size=1), "weights"),
    (dict(block_size=150_000, batch_size=1), "attention masks"),
    (dict(model="bigram", batch_size=MAX_INT), "activations"),
], ids=lambda c: ",".join(c) if isinstance(c, dict) else c)
def test_a_run_that_cannot_fit_is_refused_before_allocating(changes, part):
    corpus = Corpus("abcdefgh" * 200_000)  # 1.6M characters: the val split holds 150k windows
    config = BASE.replace(**changes)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"these settings need at least .* of memory to train") as e:
        Trainer(config, corpus)
    assert time.perf_counter() - start < 1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 50_000  # KiB: nothing big
    assert "Use a smaller batch_size, block_size, n_embd or n_layer" in str(e.value)
    needs = training_needs(config, corpus.vocab_size)
    biggest = max(("activations", needs.activations), ("weights", needs.state),
                  ("attention masks", needs.buffers), key=lambda kv: kv[1])[0]
    assert biggest == part


def test_the_limit_is_the_memory_available():
    config = preset("cpu")
    total = training_needs(config, 65).total
    cpu = torch.device("cpu")
    assert check_fits(config, 65, cpu, available=total).total == total
    with pytest.raises(ConfigError, match=r"is available on cpu"):
        check_fits(config, 65, cpu, available=total - 1)


@pytest.mark.parametrize("model", ["gpt", "bigram"])
@pytest.mark.parametrize("bias, rope", [(False, False), (True, False), (False, True), (True, True)])
def test_the_parameter_count_is_exact(model, bias, rope):
    for n_layer, n_embd, n_head in ((1, 8, 2), (3, 24, 4)):
        config = BASE.replace(model=model, bias=bias, rope=rope, n_layer=n_layer, n_embd=n_embd,
                              n_head=n_head)
        built = build_model(config.model_config(19), model)
        assert parameter_count(config, 19) == sum(p.numel() for p in built.parameters())
