"""The Detector an app serves, built on first use (or at startup) and shared by all requests."""

from __future__ import annotations

import threading

from qinglang.detect import Detector
from qinglang.detect.engine import lexicon_paths_from_env
from qinglang.settings import Settings


class DetectorProvider:
    """Hands out one Detector per app.

    When the settings name the same lexicon files as the environment, the process-wide
    `Detector.default()` is shared (the CLI and every app in the process compile once);
    settings built in code with other files get a Detector of their own.
    """

    def __init__(self, settings: Settings) -> None:
        self.lexicon_paths = tuple(str(p) for p in settings.lexicon_paths)
        self._detector: Detector | None = None
        self._lock = threading.Lock()

    def get(self) -> Detector:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    if self.lexicon_paths == lexicon_paths_from_env():
                        self._detector = Detector.default()
                    else:
                        self._detector = Detector(lexicon_paths=self.lexicon_paths)
        return self._detector
