"""The Tagger: loads the models once; ``__call__(text)`` is ``next(pipe([text]))``."""
from __future__ import annotations

import gc
import logging
import threading
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterable, Iterator, Optional, Union

from .clean import clean_text
from .doc import Doc
from .merge import candidates
from .morph import Vocab, tag_morph
from .ner import span_tokens, tag_ner
from .neural import MorphTagger, NERTagger, share_encoding
from .normalize import Context, analysed, normalize_tokens, proper_case, unify_normals
from .phrases import extract_phrases
from .rank import DEFAULT_TOP, Heuristic, Ranker
from .resources import profile_dir
from .segment import segment

Item = Union[str, tuple]
ERRORS = ('raise', 'yield')
LONG = 200_000  # characters: a longer document goes through the models in windows of sentences
WINDOW = 1_000  # sentences per window
MAX_CHARS = 1_000_000  # a longer "article" (a dump, junk) is tagged on its first this many characters
log = logging.getLogger(__name__)
# Tagging fills the look-up caches with some 600,000 long-lived objects; with CPython's default
# thresholds a full collection then walks them all every dozen documents (about 10 % of the
# time). While a batch is tagged, a full collection waits for this many younger ones.
FULL_COLLECTION_EVERY = 1000


class Models:
    """natasha's news morph tagger and NER (run by ``neural``), and the pymorphy3 vocabulary."""

    def __init__(self):
        from natasha import NewsEmbedding

        emb = self.embedding = NewsEmbedding()
        self.morph = MorphTagger(emb)
        self.ner = NERTagger(emb)
        share_encoding(self.morph, self.ner)
        self.vocab = Vocab()


