"""The Tagger: loads the models once; ``__call__(text)`` is ``next(pipe([text]))``."""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional, Union

from .analysis.candidates import candidates
from .analysis.casing import proper_case
from .analysis.clean import clean_text
from .analysis.entities import span_normal
from .analysis.normalize import Context
from .analysis.pipeline import Models, analyse
from .article import join_title
from .cache import MISSING, Memo
from .doc import Doc
from .ranking import profile
from .ranking.ranker import DEFAULT_TOP, Heuristic
from .tags import emitted
from .resources import profile_dir

Item = Union[str, tuple]
ERRORS = ('raise', 'yield')
# Tagging fills the look-up caches with some 600,000 long-lived objects; with CPython's default
# thresholds a full collection then walks them all every dozen documents (about 10 % of the
# time). While a batch is tagged, a full collection waits for this many younger ones.
FULL_COLLECTION_EVERY = 1000
ANALYSED = 8  # texts ``normalize`` keeps analysed: it is called span after span of one text


class Tagger:
    """Russian news text -> ``Doc`` with entities, phrases and ranked tags.

    ``profile``: the ranking profile (default ``default``; ``heuristic``: no trained ranker);
    ``models``: a folder of profiles to look in first; ``top`` / ``least``: at most / at
    least so many tags (``least`` None: the profile's own); ``share``: a Tagger whose analysis
    models (natasha's networks, pymorphy3 and their caches) this one uses too, so that
    taggers of several profiles hold one copy.

    >>> tagger = Tagger()
    >>> [t.text for t in tagger('Глава Ростова-на-Дону Алексей Логвиненко ...').tags]
    >>> doc = tagger(read_article('samples/01_spartak_rotor.txt').text)  # extractor.read_article

    An article file goes through ``extractor.read_article`` first: its ``text`` has the gold
    ``#tags`` line and the footer split off, which the tagger would otherwise tag too.
    """

    def __init__(self, profile: Optional[str] = None, top: Optional[int] = DEFAULT_TOP,
                 batch_size: int = 32, models: Optional[str] = None, least: Optional[int] = None,
                 share: Optional['Tagger'] = None):
        self.profile = profile
        self.top, self.least = top, least
        self.batch_size = batch_size
        # Resolved now, so a missing profile is a clear error at once; loaded on first use.
        self.profile_path = None if profile == 'heuristic' else profile_dir(profile, models)
        self._share = share
        self._models: Optional[Models] = None
        self._ranker = None
        self._analysed = Memo(ANALYSED)

    @property
    def models(self) -> Models:
        """The analysis models, loaded on first use (or the shared Tagger's)."""
        if self._models is None:
            self._models = self._share.models if self._share is not None else Models()
        return self._models

    @property
    def ranker(self):
        """The profile's ranker, loaded on first use."""
        if self._ranker is None:
            self._ranker = Heuristic() if self.profile_path is None else profile.load(self.profile_path)
        return self._ranker

    def __getstate__(self):  # workers load their own models
        return {**self.__dict__, '_share': None, '_models': None, '_ranker': None,
                '_analysed': Memo(ANALYSED)}

    def __call__(self, text: str, title: Optional[str] = None, top: Optional[int] = None,
                 least: Optional[int] = None) -> Doc:
        """Tag one text; ``title``, when given apart, is read first (``article.join_title``);
        ``top`` / ``least`` for this text only (None: the tagger's)."""
        return next(self.pipe([join_title(title, text)], top=top, least=least))

    def pipe(self, items: Iterable[Item], batch_size: Optional[int] = None,
             errors: str = 'raise', ranked: bool = True, top: Optional[int] = None,
             least: Optional[int] = None) -> Iterator[Doc]:
        """Tag ``items`` (texts or ``(id, text)`` pairs) in batches, in input order.

        ``errors='raise'`` lets a failing item raise; ``'yield'`` gives a ``Doc`` with
        ``error`` set for it instead, and the rest of its batch is tagged as usual.
        ``ranked=False`` stops before ranking (no tags): what training needs.
        ``top`` / ``least``: for these items only (None: the tagger's).
        """
        if errors not in ERRORS:
            raise ValueError(f'errors must be one of {ERRORS}, not {errors!r}')
        limits = (self.top if top is None else top, self.least if least is None else least)
        chunk: list[Doc] = []
        for item in items:
            chunk.append(make_doc(item))
            if len(chunk) >= (batch_size or self.batch_size):
                yield from self._process(chunk, errors, ranked, limits)
                chunk = []
        if chunk:
            yield from self._process(chunk, errors, ranked, limits)

    def _process(self, docs: list[Doc], errors: str, ranked: bool, limits: tuple) -> list[Doc]:
        """The one place a failing document is isolated: the batch again one by one."""
        good = [d for d in docs if d.error is None]
        try:
            self._run(good, ranked, limits)
        except Exception:
            if errors == 'raise':
                raise
            for doc in good:
                try:
                    self._run([doc], ranked, limits)
                except Exception as error:  # noqa: BLE001 - reported per record
                    clear(doc)
                    doc.error = f'{type(error).__name__}: {error}'
        if errors == 'raise':
            for doc in docs:
                if doc.error:
                    raise ValueError(f'document {doc.id!r}: {doc.error}')
        return docs

    def _run(self, docs: list[Doc], ranked: bool, limits: tuple) -> None:
        top, least = limits
        ranker = self.ranker if ranked else None
        texts = [doc.text for doc in docs]
        with fewer_full_collections():
            try:
                for doc in docs:  # the models read a cleaned copy: same length, same offsets
                    doc.text = clean_text(doc.text)
                analyse(docs, self.models, self.offers_spellings)
                if ranker is not None:
                    for doc in docs:
                        self._rank(doc, ranker, top, least)
            finally:
                for doc, text in zip(docs, texts):
                    restore(doc, text)

    def _rank(self, doc: Doc, ranker, top: Optional[int], least: Optional[int]) -> None:
        models = self.models
        doc.tags = ranker.rank(doc, candidates(doc), top=top, least=least,
                               embedding=models.embedding, vocab=models.vocab)
        for tag in doc.tags:
            if not tag.mentions:  # a house tag: learned lower case, from gold
                tag.text = proper_case(tag.text, models.vocab)
        doc.tags = emitted(doc.tags)  # no format character, no over-long tag

    @property
    def offers_spellings(self) -> bool:
        """Whether phrases need their other spellings: for a profile trained to offer them
        (and for training, which extracts through the heuristic profile), not for ng, rt."""
        return self.ranker.offers_spellings

    def normalize(self, text: str, start: int, stop: int) -> str:
        """Nominative normal form of ``text[start:stop]``, using the whole text as context.

        The text is analysed once and kept for the next spans of the same text.
        """
        if not 0 <= start < stop <= len(text):
            raise ValueError(f'bad span {start}:{stop} for a text of {len(text)} characters')
        entry = self._analysed.get(text)
        if entry is MISSING:
            doc = Doc(clean_text(text))
            analyse([doc], self.models, spellings=False)
            entry = self._analysed.put(text, (doc, Context.of(doc, self.models.vocab)))
        doc, context = entry
        return span_normal(doc, start, stop, self.models.vocab, context) or text[start:stop]


