"""The computations behind the step-through demos: plain torch, no Qt, one topic per module."""
