"""The HTTP service behind ``extractor serve``: a FastAPI app over the ``Tagger``.

Imported only by ``extractor serve`` and the tests; the core package never imports FastAPI.
Each worker process loads the models once, in a background thread at start-up (``/readyz``
answers 503 until then), and tags on one thread of its own, off the event loop: the
``Tagger`` and its caches are used by one thread at a time.
"""
from __future__ import annotations

import asyncio
import math
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .article import parse_article
from .doc import Doc
from .evaluate import LemmaKeyer, score_document
from .pipeline import MAX_CHARS as LIBRARY_MAX_CHARS, Tagger, cut
from .rank import DEFAULT_TOP
from .resources import DEFAULT_PROFILE, available_profiles, profile_dir
from .tags import hashtag, style as styled, tag_key

MAX_BODY = 2 * 1024 * 1024  # bytes of a request body; more -> 413
MAX_CHARS = 100_000  # characters of one text; a longer one is cut as the library cuts it
MAX_BATCH = 32  # items of one /v1/tag/batch request; more -> 413
MAX_TOP = 100
WEB = Path(__file__).resolve().parent / 'web'
ENV_PREFIX = 'EXTRACTOR_SERVE_'  # settings reach uvicorn's worker processes through these
THREAD_VARS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


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


# ---------------------------------------------------------------- requests and responses

def no_surrogates(text: str) -> str:
    """JSON may escape a lone UTF-16 surrogate (``"\\ud800"``); it is no character."""
    for index, char in enumerate(text):
        if '\ud800' <= char <= '\udfff':
            raise ValueError(f'lone surrogate U+{ord(char):04X} at character {index}')
    return text


Text = Annotated[str, AfterValidator(no_surrogates)]
Style = Literal['seed', 'lower', 'camel']


class Options(BaseModel):
    model_config = ConfigDict(extra='forbid', strict=True)

    profile: Optional[Text] = Field(None, max_length=64, description='model profile (GET /v1/profiles); '
                                    "default: the server's --profile")
    top: Optional[int] = Field(None, ge=1, le=MAX_TOP, description=f'at most N tags (default {DEFAULT_TOP})')
    least: Optional[int] = Field(None, ge=1, le=MAX_TOP, description='at least N tags where the text has them')
    style: Style = Field('seed', description='tag style: seed "Ростов-на-Дону", lower "ростов-на-дону", '
                                             'camel "РостовНаДону"')


class TagRequest(Options):
    text: Text = Field(..., description='the article (UTF-8; title on its first line, or in `title`); '
                                        'a text longer than the server limit is cut at a line or word end')
    title: Optional[Text] = Field(None, max_length=2000, description='read before the text when the text '
                                  'does not start with it')


class BatchItem(BaseModel):
    model_config = ConfigDict(extra='forbid', strict=True)

    id: Optional[str | int] = None
    text: Text
    title: Optional[Text] = Field(None, max_length=2000)


class BatchRequest(Options):
    items: list[Any] = Field(..., description=f'at most {MAX_BATCH} (the server limit) items '
                             '`{id?, text, title?}`; a bad item gets an `error`, the others are tagged')


class EvalRequest(Options):
    article: Text = Field(..., description="an article in the seed's format: title line, optional date "
                          'line, body, a line of `#gold #tags`, optional footer')
    tags: Optional[list[Text]] = Field(None, max_length=500, description='score these tags instead of '
                                       "tagging the article (an editor's edited list)")


class TagOut(BaseModel):
    text: str = Field(description='the tag in the requested style, without "#"')
    normal: str = Field(description="the tagger's normal form (style seed before capitalizing)")
    kind: str = Field(description='PER, LOC, ORG, PHRASE or TOPIC')
    score: float


class EntityOut(BaseModel):
    start: int = Field(description='offset in Unicode code points into `field` as sent')
    stop: int
    type: str = Field(description='PER, LOC or ORG')
    text: str
    normal: str = Field(description='nominative normal form')
    field: Literal['text', 'title'] = 'text'


class Tagged(BaseModel):
    tags: list[TagOut] = []
    entities: list[EntityOut] = []
    hashtags: str = Field('', description='the tags as one line of #hashtags in the requested style')
    truncated: bool = Field(False, description='the text was longer than the server limit and was cut')
    chars: int = Field(0, description='characters of the text that were tagged')


class TagResponse(Tagged):
    profile: str
    took_ms: float


class BatchResult(Tagged):
    id: Optional[str] = None
    error: Optional[str] = Field(None, description='why this item was not tagged')


class BatchResponse(BaseModel):
    profile: str
    results: list[BatchResult]
    took_ms: float


class Figures(BaseModel):
    p: float
    r: float
    f1: float


class Matched(BaseModel):
    text: str
    match: Optional[Literal['exact', 'lemma']] = Field(None, description='how it matched the other side, if it did')


class EvalResponse(TagResponse):
    text: str = Field(description='what was tagged: the article without its gold line and footer')
    gold: list[Matched]
    pred: list[Matched] = Field(description='the scored tags (the tagger\'s, or the `tags` sent)')
    exact: Figures
    lemma: Figures


