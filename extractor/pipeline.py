"""The Tagger: loads the models once; ``__call__(text)`` is ``next(pipe([text]))``."""
from __future__ import annotations

import bisect
from typing import Iterable, Iterator, Optional, Union

from .doc import Doc, Token
from .merge import candidates
from .morph import Vocab, tag_morph
from .ner import tag_ner
from .normalize import normalize_tokens
from .phrases import extract_phrases
from .rank import DEFAULT_TOP, rank
from .segment import segment

Item = Union[str, tuple]
ERRORS = ('raise', 'yield')


class Models:
    """natasha's news embedding, morph tagger and NER, and the pymorphy3 vocabulary."""

    def __init__(self, batch_size: int = 64):
        from natasha import NewsEmbedding, NewsMorphTagger, NewsNERTagger

        emb = NewsEmbedding()
        self.morph = NewsMorphTagger(emb)
        self.ner = NewsNERTagger(emb)
        self.morph.batch_size = self.ner.batch_size = batch_size
        self.vocab = Vocab()


class Tagger:
    """Russian news text -> ``Doc`` with entities, phrases and ranked tags.

    >>> tagger = Tagger()
    >>> [t.text for t in tagger('Глава Ростова-на-Дону Алексей Логвиненко ...').tags]
    """

    def __init__(self, profile: Optional[str] = None, top: Optional[int] = DEFAULT_TOP,
                 batch_size: int = 32):
        self.profile = profile
        self.top = top
        self.batch_size = batch_size
        self._models: Optional[Models] = None

    @property
    def models(self) -> Models:
        if self._models is None:
            self._models = Models()
        return self._models

    def __getstate__(self):  # workers load their own models
        return {**self.__dict__, '_models': None}

    def __call__(self, text: str) -> Doc:
        return next(self.pipe([text]))

    def pipe(self, items: Iterable[Item], batch_size: Optional[int] = None,
             errors: str = 'raise') -> Iterator[Doc]:
        """Tag ``items`` (texts or ``(id, text)`` pairs) in batches, in input order.

        ``errors='raise'`` lets a failing item raise; ``'yield'`` gives a ``Doc`` with
        ``error`` set for it instead, and the rest of its batch is tagged as usual.
        """
        if errors not in ERRORS:
            raise ValueError(f'errors must be one of {ERRORS}, not {errors!r}')
        chunk: list[Doc] = []
        for item in items:
            chunk.append(make_doc(item))
            if len(chunk) >= (batch_size or self.batch_size):
                yield from self._process(chunk, errors)
                chunk = []
        if chunk:
            yield from self._process(chunk, errors)

    def _process(self, docs: list[Doc], errors: str) -> list[Doc]:
        good = [d for d in docs if d.error is None]
        try:
            self._run(good)
        except Exception:
            if errors == 'raise' or len(good) == 1:
                if errors == 'raise':
                    raise
            for doc in good:  # isolate the failing document
                try:
                    self._run([doc])
                except Exception as error:  # noqa: BLE001 - reported per record
                    clear(doc)
                    doc.error = f'{type(error).__name__}: {error}'
        if errors == 'raise':
            for doc in docs:
                if doc.error:
                    raise ValueError(f'document {doc.id!r}: {doc.error}')
        return docs

    def _run(self, docs: list[Doc]) -> None:
        models = self.models
        for doc in docs:
            segment(doc)
        tag_morph(docs, models.morph, models.vocab)
        tag_ner(docs, models.ner)
        for doc in docs:
            for entity in doc.entities:
                entity.normal = normalize_tokens(span_tokens(doc, entity.start, entity.stop),
                                                 models.vocab, entity.type) or entity.text
            extract_phrases(doc, models.vocab)
            doc.tags = rank(doc, candidates(doc), top=self.top)

    def normalize(self, text: str, start: int, stop: int) -> str:
        """Nominative normal form of ``text[start:stop]``, using its sentence as context."""
        if not 0 <= start < stop <= len(text):
            raise ValueError(f'bad span {start}:{stop} for a text of {len(text)} characters')
        doc = Doc(text)
        segment(doc)
        doc.sentences = [s for s in doc.sentences if s.start < stop and s.stop > start]
        tag_morph([doc], self.models.morph, self.models.vocab)
        tag_ner([doc], self.models.ner)
        kind = next((e.type for e in doc.entities if (e.start, e.stop) == (start, stop)), 'ORG')
        tokens = span_tokens(doc, start, stop)
        return normalize_tokens(tokens, self.models.vocab, kind) or text[start:stop]


def make_doc(item: Item) -> Doc:
    if isinstance(item, tuple) and len(item) == 2:
        id, text = item
    else:
        id, text = None, item
    if not isinstance(text, str):
        return Doc('', id=None if id is None else str(id),
                   error=f'text must be a string, not {type(text).__name__}')
    return Doc(text, id=None if id is None else str(id))


def span_tokens(doc: Doc, start: int, stop: int) -> list[Token]:
    """The tokens lying inside ``[start, stop)``."""
    starts = [t.start for t in doc.tokens]
    first = bisect.bisect_left(starts, start)
    tokens = []
    for token in doc.tokens[first:]:
        if token.start >= stop:
            break
        if token.stop <= stop:
            tokens.append(token)
    return tokens


def clear(doc: Doc) -> None:
    doc.sentences, doc.tokens, doc.entities, doc.phrases, doc.tags = [], [], [], [], []
