"""Training a finished run further: which settings may change, and the settings it goes on with.

When a run reaches max_iters its worker stays alive with the model, so the learner can
raise max_iters and press Continue. Only settings that say how long to train and how
often to measure stay editable (`CONTINUATION_FIELDS`); the model's shape, the optimizer
and its hyperparameters are built into the trained model and stay locked. Sample
settings are always editable in the samples view.

The learning-rate schedule of the steps already taken does not change: a run whose
decay followed max_iters (lr_decay_iters = 0) has it pinned to the old max_iters, so
the new steps go on at min_lr instead of the learning rate jumping back up the cosine.
"""

from __future__ import annotations

from ..config import TrainConfig

CONTINUATION_FIELDS = ("max_iters", "eval_interval", "eval_iters")


def continued_config(run: TrainConfig, edited: TrainConfig) -> TrainConfig:
    """The run's settings with the continuation fields taken from `edited`."""
    changes = {name: getattr(edited, name) for name in CONTINUATION_FIELDS}
    if run.lr_decay_iters == 0:
        changes["lr_decay_iters"] = run.max_iters  # the schedule the run has followed
    return run.replace(**changes)


def continue_blocker(edited: TrainConfig | None, error: str | None, step: int) -> str | None:
    """Why Continue is disabled (settings invalid, max_iters not raised), or None."""
    if edited is None:
        return error or "the settings are invalid"
    if edited.max_iters <= step:
        return f"the run is finished at step {step}: raise max_iters above {step} to continue"
    return None
