"""The tagging thread of a service worker: loads the taggers once, then tags, one job at a time.

The ``Tagger`` and its caches are used by one thread at a time: every request's work is queued
to this one thread, off the event loop. A request's texts are cut into jobs of about
``JOB_CHARS`` characters (one text at least), and the thread takes the requests' jobs in turn,
one job of each waiting request before a second of any (``FairQueue``): a small request waits
for at most one job of each request ahead of it, however big their batches. When the server
stops (``drain``), the job running is finished and every request still waiting gets 503.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Optional

from fastapi import HTTPException

from ..doc import Doc
from ..evaluate import LemmaKeyer
from ..resources import DEFAULT_PROFILE, ProfileError, available_profiles
from ..tagger import Tagger
from .schema import Options
from .settings import Settings

log = logging.getLogger('extractor.service')
JOB_CHARS = 20_000  # characters of one job: texts of a request are tagged this many at a time
RETRY_AFTER = {'Retry-After': '5'}


class Draining(Exception):
    """The server is stopping: a job that had not started is not run."""


class FairQueue:
    """One thread running jobs (``Future``, function, args): requests' jobs in turn."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.waiting: deque = deque()  # one deque of jobs per request, in turn
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name='tagger', daemon=True)
        self.thread.start()

    def submit(self, jobs: list[tuple[Callable, tuple]]) -> list[Future]:
        """Queue one request's jobs; their futures, in order."""
        futures = [Future() for _ in jobs]
        with self.lock:
            if self.stopping:
                raise Draining()
            self.waiting.append(deque((f, fn, args) for f, (fn, args) in zip(futures, jobs)))
            self.lock.notify()
        return futures

    def _next(self):
        with self.lock:
            while not self.waiting and not self.stopping:
                self.lock.wait()
            if not self.waiting:
                return None
            jobs = self.waiting.popleft()
            job = jobs.popleft()
            if jobs:
                self.waiting.append(jobs)  # its next job after one of every other request
            return job

    def _run(self) -> None:
        while (job := self._next()) is not None:
            future, function, args = job
            if not future.set_running_or_notify_cancel():
                continue  # the client went away
            try:
                future.set_result(function(*args))
            except BaseException as error:  # noqa: BLE001 - handed to the request
                future.set_exception(error)

    def drain(self) -> None:
        """Finish the running job; every job still waiting fails with ``Draining``."""
        with self.lock:
            self.stopping = True
            waiting, self.waiting = self.waiting, deque()
            self.lock.notify_all()
        for jobs in waiting:
            for future, _, _ in jobs:
                if future.set_running_or_notify_cancel():
                    future.set_exception(Draining())


class TaggingThread:
    """One thread that loads the taggers (one per profile, sharing the models) and then tags.

    A profile whose files cannot be read is reported (``broken``: name -> what is wrong, the
    file named) and the others are served; the server is ready once the default profile is
    loaded."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.default = settings.profile or DEFAULT_PROFILE
        self.names = sorted(set(available_profiles(settings.models)) | {self.default})
        self.queue: Optional[FairQueue] = None
        self.loading: Optional[Future] = None
        self.taggers: dict[str, Tagger] = {}
        self.broken: dict[str, str] = {}
        self.keyer = LemmaKeyer()

    def start(self) -> None:
        self.queue = FairQueue()
        self.loading, = self.queue.submit([(self._load, ())])

    def _load(self) -> None:
        first = Tagger(profile=self.default, models=self.settings.models)
        first.models  # noqa: B018 - load now, not on the first request
        taggers: dict[str, Tagger] = {}
        for name in [self.default] + [n for n in self.names if n != self.default]:
            # one copy of the neural models and caches for all profiles
            tagger = first if name == self.default else Tagger(
                profile=name, models=self.settings.models, share=first)
            try:
                tagger.ranker  # noqa: B018
            except (ProfileError, OSError) as error:
                self.broken[name] = str(error)
                log.error('profile %s not served: %s', name, error)
                continue
            taggers[name] = tagger
        self.keyer('тест')
        self.taggers = taggers
        if self.default in self.broken:
            raise ProfileError(f'the default profile {self.default!r} cannot be loaded: '
                               f'{self.broken[self.default]}')

    @property
    def ready(self) -> bool:
        return self.loading is not None and self.loading.done() and self.loading.exception() is None

    def state(self) -> str:
        if self.ready:
            return 'ready'
        if self.loading is not None and self.loading.done():
            return f'failed: {self.loading.exception()}'
        return 'loading'

    @property
    def served(self) -> list[str]:
        """The profiles requests may name: all but the broken ones."""
        return [name for name in self.names if name not in self.broken]

    async def call(self, function, *args):
        """``function(*args)`` on the tagging thread, once the models are loaded."""
        return (await self.run([(function, args)]))[0]

    async def run(self, jobs: list[tuple[Callable, tuple]]) -> list:
        """The results of ``jobs`` (function, args), run on the tagging thread in turn with
        other requests' jobs, once the models are loaded; 503 when the server is stopping."""
        if self.loading is None or self.queue is None:
            raise HTTPException(503, 'the models are not loading', headers=RETRY_AFTER)
        try:
            await asyncio.shield(asyncio.wrap_future(self.loading))  # a client gone: loading goes on
        except Draining:
            raise HTTPException(503, 'the server is stopping', headers=RETRY_AFTER) from None
        except Exception:  # noqa: BLE001 - reported as not ready, no trace
            raise HTTPException(503, f'the models failed to load: {self.state()}',
                                headers=RETRY_AFTER) from None
        try:
            futures = self.queue.submit(jobs)
        except Draining:
            raise HTTPException(503, 'the server is stopping', headers=RETRY_AFTER) from None
        try:
            return await asyncio.gather(*map(asyncio.wrap_future, futures))
        except Draining:
            raise HTTPException(503, 'the server is stopping', headers=RETRY_AFTER) from None
        finally:
            for future in futures:  # the client gone, or a job failed: the rest is not run
                future.cancel()

    async def tag_texts(self, options: Options, texts: list[tuple[Any, str]]) -> list[Doc]:
        """``tag`` on the tagging thread, the texts in jobs of about ``JOB_CHARS``."""
        jobs, job, size = [], [], 0
        for item in texts:
            if job and size + len(item[1]) > JOB_CHARS:
                jobs.append((self.tag, (options, job)))
                job, size = [], 0
            job.append(item)
            size += len(item[1])
        if job:
            jobs.append((self.tag, (options, job)))
        return [doc for docs in await self.run(jobs) for doc in docs]

    def check(self, profile: Optional[str]) -> str:
        """The profile's name; 422 for one this server does not have, 503 for a broken one."""
        name = profile or self.default
        if name not in self.names:
            raise HTTPException(422, f'unknown profile {name!r}; choose one of {", ".join(self.served)}')
        if name in self.broken:
            raise HTTPException(503, f'profile {name!r} cannot be loaded: {self.broken[name]}')
        return name

    def tag(self, options: Options, texts: list[tuple[Any, str]]) -> list[Doc]:
        """The docs of ``texts``, with their tags and entities only: the tokens, sentences
        and phrases go at once, not held while the request's other jobs wait their turn."""
        tagger = self.taggers[self.check(options.profile)]
        docs = list(tagger.pipe(texts, errors='yield', top=options.top, least=options.least))
        for doc in docs:
            doc.tokens, doc.sentences, doc.phrases = [], [], []
        return docs

    def drain(self) -> None:
        """Stop: the job running finishes, the requests still waiting get 503."""
        if self.queue is not None:
            self.queue.drain()

    def shutdown(self) -> None:
        self.drain()
