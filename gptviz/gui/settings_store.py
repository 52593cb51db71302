"""Where the window remembers its layout and last settings between launches (QSettings).

GPTVIZ_SETTINGS_FILE points it at an INI file instead (tests use a temporary one).
"""

from __future__ import annotations

import json
import os

from PySide6.QtCore import QSettings


def app_settings() -> QSettings:
    path = os.environ.get("GPTVIZ_SETTINGS_FILE")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("gptviz", "gptviz")


def load_json(settings: QSettings, key: str, default=None):
    raw = settings.value(key)
    if not raw:
        return default
    try:
        return json.loads(str(raw))
    except json.JSONDecodeError:
        return default


def save_json(settings: QSettings, key: str, value) -> None:
    settings.setValue(key, json.dumps(value))
