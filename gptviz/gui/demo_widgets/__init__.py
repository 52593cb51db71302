"""The kinds of live widget a demo step can use, imported only when a step needs one."""

from __future__ import annotations

from importlib import import_module

from .base import DemoHost, DemoWidget

# kind -> (module in this package, class)
KINDS: dict[str, tuple[str, str]] = {
    "autograd": ("autograd", "AutogradDemo"),
    "neuron": ("neuron", "NeuronDemo"),
    "feature_neuron": ("feature_neuron", "FeatureNeuronDemo"),
    "toy2d": ("toy2d", "Toy2DDemo"),
    "attention_trick": ("attention_trick", "AttentionTrickDemo"),
    "gpt_inside": ("gpt_inside", "GptInsideDemo"),
    "training_link": ("training_link", "TrainingLinkDemo"),
    "tensor": ("tensor", "TensorDemo"),
    "broadcast": ("broadcast", "BroadcastDemo"),
    "matmul": ("matmul", "MatmulDemo"),
    "layer_shapes": ("layer_shapes", "LayerShapesDemo"),
    "layer_timing": ("layer_timing", "LayerTimingDemo"),
}


def make_widget(kind: str, state: dict, host: DemoHost | None = None) -> DemoWidget:
    if kind not in KINDS:
        raise KeyError(f"unknown demo widget {kind!r}; known: {', '.join(sorted(KINDS))}")
    module, name = KINDS[kind]
    cls = getattr(import_module(f"{__name__}.{module}"), name)
    return cls(state, host)


__all__ = ["KINDS", "DemoHost", "DemoWidget", "make_widget"]