class Problem(BaseModel):
    detail: str


ERRORS = {code: {'model': Problem} for code in (400, 413, 422, 503)}


# ---------------------------------------------------------------- the tagging thread

class Engine:
    """One thread that loads the taggers (one per profile, sharing the models) and then tags."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.default = settings.profile or DEFAULT_PROFILE
        self.names = sorted(set(available_profiles(settings.models)) | {self.default})
        self.executor = ThreadPoolExecutor(1, thread_name_prefix='tagger')
        self.loading: Optional[Future] = None
        self.taggers: dict[str, Tagger] = {}
        self.keyer = LemmaKeyer()

    def start(self) -> None:
        self.loading = self.executor.submit(self._load)

    def _load(self) -> None:
        first = Tagger(profile=self.default, models=self.settings.models)
        first.models, first.ranker  # noqa: B018 - load now, not on the first request
        taggers = {self.default: first}
        for name in self.names:
            if name not in taggers:
                tagger = Tagger(profile=name, models=self.settings.models)
                tagger._models = first.models  # one copy of the neural models and caches
                tagger.ranker  # noqa: B018
                taggers[name] = tagger
        self.keyer('тест')
        self.taggers = taggers

    @property
    def ready(self) -> bool:
        return self.loading is not None and self.loading.done() and self.loading.exception() is None

    def state(self) -> str:
        if self.ready:
            return 'ready'
        if self.loading is not None and self.loading.done():
            return f'failed: {self.loading.exception()}'
        return 'loading'

    async def call(self, function, *args):
        """``function(*args)`` on the tagging thread, once the models are loaded."""
        if self.loading is None:
            raise HTTPException(503, 'the models are not loading')
        try:
            await asyncio.shield(asyncio.wrap_future(self.loading))  # a client gone: loading goes on
        except Exception:  # noqa: BLE001 - reported as not ready, no trace
            raise HTTPException(503, f'the models failed to load: {self.state()}') from None
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def check(self, profile: Optional[str]) -> str:
        """The profile's name; 422 for one this server does not have."""
        name = profile or self.default
        if name not in self.names:
            raise HTTPException(422, f'unknown profile {name!r}; choose one of {", ".join(self.names)}')
        return name

    def tag(self, options: Options, texts: list[tuple[Any, str]]) -> list[Doc]:
        tagger = self.taggers[self.check(options.profile)]
        tagger.top, tagger.least = options.top or DEFAULT_TOP, options.least
        return list(tagger.pipe(texts, errors='yield'))

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- text in, JSON out

@dataclass
class Prepared:
    """What the tagger reads for one text: ``title + '\\n'`` (if any) before the cut text."""
    full: str
    shift: int  # where the text starts in ``full``
    chars: int  # characters of the text kept
    truncated: bool


def prepare(text: str, title: Optional[str], limit: int) -> Prepared:
    stop = cut(text, min(limit, LIBRARY_MAX_CHARS))
    body = text[:stop]
    if title and title.strip() and not body.lstrip().startswith(title.strip()):
        return Prepared(f'{title}\n{body}', len(title) + 1, stop, stop < len(text))
    return Prepared(body, 0, stop, stop < len(text))


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


# ---------------------------------------------------------------- the body cap

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


# ---------------------------------------------------------------- the app

