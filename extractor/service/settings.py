"""A service worker's settings: the limits and profiles ``extractor serve`` was given.

``run`` writes them into the environment, where each uvicorn worker process reads them back.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Optional


MAX_BODY = 2 * 1024 * 1024  # bytes of a request body; more -> 413
MAX_CHARS = 100_000  # characters of one text; a longer one is cut as the library cuts it
MAX_BATCH = 32  # items of one /v1/tag/batch request; more -> 413
ENV_PREFIX = 'EXTRACTOR_SERVE_'  # settings reach uvicorn's worker processes through these


@dataclass
class Settings:
    """What a worker needs to know; ``from_env`` reads what ``run`` wrote for the workers."""
    profile: Optional[str] = None  # the default profile (None: ``default``)
    models: Optional[str] = None  # a folder of profiles, as ``Tagger(models=...)``
    max_body: int = MAX_BODY
    max_chars: int = MAX_CHARS
    max_batch: int = MAX_BATCH

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name))
                for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_env(cls) -> 'Settings':
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = int(raw) if f.name.startswith('max_') else raw
        return cls(**values)
