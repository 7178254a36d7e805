"""The HTTP service behind ``extractor serve``: a FastAPI app over the ``Tagger``.

Imported only by ``extractor serve`` and the tests; the core package never imports FastAPI.
Each worker process loads the models once, in a background thread at start-up (``/readyz``
answers 503 until then), and tags on one thread of its own, off the event loop
(``tagging.TaggingThread``): the ``Tagger`` and its caches are used by one thread at a time.
"""
from __future__ import annotations

import asyncio
import math
import os
import signal
import threading
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError

from ..article import MAX_CHARS as LIBRARY_MAX_CHARS, cut_text, join_title, parse_article
from ..doc import Doc
from ..evaluate import score_document
from ..resources import profile_dir
from ..tags import hashtag, style as styled, tag_key
from ..threads import THREAD_VARS, one_thread
from .guard import Guard
from .schema import (BatchItem, BatchRequest, BatchResponse, BatchResult, EntityOut, EvalRequest,
                     EvalResponse, Figures, Matched, Problem, TagOut, TagRequest, TagResponse, ERRORS)
from .settings import Settings, hosts_for
from .tagging import TaggingThread

WEB = Path(__file__).resolve().parent / 'web'


# ---------------------------------------------------------------- text in, JSON out

@dataclass
class Prepared:
    """What the tagger reads for one text: ``title + '\\n'`` (if any) before the cut text."""
    full: str
    shift: int  # where the text starts in ``full``
    chars: int  # characters of the text kept
    truncated: bool


def prepare(text: str, title: Optional[str], limit: int) -> Prepared:
    """The text cut to the server's limit (the library's at most), its title before it."""
    stop = cut_text(text, min(limit, LIBRARY_MAX_CHARS))
    body = text[:stop]
    full = join_title(title, body)
    return Prepared(full, len(full) - len(body), stop, stop < len(text))


def entities(doc: Doc, prepared: Prepared) -> list[EntityOut]:
    out = []
    for entity in doc.entities:
        where = dict(type=entity.type, text=entity.text, normal=entity.normal or entity.text)
        if entity.start >= prepared.shift:
            out.append(EntityOut(start=entity.start - prepared.shift, stop=entity.stop - prepared.shift,
                                 field='text', **where))
        elif entity.stop < prepared.shift:
            out.append(EntityOut(start=entity.start, stop=entity.stop, field='title', **where))
    return out


def tagged(doc: Doc, prepared: Prepared, style: str) -> dict[str, Any]:
    tags = [TagOut(text=styled(t.text, style), normal=t.text, kind=t.kind,
                   score=round(t.score, 4) if math.isfinite(t.score) else 0.0) for t in doc.tags]
    return dict(tags=tags, entities=entities(doc, prepared), truncated=prepared.truncated,
                hashtags=' '.join(hashtag(t.text, style) for t in doc.tags), chars=prepared.chars)


def figures(values: tuple[float, float, float]) -> Figures:
    return Figures(p=round(values[0], 4), r=round(values[1], 4), f1=round(values[2], 4))


def message(error: dict[str, Any]) -> str:
    where = '.'.join(str(part) for part in error.get('loc', ()) if part != 'body') or 'body'
    return f"{where}: {error.get('msg', 'invalid')}"


# ---------------------------------------------------------------- the app

