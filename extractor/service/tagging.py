"""The tagging thread of a service worker: loads the taggers once, then tags, one call at a time.

The ``Tagger`` and its caches are used by one thread at a time: every request's work is queued
to this one thread, off the event loop.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Optional

from fastapi import HTTPException

from ..doc import Doc
from ..evaluate import LemmaKeyer
from ..resources import DEFAULT_PROFILE, ProfileError, available_profiles
from ..tagger import Tagger
from .schema import Options
from .settings import Settings

log = logging.getLogger('extractor.service')


class TaggingThread:
    """One thread that loads the taggers (one per profile, sharing the models) and then tags.

    A profile whose files cannot be read is reported (``broken``: name -> what is wrong, the
    file named) and the others are served; the server is ready once the default profile is
    loaded."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.default = settings.profile or DEFAULT_PROFILE
        self.names = sorted(set(available_profiles(settings.models)) | {self.default})
        self.executor = ThreadPoolExecutor(1, thread_name_prefix='tagger')
        self.loading: Optional[Future] = None
        self.taggers: dict[str, Tagger] = {}
        self.broken: dict[str, str] = {}
        self.keyer = LemmaKeyer()

    def start(self) -> None:
        self.loading = self.executor.submit(self._load)

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
        if self.loading is None:
            raise HTTPException(503, 'the models are not loading')
        try:
            await asyncio.shield(asyncio.wrap_future(self.loading))  # a client gone: loading goes on
        except Exception:  # noqa: BLE001 - reported as not ready, no trace
            raise HTTPException(503, f'the models failed to load: {self.state()}') from None
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    def check(self, profile: Optional[str]) -> str:
        """The profile's name; 422 for one this server does not have, 503 for a broken one."""
        name = profile or self.default
        if name not in self.names:
            raise HTTPException(422, f'unknown profile {name!r}; choose one of {", ".join(self.served)}')
        if name in self.broken:
            raise HTTPException(503, f'profile {name!r} cannot be loaded: {self.broken[name]}')
        return name

    def tag(self, options: Options, texts: list[tuple[Any, str]]) -> list[Doc]:
        tagger = self.taggers[self.check(options.profile)]
        return list(tagger.pipe(texts, errors='yield', top=options.top, least=options.least))

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
