"""ASGI middleware in front of the app: the Host check, admission, the body cap and deadline,
UTF-8, security headers."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from typing import Optional

from fastapi.responses import JSONResponse

from .settings import Settings

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
# /docs and /redoc: their one inline script allowed by its hash (added per response); Swagger
# UI and ReDoc set inline styles, and ReDoc runs a worker from a blob.
DOCS_POLICY = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
DOCS = ('/docs', '/redoc', '/docs/oauth2-redirect')
INLINE_SCRIPT = re.compile(rb'<script>(.*?)</script>', re.S)
RETRY_AFTER = (b'retry-after', b'5')


class Guard:
    """ASGI middleware, in order: a ``Host`` the settings do not allow gets 400 (DNS
    rebinding); a dotfile under ``/web/`` 404; a request with a body is admitted only while
    fewer than ``max_queue`` are in (being read, waiting or tagged) and their bodies hold
    fewer than ``max_queue_bytes`` (503 with Retry-After past either: memory stays bounded);
    the body is read whole, up to ``max_body`` bytes (413 above it), within ``read_timeout``
    seconds (408 after), and must be UTF-8 (400). Every response gets the security headers
    (a CSP on the page and on the API docs)."""

    def __init__(self, app, settings: Optional[Settings] = None, limit: Optional[int] = None):
        settings = settings or Settings(**({'max_body': limit} if limit else {}))
        self.app, self.limit = app, settings.max_body
        self.hosts = settings.hosts()
        self.max_queue, self.max_bytes = settings.max_queue, settings.max_queue_bytes
        self.read_timeout = settings.read_timeout
        self.admitted, self.admitted_bytes = 0, 0

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        path = scope['path']
        headers = dict(scope.get('headers') or ())
        if self.hosts is not None and host_name(headers.get(b'host', b'')) not in self.hosts:
            return await self.refuse(send, 400, 'this Host is not served here (a guard against '
                                                'DNS rebinding; see extractor serve --allowed-hosts)')
        if path.startswith('/web/') and any(part.startswith('.') for part in path.split('/')):
            return await self.refuse(send, 404, 'Not Found')
        send = self.with_headers(path, send)
        if scope['method'] in ('GET', 'HEAD', 'OPTIONS'):
            return await self.app(scope, receive, send)
        declared = headers.get(b'content-length', b'').decode('latin-1').strip()
        if declared and (not declared.isdigit() or int(declared) > self.limit):
            return await self.refuse(send, 413, self.too_large())
        size = int(declared) if declared else self.limit  # chunked: the most it may be
        if self.admitted >= self.max_queue or self.admitted_bytes + size > self.max_bytes:
            return await self.refuse(send, 503, f'busy: {self.admitted} requests in; retry in a '
                                                'few seconds', retry=True)
        self.admitted += 1
        self.admitted_bytes += size
        try:
            await self.admitted_call(scope, receive, send)
        finally:
            self.admitted -= 1
            self.admitted_bytes -= size

    async def admitted_call(self, scope, receive, send):
        chunks, size, more = [], 0, True
        deadline = time.monotonic() + self.read_timeout
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0))
            except asyncio.TimeoutError:
                return await self.refuse(send, 408, f'the request body took over '
                                                    f'{self.read_timeout} s to arrive')
            if message['type'] == 'http.disconnect':
                return
            chunk = message.get('body', b'')
            size += len(chunk)
            if size > self.limit:
                return await self.refuse(send, 413, self.too_large())
            chunks.append(chunk)
            more = message.get('more_body', False)
        body = b''.join(chunks)
        del chunks
        try:
            body.decode('utf-8')
        except UnicodeDecodeError as error:
            return await self.refuse(send, 400, f'the request body is not UTF-8 (byte {error.start})')
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {'type': 'http.request', 'body': body, 'more_body': False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def with_headers(path: str, send):
        extra = [(b'x-content-type-options', b'nosniff')]
        if path == '/' or path.startswith('/web/'):
            extra.append((b'content-security-policy', PAGE_POLICY.encode()))
        if path in DOCS:
            return docs_headers(send, extra)

        async def sending(message):
            if message['type'] == 'http.response.start':
                message = {**message, 'headers': [*message.get('headers', ()), *extra]}
            await send(message)
        return sending

    def too_large(self) -> str:
        return f'the request body is over the {self.limit}-byte cap (--max-body)'

    @staticmethod
    async def refuse(send, status: int, detail: str, retry: bool = False) -> None:
        response = JSONResponse({'detail': detail}, status_code=status)
        if retry:
            response.headers.append(*(h.decode() for h in RETRY_AFTER))
        if status in (408, 503):
            response.headers['connection'] = 'close'
        await response({'type': 'http'}, None, send)  # JSONResponse only sends


def docs_headers(send, extra: list):
    """The docs' page held until its body is in, then sent with a CSP allowing its inline
    scripts by their SHA-256 (the page is under 2 KB)."""
    start: dict = {}
    parts: list[bytes] = []

    async def sending(message):
        if message['type'] == 'http.response.start':
            start.update(message)
            return
        if message['type'] != 'http.response.body':
            return await send(message)
        parts.append(message.get('body', b''))
        if message.get('more_body', False):
            return
        body = b''.join(parts)
        hashes = ' '.join("'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
                          for script in INLINE_SCRIPT.findall(body))
        policy = DOCS_POLICY.format(hashes=hashes).replace('  ', ' ')
        await send({**start, 'headers': [*start.get('headers', ()), *extra,
                                         (b'content-security-policy', policy.encode())]})
        await send({'type': 'http.response.body', 'body': body, 'more_body': False})
    return sending


def host_name(header: bytes) -> str:
    """The host of a ``Host`` header, without its port: ``127.0.0.1:8000`` -> ``127.0.0.1``,
    ``[::1]:8000`` -> ``::1``."""
    host = header.decode('latin-1').strip().lower()
    if host.startswith('['):
        return host[1:host.find(']')] if ']' in host else host
    return host.rsplit(':', 1)[0] if host.count(':') == 1 else host
