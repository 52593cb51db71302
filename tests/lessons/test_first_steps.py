"""Loss, gradients, optimizer steps and generation on the seeded tiny GPT and one sentence."""

import math

import torch

from gptviz.lessons import first_steps, tiny_gpt


def test_an_untrained_model_guesses_about_evenly():
    assert math.isclose(first_steps.uniform_loss(), math.log(65))
    assert abs(first_steps.initial_loss() - first_steps.uniform_loss()) < 0.1
    x, y = first_steps.sentence_batch()
    assert x.shape == y.shape == (1, len(tiny_gpt.SENTENCE) - 1)
    assert torch.equal(x[0, 1:], y[0, :-1])


def test_gradients_are_per_parameter_and_the_global_norm_puts_them_together():
    g = first_steps.gradients()
    assert g.names[0] == "wte.weight" and "lm_head.weight" not in g.names   # tied to wte
    assert math.isclose(g.total, math.sqrt(sum(n * n for n in g.norms)), rel_tol=1e-5)
    assert g.total > 1.0           # so the training view would clip it


def test_adamw_steps_on_one_sentence_memorise_it():
    losses = first_steps.optimizer_steps(10)
    assert math.isclose(losses[0], first_steps.initial_loss(), rel_tol=1e-6)
    assert losses[-1] < losses[0] - 1.0


def test_generate_is_seeded_and_starts_with_the_prompt():
    model = tiny_gpt.build()
    a = first_steps.generate(model, "To be", 20, seed=1)
    assert a.startswith("To be") and len(a) == 25
    assert first_steps.generate(model, "To be", 20, seed=1) == a
    assert first_steps.generate(model, "To be", 20, seed=2) != a