def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """The service: the API under ``/v1``, health at ``/healthz`` and ``/readyz``, the page at ``/``."""
    settings = settings or Settings()
    profile_dir(settings.profile, settings.models)  # a missing profile: a clear error now
    thread = TaggingThread(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        thread.start()
        with drain_on_signals(thread):
            yield
        thread.shutdown()

    app = FastAPIOffline(
        title='extractor', version='1', lifespan=lifespan,
        description='Russian news articles -> normalized hashtags. '
                    f'Limits: request body {settings.max_body} bytes (413 above), '
                    f'text {settings.max_chars} characters (cut at a line or word end, '
                    f'`truncated: true`), batch {settings.max_batch} items and '
                    f'{settings.max_request_chars} characters in all (413 above); past '
                    f'{settings.max_queue} requests at once, 503 with Retry-After. '
                    'Offsets count Unicode code points.')
    app.state.tagging = thread
    app.openapi = profiles_in_schema(app, thread.names)
    app.add_middleware(Guard, settings=settings)
    add_error_handlers(app)
    add_health(app, thread, settings)
    add_tagging(app, thread, settings)
    add_eval(app, thread, settings)
    app.get('/', include_in_schema=False)(page)
    app.mount('/web', StaticFiles(directory=WEB), name='web')
    return app


@contextmanager
def drain_on_signals(thread: TaggingThread):
    """Under a server that stops on SIGTERM / SIGINT (uvicorn, in the main thread), the
    tagging thread drains first: the job running finishes and every request still waiting
    gets 503 with Retry-After at once, so the server's graceful wait ends with no request cut
    off (a 500). The server's own handler runs as before."""
    if threading.current_thread() is not threading.main_thread():
        yield  # a test client: no signals
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop(sig, frame):
        loop.call_soon_threadsafe(thread.drain)
        handler = previous[sig]
        if callable(handler):
            handler(sig, frame)
        elif handler == signal.SIG_DFL:
            signal.default_int_handler(sig, frame) if sig == signal.SIGINT else os._exit(128 + sig)

    for sig in previous:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is stop:
                signal.signal(sig, handler)


def profiles_in_schema(app: FastAPI, names: list[str]):
    """FastAPI's schema, with this server's profiles as the values ``profile`` takes."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = generate()
            for model in schema.get('components', {}).get('schemas', {}).values():
                for option in model.get('properties', {}).get('profile', {}).get('anyOf', ()):
                    if option.get('type') == 'string':
                        option['enum'] = names
        return schema
    return openapi


def add_error_handlers(app: FastAPI) -> None:
    """4xx with a one-line message, never a stack trace; 500 names only the error's type."""
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = error.errors()
        if any(e.get('type') == 'json_invalid' for e in errors):
            where = next(e.get('ctx', {}).get('error', '') for e in errors if e.get('type') == 'json_invalid')
            return JSONResponse({'detail': f'invalid JSON: {where}'.rstrip(': ')}, status_code=422)
        return JSONResponse({'detail': '; '.join(message(e) for e in errors[:10])}, status_code=422)

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({'detail': f'internal error ({type(error).__name__})'}, status_code=500)


def add_health(app: FastAPI, thread: TaggingThread, settings: Settings) -> None:
    @app.get('/healthz', tags=['health'])
    async def healthz() -> dict[str, str]:
        """The process answers (the models may still be loading)."""
        return {'status': 'ok'}

    @app.get('/readyz', tags=['health'], responses={503: {'model': Problem}})
    async def readyz() -> JSONResponse:
        """200 once this worker's models and default profile are loaded, 503 before (or when
        the default profile cannot be loaded); ``broken``: profiles that cannot be, and why."""
        state = thread.state()
        body: dict[str, Any] = {'status' if state == 'ready' else 'detail': state}
        if thread.broken:
            body['broken'] = thread.broken
        return JSONResponse(body, status_code=200 if state == 'ready' else 503)

    @app.get('/v1/profiles', tags=['tagging'])
    async def profiles() -> dict[str, Any]:
        """The model profiles this server serves, the one used when a request names none, the
        ones that cannot be loaded (``broken``: name -> what is wrong) and the limits."""
        return {'default': thread.default, 'profiles': thread.served, 'broken': thread.broken,
                'limits': {'max_body': settings.max_body, 'max_chars': settings.max_chars,
                           'max_batch': settings.max_batch,
                           'max_request_chars': settings.max_request_chars}}


def add_tagging(app: FastAPI, thread: TaggingThread, settings: Settings) -> None:
    @app.post('/v1/tag', tags=['tagging'], responses=ERRORS)
    async def tag(request: TagRequest) -> TagResponse:
        """Tag one article: ranked tags, the entities with offsets into the text as sent."""
        started = time.perf_counter()
        profile = thread.check(request.profile)
        prepared = prepare(request.text, request.title, settings.max_chars)
        doc, = await thread.tag_texts(request, [(None, prepared.full)])
        if doc.error:
            raise HTTPException(422, f'could not tag the text: {doc.error}')
        return TagResponse(profile=profile, took_ms=took(started),
                           **tagged(doc, prepared, request.style))

    @app.post('/v1/tag/batch', tags=['tagging'], responses=ERRORS)
    async def tag_batch(request: BatchRequest) -> BatchResponse:
        """Tag up to the server's batch limit of items, in order; a bad item gets an ``error``."""
        started = time.perf_counter()
        if len(request.items) > settings.max_batch:
            raise HTTPException(413, f'at most {settings.max_batch} items per batch, not {len(request.items)}')
        profile = thread.check(request.profile)
        results: list[BatchResult] = []
        work: list[tuple[int, Prepared]] = []
        for index, raw in enumerate(request.items):
            try:
                item = BatchItem.model_validate(raw)
            except ValidationError as error:
                ident = raw.get('id') if isinstance(raw, dict) else None
                results.append(BatchResult(id=str(ident) if isinstance(ident, (str, int)) else None,
                                           error='; '.join(message(e) for e in error.errors()[:5])))
                continue
            results.append(BatchResult(id=None if item.id is None else str(item.id)))
            work.append((index, prepare(item.text, item.title, settings.max_chars)))
        chars = sum(len(p.full) for _, p in work)
        if chars > settings.max_request_chars:
            raise HTTPException(413, f'the texts of the batch add up to {chars} characters, over the '
                                     f'{settings.max_request_chars} one request may have tagged '
                                     '(--max-request-chars): send fewer items per request')
        docs = await thread.tag_texts(request, [(i, p.full) for i, p in work]) if work else []
        for (index, prepared), doc in zip(work, docs):
            if doc.error:
                results[index].error = f'could not tag the text: {doc.error}'
            else:
                results[index] = BatchResult(id=results[index].id, **tagged(doc, prepared, request.style))
        return BatchResponse(profile=profile, results=results, took_ms=took(started))


def add_eval(app: FastAPI, thread: TaggingThread, settings: Settings) -> None:
    @app.post('/v1/eval', tags=['tagging'], responses=ERRORS)
    async def evaluate(request: EvalRequest) -> EvalResponse:
        """Tag an article that carries its own gold line and score the tags by PROTOCOL.md
        (the scorer of ``extractor eval``): exact and lemma P, R, F1."""
        started = time.perf_counter()
        profile = thread.check(request.profile)
        article = parse_article(request.article)
        if not article.tags:
            raise HTTPException(422, 'no gold line: the article has no last line of #tags to score against')
        prepared = prepare(article.text, None, settings.max_chars)
        out: dict[str, Any] = dict(truncated=prepared.truncated, chars=prepared.chars)
        if request.tags is None:
            doc, = await thread.tag_texts(request, [(None, prepared.full)])
            if doc.error:
                raise HTTPException(422, f'could not tag the text: {doc.error}')
            out = tagged(doc, prepared, request.style)
            pred = [t.text for t in doc.tags]
        else:
            pred = list(request.tags)
        score = await thread.call(score_document, pred, article.tags, thread.keyer)
        by_pred = {p: level for p, _, level in score.pairs}
        by_gold = {g: level for _, g, level in score.pairs}
        return EvalResponse(
            profile=profile, text=article.text, **out,
            gold=[Matched(text=g, match=by_gold.get(tag_key(g))) for g in article.tags],
            pred=[Matched(text=p, match=by_pred.get(tag_key(p))) for p in pred],
            exact=figures(score.prf('exact')), lemma=figures(score.prf('lemma')),
            took_ms=took(started))


async def page() -> FileResponse:
    """The editor's page."""
    return FileResponse(WEB / 'index.html', media_type='text/html; charset=utf-8')


def took(started: float) -> float:
    return round(1000 * (time.perf_counter() - started), 1)


# ---------------------------------------------------------------- serving

def app_from_env() -> FastAPI:
    """The app of one uvicorn worker process, from the settings ``run`` put in the environment."""
    one_thread()  # on one core: more cores, more ``--workers``
    return create_app(Settings.from_env())


def run(host: str = '127.0.0.1', port: int = 8000, workers: int = 1, access_log: bool = False,
        **settings: Any) -> None:
    """Serve until interrupted: ``workers`` processes, each with its own models; the ``Host``
    header checked against the bind address (``settings.hosts_for``) unless ``allowed_hosts``
    says otherwise."""
    from .server import serve

    config = Settings(**settings)
    if config.allowed_hosts is None:
        config.allowed_hosts = hosts_for(host)
    profile_dir(config.profile, config.models)
    os.environ.update(config.to_env())
    for var in THREAD_VARS:  # before the worker processes import numpy
        os.environ.setdefault(var, '1')
    serve('extractor.service.app:app_from_env', host=host, port=port, workers=workers,
          access_log=access_log)
