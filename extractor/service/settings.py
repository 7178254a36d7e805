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
MAX_REQUEST_CHARS = 1_000_000  # characters one request may have tagged, all its texts; more -> 413
MAX_QUEUE = 32  # requests with a body being read, waiting or tagged at once; more -> 503
MAX_QUEUE_BYTES = 16 * 1024 * 1024  # their bodies' bytes at once (memory); more -> 503
READ_TIMEOUT = 20  # seconds for a request's head, and again for its body; slower -> closed / 408
ENV_PREFIX = 'EXTRACTOR_SERVE_'  # settings reach uvicorn's worker processes through these
LOOPBACK = ('127.0.0.1', 'localhost', '::1')


@dataclass
class Settings:
    """What a worker needs to know; ``from_env`` reads what ``run`` wrote for the workers.

    ``allowed_hosts``: comma-separated names the ``Host`` header may give (a DNS-rebinding
    guard; ``*`` or None: any); ``extractor serve`` sets it from the bind address."""
    profile: Optional[str] = None  # the default profile (None: ``default``)
    models: Optional[str] = None  # a folder of profiles, as ``Tagger(models=...)``
    max_body: int = MAX_BODY
    max_chars: int = MAX_CHARS
    max_batch: int = MAX_BATCH
    max_request_chars: int = MAX_REQUEST_CHARS
    max_queue: int = MAX_QUEUE
    max_queue_bytes: int = MAX_QUEUE_BYTES
    read_timeout: int = READ_TIMEOUT
    allowed_hosts: Optional[str] = None

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + f.name.upper(): str(getattr(self, f.name))
                for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_env(cls) -> 'Settings':
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = int(raw) if f.type == 'int' else raw
        return cls(**values)

    def hosts(self) -> Optional[frozenset]:
        """The host names a request's ``Host`` header may give; None: any."""
        if not self.allowed_hosts or self.allowed_hosts.strip() == '*':
            return None
        return frozenset(h.strip().lower().strip('[]') for h in self.allowed_hosts.split(',') if h.strip())


def hosts_for(bind: str) -> str:
    """The default ``allowed_hosts`` for a bind address: the loopback names for a loopback
    address, the address itself for another one, any (``*``) for all interfaces."""
    if bind in ('0.0.0.0', '::', ''):
        return '*'
    if bind in LOOPBACK or bind.startswith('127.'):
        return ','.join(dict.fromkeys((bind, *LOOPBACK)))
    return bind
