"""gptviz: watch a character-level GPT learn.

The engine (this package's top-level modules) is plain Python and torch, with no Qt;
the window lives in gptviz.gui.
"""

__version__ = "0.1.0"
