"""The demos' seeded tiny model, its vocabulary, and prompts."""

import pytest
import torch

from gptviz.lessons import tiny_gpt
from gptviz.lessons.quick_train import SOLILOQUY
from gptviz.model import GPT, GPTConfig
from gptviz.tokenizer import TokenizerError


def test_the_vocabulary_is_tiny_shakespeares(shakespeare_path):
    text = shakespeare_path.read_text(encoding="utf-8")
    assert tiny_gpt.SHAKESPEARE_CHARS == "".join(sorted(set(text)))
    assert set(SOLILOQUY) <= set(tiny_gpt.SHAKESPEARE_CHARS)


def test_build_gives_the_weights_of_manual_seed_and_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    model = tiny_gpt.build()
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(1337)
    same = GPT(GPTConfig(vocab_size=65, block_size=32, n_layer=2, n_head=2, n_embd=32))
    for (name, a), (_, b) in zip(model.state_dict().items(), same.state_dict().items()):
        assert torch.equal(a, b), name
    assert not model.training
    with pytest.raises(ValueError, match="'gpt' or 'bigram'"):
        tiny_gpt.build("lstm")


def test_prompts_keep_their_last_block_size_characters_and_unknown_characters_are_named():
    assert tiny_gpt.fit_prompt("To be") == ("To be", None)
    long = "x" * 30 + "To be"
    fitted, why = tiny_gpt.fit_prompt(long)
    assert fitted == long[-32:] and "last 32 characters" in why
    with pytest.raises(TokenizerError, match="'é'"):
        tiny_gpt.fit_prompt("café")
    with pytest.raises(TokenizerError, match="empty"):
        tiny_gpt.fit_prompt("")
    assert tiny_gpt.shown("\n") == "⏎" and tiny_gpt.shown(" ") == "␣" and tiny_gpt.shown("a") == "a"
