"""ASGI middleware in front of the app: the body cap, UTF-8, security headers."""
from __future__ import annotations

from fastapi.responses import JSONResponse


PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class Guard:
    """ASGI middleware: reads a request body whole, up to ``limit`` bytes (413 above it),
    refuses one that is not UTF-8 (400), and adds the security headers to every response."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            return await self.app(scope, receive, send)
        send = self.with_headers(scope['path'], send)
        if scope['method'] in ('GET', 'HEAD', 'OPTIONS'):
            return await self.app(scope, receive, send)
        headers = dict(scope.get('headers') or ())
        declared = headers.get(b'content-length', b'').decode('latin-1').strip()
        if declared and (not declared.isdigit() or int(declared) > self.limit):
            return await self.refuse(send, 413, self.too_large())
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message['type'] == 'http.disconnect':
                return
            chunk = message.get('body', b'')
            size += len(chunk)
            if size > self.limit:
                return await self.refuse(send, 413, self.too_large())
            chunks.append(chunk)
            more = message.get('more_body', False)
        body = b''.join(chunks)
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

        async def sending(message):
            if message['type'] == 'http.response.start':
                message = {**message, 'headers': [*message.get('headers', ()), *extra]}
            await send(message)
        return sending

    def too_large(self) -> str:
        return f'the request body is over the {self.limit}-byte cap (--max-body)'

    @staticmethod
    async def refuse(send, status: int, detail: str) -> None:
        await JSONResponse({'detail': detail}, status_code=status)(
            {'type': 'http'}, None, send)  # JSONResponse only sends
