"""Morphology: a pymorphy3 vocabulary with natasha's interface, and the tagging step.

natasha 1.6 ships a ``MorphVocab`` built on pymorphy2, which crashes on Python 3.11;
``Vocab`` is its replacement, backed by pymorphy3, cached and picklable.
"""
from __future__ import annotations

from typing import Iterable, Optional

import pymorphy3
from natasha.morph.lemma import best_form
from natasha.morph.vocab import OC_UD_INDEX, UD_OC_FEATS, ud_pos

from .batching import map_by_length
from .doc import Doc

# Only these need a dictionary lemma (phrases, topics, the house classifier): others keep ''.
LEMMATIZED = frozenset({'NOUN', 'PROPN', 'ADJ', 'VERB'})


class Form:
    """One pymorphy3 parse in natasha's terms: UD ``pos`` and ``feats``."""
    __slots__ = ('parse', 'word', 'normal', 'pos', 'feats')

    def __init__(self, parse: pymorphy3.analyzer.Parse):
        self.parse = parse
        self.word = parse.word
        self.normal = parse.normal_form
        self.pos = ud_pos(parse.tag)
        self.feats = dict(
            OC_UD_INDEX[gram] for gram in parse.tag._grammemes_tuple if gram in OC_UD_INDEX
        )

    def inflect(self, grams: Iterable[str]) -> Optional['Form']:
        """The form with the given UD grammemes (``{'Nom'}``), or None."""
        oc = {UD_OC_FEATS[gram] for gram in grams}
        parse = self.parse.inflect(oc)
        return Form(parse) if parse else None

    @property
    def grams(self) -> frozenset:
        return self.parse.tag.grammemes

    def __repr__(self) -> str:
        return f'Form({self.word!r}, normal={self.normal!r}, pos={self.pos!r}, feats={self.feats!r})'


class Vocab:
    """pymorphy3 analyzer with natasha's vocabulary interface: ``vocab(word) -> [Form]``."""

    def __init__(self, analyzer: Optional[pymorphy3.MorphAnalyzer] = None):
        self.analyzer = analyzer or pymorphy3.MorphAnalyzer()
        self._forms: dict[str, list[Form]] = {}
        self._inflections: dict = {}

    def __call__(self, word: str) -> list[Form]:
        forms = self._forms.get(word)
        if forms is None:
            if len(self._forms) > 200_000:  # bound memory on endless archives
                self._forms.clear()
            forms = [Form(p) for p in self.analyzer.parse(word)]
            self._forms[word] = forms
        return forms

    def parse(self, word: str) -> list[Form]:
        return self(word.lower())

    def best(self, word: str, pos: str, feats: dict) -> Optional[Form]:
        """The parse that agrees best with the tagger's ``pos`` and ``feats``."""
        return best_form(self(word.lower()), pos, feats)

    def lemmatize(self, word: str, pos: str, feats: dict) -> str:
        form = self.best(word, pos, feats)
        return form.normal if form else word.lower()

    def inflect(self, form: Form, grams: frozenset) -> Optional[Form]:
        key = (form.word, str(form.parse.tag), form.normal, grams)
        if key not in self._inflections:
            if len(self._inflections) > 200_000:
                self._inflections.clear()
            self._inflections[key] = form.inflect(grams)
        return self._inflections[key]

    def __getstate__(self):
        return {'analyzer': self.analyzer}

    def __setstate__(self, state):
        self.__init__(state['analyzer'])


def tag_morph(docs: list[Doc], tagger, vocab: Vocab) -> None:
    """Contextual POS and feats from natasha's morph tagger; lemmas from pymorphy3.

    All sentences of all ``docs`` go through the tagger together, in its batches.
    """
    sents = [(doc, sent) for doc in docs for sent in doc.sentences]
    chunk = [[doc.tokens[i].text for i in sent.tokens] for doc, sent in sents]
    for (doc, sent), markup in zip(sents, map_by_length(tagger, chunk)):
        for index, source in zip(sent.tokens, markup.tokens):
            token = doc.tokens[index]
            token.pos, token.feats = source.pos, source.feats
            if token.pos in LEMMATIZED:
                token.lemma = vocab.lemmatize(token.text, token.pos, token.feats)
