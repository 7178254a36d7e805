"""uvicorn as ``extractor serve`` runs it: a deadline for a request's head, a graceful stop.

uvicorn times out an idle keep-alive connection, but a client that sends its request line and
headers a byte a second holds a connection for ever: ``TimedH11Protocol`` closes a connection
whose request head is not complete within ``read_timeout`` seconds of its start (the
connection made, or the previous response sent). The body has the same deadline again
(``guard.Guard``: 408).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .settings import READ_TIMEOUT, Settings

log = logging.getLogger('extractor.service')


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request's head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = Settings.from_env().read_timeout or READ_TIMEOUT
        self.head_timer: Optional[asyncio.TimerHandle] = None

    def _arm(self) -> None:
        if self.head_timer is None and self.conn.their_state is h11.IDLE:
            self.head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_too_slow(self) -> None:
        self.head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info('closed a connection whose request head took over %s s', self.head_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the head is in: the app reads the body, under its own deadline

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this connection

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._disarm()
        super().connection_lost(exc)


def serve(app: str, host: str, port: int, workers: int, access_log: bool) -> None:
    """Run ``app`` (an import string of an app factory) under uvicorn until SIGTERM / Ctrl-C."""
    import uvicorn

    uvicorn.run(app, factory=True, host=host, port=port, workers=workers, access_log=access_log,
                http=TimedH11Protocol, timeout_graceful_shutdown=30)
