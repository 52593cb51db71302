"""The window: the only part of gptviz that imports Qt.

`build_main_window(argv)` parses the same options as `gptviz train` and returns the main
window, unshown.
"""


def build_main_window(argv: list[str]):
    from .app import build_main_window as build
    return build(argv)
