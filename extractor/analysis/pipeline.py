"""The analysis steps in order, over a batch of documents at once.

natasha's models read every sentence of the batch in one pass; a document longer than ``LONG``
characters goes through them in windows of ``WINDOW`` sentences, one after the other, so
memory stays bounded; one longer than ``MAX_CHARS`` is analysed on its first so many.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from ..article import MAX_CHARS, cut_text
from ..doc import Doc
from .entities import normalize_entities, unify_normals
from .morph import Vocab, tag_morph
from .ner import tag_ner
from .neural import MorphTagger, NERTagger
from .normalize import Context
from .phrases import extract_phrases
from .segment import segment

LONG = 200_000  # characters: a longer document goes through the models in windows of sentences
WINDOW = 1_000  # sentences per window
log = logging.getLogger(__name__)


class Models:
    """natasha's news morph tagger and NER (run by ``neural``), and the pymorphy3 vocabulary."""

    def __init__(self):
        from natasha import NewsEmbedding

        emb = self.embedding = NewsEmbedding()
        self.morph = MorphTagger(emb)
        self.ner = NERTagger(emb, share=self.morph)
        self.vocab = Vocab()


def analyse(docs: list[Doc], models: Models, spellings: bool = True) -> None:
    """Sentences, tokens, morphology, entities with their normal forms and phrases of each
    document; ``spellings``: what other spellings of the phrases need (``extract_phrases``)."""
    steps([doc for doc in docs if len(doc.text) <= LONG], models, spellings)
    for doc in docs:
        if len(doc.text) > LONG:
            windows(doc, models, spellings)


def steps(docs: list[Doc], models: Models, spellings: bool, segmented: bool = False) -> None:
    if not segmented:
        for doc in docs:
            segment(doc)
    tag_morph(docs, models.morph, models.vocab)
    tag_ner(docs, models.ner, models.vocab)
    for doc in docs:
        normalize_entities(doc, models.vocab, Context.of(doc, models.vocab))
        unify_normals(doc)
        extract_phrases(doc, models.vocab, spellings)


def windows(doc: Doc, models: Models, spellings: bool) -> None:
    """A long document in windows of ``WINDOW`` sentences; its first ``MAX_CHARS`` only."""
    stop = cut_text(doc.text, MAX_CHARS)
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
        steps([part], models, spellings, segmented=True)
        doc.entities += part.entities
        doc.phrases += part.phrases