def create_app(settings: Optional[Settings] = None) -> FastAPI:
    """The service: the API under ``/v1``, health at ``/healthz`` and ``/readyz``, the page at ``/``."""
    settings = settings or Settings()
    profile_dir(settings.profile, settings.models)  # a missing profile: a clear error now
    engine = Engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        engine.start()
        yield
        engine.shutdown()

    app = FastAPIOffline(
        title='extractor', version='1', lifespan=lifespan,
        description='Russian news articles -> normalized hashtags. '
                    f'Limits: request body {settings.max_body} bytes (413 above), '
                    f'text {settings.max_chars} characters (cut at a line or word end, '
                    f'`truncated: true`), batch {settings.max_batch} items (413 above). '
                    'Offsets count Unicode code points.')
    app.state.engine = engine
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema, with this server's profiles as the values ``profile`` takes."""
        schema = app.openapi_schema
        if schema is None:
            schema = generate()
            for model in schema.get('components', {}).get('schemas', {}).values():
                for option in model.get('properties', {}).get('profile', {}).get('anyOf', ()):
                    if option.get('type') == 'string':
                        option['enum'] = engine.names
        return schema

    app.openapi = openapi
    app.add_middleware(Guard, limit=settings.max_body)

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

    @app.get('/healthz', tags=['health'])
    async def healthz() -> dict[str, str]:
        """The process answers (the models may still be loading)."""
        return {'status': 'ok'}

    @app.get('/readyz', tags=['health'], responses={503: {'model': Problem}})
    async def readyz() -> JSONResponse:
        """200 once this worker's models are loaded, 503 before."""
        state = engine.state()
        return JSONResponse({'status' if state == 'ready' else 'detail': state},
                            status_code=200 if state == 'ready' else 503)

    @app.get('/v1/profiles', tags=['tagging'])
    async def profiles() -> dict[str, Any]:
        """The model profiles this server has, and the one used when a request names none."""
        return {'default': engine.default, 'profiles': engine.names,
                'limits': {'max_body': settings.max_body, 'max_chars': settings.max_chars,
                           'max_batch': settings.max_batch}}

    @app.post('/v1/tag', tags=['tagging'], responses=ERRORS)
    async def tag(request: TagRequest) -> TagResponse:
        """Tag one article: ranked tags, the entities with offsets into the text as sent."""
        started = time.perf_counter()
        profile = engine.check(request.profile)
        prepared = prepare(request.text, request.title, settings.max_chars)
        doc, = await engine.call(engine.tag, request, [(None, prepared.full)])
        if doc.error:
            raise HTTPException(422, f'could not tag the text: {doc.error}')
        return TagResponse(profile=profile,
                           took_ms=round(1000 * (time.perf_counter() - started), 1),
                           **tagged(doc, prepared, request.style))

    @app.post('/v1/tag/batch', tags=['tagging'], responses=ERRORS)
    async def tag_batch(request: BatchRequest) -> BatchResponse:
        """Tag up to the server's batch limit of items, in order; a bad item gets an ``error``."""
        started = time.perf_counter()
        if len(request.items) > settings.max_batch:
            raise HTTPException(413, f'at most {settings.max_batch} items per batch, not {len(request.items)}')
        profile = engine.check(request.profile)
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
        docs = await engine.call(engine.tag, request, [(i, p.full) for i, p in work]) if work else []
        for (index, prepared), doc in zip(work, docs):
            if doc.error:
                results[index].error = f'could not tag the text: {doc.error}'
            else:
                results[index] = BatchResult(id=results[index].id, **tagged(doc, prepared, request.style))
        return BatchResponse(profile=profile, results=results,
                             took_ms=round(1000 * (time.perf_counter() - started), 1))

    @app.post('/v1/eval', tags=['tagging'], responses=ERRORS)
    async def evaluate(request: EvalRequest) -> EvalResponse:
        """Tag an article that carries its own gold line and score the tags by PROTOCOL.md
        (the scorer of ``extractor eval``): exact and lemma P, R, F1."""
        started = time.perf_counter()
        profile = engine.check(request.profile)
        article = parse_article(request.article)
        if not article.tags:
            raise HTTPException(422, 'no gold line: the article has no last line of #tags to score against')
        prepared = prepare(article.text, None, settings.max_chars)
        out: dict[str, Any] = dict(truncated=prepared.truncated, chars=prepared.chars)
        if request.tags is None:
            doc, = await engine.call(engine.tag, request, [(None, prepared.full)])
            if doc.error:
                raise HTTPException(422, f'could not tag the text: {doc.error}')
            out = tagged(doc, prepared, request.style)
            pred = [t.text for t in doc.tags]
        else:
            pred = list(request.tags)
        score = await engine.call(score_document, pred, article.tags, engine.keyer)
        by_pred = {p: level for p, _, level in score.pairs}
        by_gold = {g: level for _, g, level in score.pairs}
        return EvalResponse(
            profile=profile, text=article.text, **out,
            gold=[Matched(text=g, match=by_gold.get(tag_key(g))) for g in article.tags],
            pred=[Matched(text=p, match=by_pred.get(tag_key(p))) for p in pred],
            exact=figures(score.prf('exact')), lemma=figures(score.prf('lemma')),
            took_ms=round(1000 * (time.perf_counter() - started), 1))

    @app.get('/', include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB / 'index.html', media_type='text/html; charset=utf-8')

    app.mount('/web', StaticFiles(directory=WEB), name='web')
    return app


def one_core() -> None:
    """Tag on one core (``$OPENBLAS_NUM_THREADS``, default 1): the BLAS threads of several
    workers, or of other programs, would spin against each other (on 2 busy cores a single
    worker tagged 3x slower with them). More cores: more ``--workers``."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, '1')
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # numpy was imported after the variables were set: they suffice
        return
    threadpool_limits(int(os.environ['OPENBLAS_NUM_THREADS']))


def app_from_env() -> FastAPI:
    """The app of one uvicorn worker process, from the settings ``run`` put in the environment."""
    one_core()
    return create_app(Settings.from_env())


def run(host: str = '127.0.0.1', port: int = 8000, workers: int = 1, access_log: bool = False,
        **settings: Any) -> None:
    """Serve until interrupted: ``workers`` processes, each with its own models."""
    import uvicorn

    config = Settings(**settings)
    profile_dir(config.profile, config.models)
    os.environ.update(config.to_env())
    for var in THREAD_VARS:  # before the worker processes import numpy
        os.environ.setdefault(var, '1')
    uvicorn.run('extractor.serve:app_from_env', factory=True, host=host, port=port,
                workers=workers, access_log=access_log, timeout_graceful_shutdown=10)