class Tagger:
    """Russian news text -> ``Doc`` with entities, phrases and ranked tags.

    >>> tagger = Tagger()
    >>> [t.text for t in tagger('Глава Ростова-на-Дону Алексей Логвиненко ...').tags]
    """

    def __init__(self, profile: Optional[str] = None, top: Optional[int] = DEFAULT_TOP,
                 batch_size: int = 32, models: Optional[str] = None, least: Optional[int] = None):
        self.profile = profile
        self.top, self.least = top, least  # at most / at least so many tags (None: the profile's)
        self.batch_size = batch_size
        # Resolved now, so a missing profile is a clear error at once; loaded on first use.
        self.profile_path = None if profile == 'heuristic' else profile_dir(profile, models)
        self._models: Optional[Models] = None
        self._ranker = None

    @property
    def models(self) -> Models:
        if self._models is None:
            self._models = Models()
        return self._models

    @property
    def ranker(self):
        if self._ranker is None:
            self._ranker = Heuristic() if self.profile_path is None else Ranker.load(self.profile_path)
        return self._ranker

    def __getstate__(self):  # workers load their own models
        return {**self.__dict__, '_models': None, '_ranker': None}

    def __call__(self, text: str) -> Doc:
        return next(self.pipe([text]))

    def pipe(self, items: Iterable[Item], batch_size: Optional[int] = None,
             errors: str = 'raise', ranked: bool = True) -> Iterator[Doc]:
        """Tag ``items`` (texts or ``(id, text)`` pairs) in batches, in input order.

        ``errors='raise'`` lets a failing item raise; ``'yield'`` gives a ``Doc`` with
        ``error`` set for it instead, and the rest of its batch is tagged as usual.
        ``ranked=False`` stops before ranking (no tags): what training needs.
        """
        if errors not in ERRORS:
            raise ValueError(f'errors must be one of {ERRORS}, not {errors!r}')
        chunk: list[Doc] = []
        for item in items:
            chunk.append(make_doc(item))
            if len(chunk) >= (batch_size or self.batch_size):
                yield from self._process(chunk, errors, ranked)
                chunk = []
        if chunk:
            yield from self._process(chunk, errors, ranked)

    def _process(self, docs: list[Doc], errors: str, ranked: bool) -> list[Doc]:
        good = [d for d in docs if d.error is None]
        try:
            self._run(good, ranked)
        except Exception:
            if errors == 'raise' or len(good) == 1:
                if errors == 'raise':
                    raise
            for doc in good:  # isolate the failing document
                try:
                    self._run([doc], ranked)
                except Exception as error:  # noqa: BLE001 - reported per record
                    clear(doc)
                    doc.error = f'{type(error).__name__}: {error}'
        if errors == 'raise':
            for doc in docs:
                if doc.error:
                    raise ValueError(f'document {doc.id!r}: {doc.error}')
        return docs

    def _run(self, docs: list[Doc], ranked: bool = True) -> None:
        with fewer_full_collections():
            self._run_batch(docs, ranked)

    def _run_batch(self, docs: list[Doc], ranked: bool) -> None:
        ranker = self.ranker if ranked else None
        texts = [doc.text for doc in docs]
        try:
            for doc in docs:  # the models read a cleaned copy: same length, same offsets
                doc.text = clean_text(doc.text)
            self._analyse([doc for doc in docs if len(doc.text) <= LONG])
            for doc in docs:
                if len(doc.text) > LONG:
                    self._analyse_long(doc)
                if ranker is not None:
                    doc.tags = ranker.rank(doc, candidates(doc), top=self.top, least=self.least,
                                           embedding=self.models.embedding, vocab=self.models.vocab)
                    for tag in doc.tags:
                        if not tag.mentions:  # a house tag: learned lower case, from gold
                            tag.text = proper_case(tag.text, self.models.vocab)
        finally:
            for doc, text in zip(docs, texts):
                restore(doc, text)

    def _analyse_long(self, doc: Doc) -> None:
        """Windows of ``WINDOW`` sentences, one after the other: memory stays bounded."""
        stop = cut(doc.text, MAX_CHARS)
        if stop < len(doc.text):
            log.warning('document %s: %d characters, only the first %d are tagged',
                        doc.id, len(doc.text), stop)
        head = Doc(doc.text[:stop])
        segment(head)
        doc.sentences, doc.tokens, doc.entities, doc.phrases = head.sentences, head.tokens, [], []
        for index in range(0, len(doc.sentences), WINDOW):
            group = doc.sentences[index:index + WINDOW]
            first = group[0].tokens[0]
            part = Doc(doc.text, tokens=doc.tokens[first:group[-1].tokens[-1] + 1],
                       sentences=[replace(s, tokens=[t - first for t in s.tokens]) for s in group])
            self._analyse([part], segmented=True)
            doc.entities += part.entities
            doc.phrases += part.phrases

    def _analyse(self, docs: list[Doc], segmented: bool = False) -> None:
        models = self.models
        if not segmented:
            for doc in docs:
                segment(doc)
        tag_morph(docs, models.morph, models.vocab)
        tag_ner(docs, models.ner, models.vocab)
        for doc in docs:
            context = Context.of(doc, models.vocab)
            for entity in doc.entities:
                entity.normal = normalize_tokens(span_tokens(doc, entity.start, entity.stop),
                                                 models.vocab, entity.type, context) or entity.text
            unify_normals(doc)
            extract_phrases(doc, models.vocab, self.offers_spellings)

    @property
    def offers_spellings(self) -> bool:
        """Whether phrases need their other spellings: for training (no profile) and for a
        profile trained to offer them, not for one trained before (ng, rt)."""
        return self.profile_path is None or getattr(self.ranker.lookups, 'variants', True)

    def normalize(self, text: str, start: int, stop: int) -> str:
        """Nominative normal form of ``text[start:stop]``, using the whole text as context.

        The text is analysed once and kept for the next spans of the same text.
        """
        if not 0 <= start < stop <= len(text):
            raise ValueError(f'bad span {start}:{stop} for a text of {len(text)} characters')
        doc, context = analysed(clean_text(text), self.models)
        kind = next((e.type for e in doc.entities if (e.start, e.stop) == (start, stop)), 'ORG')
        tokens = span_tokens(doc, start, stop)
        return normalize_tokens(tokens, self.models.vocab, kind, context) or text[start:stop]


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


def cut(text: str, limit: int) -> int:
    """Where to cut ``text`` to at most ``limit`` characters: a line or word end if near."""
    if len(text) <= limit:
        return len(text)
    for mark in ('\n', ' '):
        index = text.rfind(mark, limit - limit // 10, limit)
        if index > 0:
            return index
    return limit