_lock = threading.Lock()
_running = 0  # batches being tagged (threads); the caller's thresholds come back at 0
_thresholds = gc.get_threshold()


@contextmanager
def fewer_full_collections():
    """Full collections deferred (``FULL_COLLECTION_EVERY``) inside the block; the
    process's own thresholds restored when the last such block ends."""
    global _running, _thresholds
    with _lock:
        if _running == 0:
            _thresholds = gc.get_threshold()
            first, second, full = _thresholds
            gc.set_threshold(first, second, max(full, FULL_COLLECTION_EVERY))
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.set_threshold(*_thresholds)


def make_doc(item: Item) -> Doc:
    if isinstance(item, tuple) and len(item) == 2:
        id, text = item
    else:
        id, text = None, item
    if not isinstance(text, str):
        return Doc('', id=None if id is None else str(id),
                   error=f'text must be a string, not {type(text).__name__}')
    return Doc(text, id=None if id is None else str(id))


def clear(doc: Doc) -> None:
    doc.sentences, doc.tokens, doc.entities, doc.phrases, doc.tags = [], [], [], [], []


def restore(doc: Doc, text: str) -> None:
    """Give ``doc`` the caller's ``text`` back: spans keep their offsets, re-read their text."""
    if doc.text is not text:
        doc.text = text
        for span in (*doc.sentences, *doc.tokens, *doc.entities, *doc.phrases):
            span.text = text[span.start:span.stop]
