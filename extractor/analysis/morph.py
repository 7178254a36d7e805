"""Morphology: a pymorphy3 vocabulary with natasha's interface, and the tagging step.

natasha 1.6 ships a ``MorphVocab`` built on pymorphy2, which crashes on Python 3.11;
``Vocab`` is its replacement, backed by pymorphy3, cached and picklable.
"""
from __future__ import annotations

from typing import Iterable, Optional

import pymorphy3
from natasha.morph.lemma import best_form, normal_pos
from natasha.morph.vocab import OC_UD_INDEX, UD_OC_FEATS, ud_pos

from ..cache import MISSING, Memo
from ..doc import Doc

# Only these need a dictionary lemma (phrases, topics, the house classifier): others keep ''.
LEMMATIZED = frozenset({'NOUN', 'PROPN', 'ADJ', 'VERB'})


def feats_text(feats: dict) -> str:
    """``{'Case': 'Nom', 'Number': 'Sing'}`` -> ``'Case=Nom|Number=Sing'``: a compact cache key."""
    return '|'.join(map('='.join, feats.items()))


_UD_TAGS: dict = {}


def ud_tag(tag) -> tuple[str, dict]:
    """A pymorphy3 tag's UD ``(pos, feats)``, made once per tag (a few thousand exist); the
    feats dict is shared and never changed."""
    found = _UD_TAGS.get(tag)
    if found is None:
        feats = dict(OC_UD_INDEX[gram] for gram in tag._grammemes_tuple if gram in OC_UD_INDEX)
        found = _UD_TAGS[tag] = (ud_pos(tag), feats)
    return found


_POSES: dict[frozenset, frozenset] = {}


class Form:
    """One pymorphy3 parse in natasha's terms: UD ``pos`` and ``feats``."""
    __slots__ = ('parse', 'word', 'normal', 'pos', 'feats')

    def __init__(self, parse: pymorphy3.analyzer.Parse):
        self.parse = parse
        self.word = parse.word
        self.normal = parse.normal_form
        self.pos, self.feats = ud_tag(parse.tag)

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
        self._forms = Memo()  # word -> [Form]
        self._inflections = Memo()  # (form, grams) -> Form or None
        self._best = Memo()  # word, pos, feats -> Form or None
        self._lemmas = Memo()  # word -> (its one lemma or '', the parts of speech it has)
        self._choices = Memo()  # (paradigm, form, grams) -> index of the inflected form
        self._paradigms = Memo()  # paradigm -> its forms' (prefix, tag, suffix)

    def __call__(self, word: str) -> list[Form]:
        forms = self._forms.get(word)
        if forms is MISSING:
            forms = self._forms.put(word, [Form(p) for p in self.analyzer.parse(word)])
        return forms

    def parse(self, word: str) -> list[Form]:
        return self(word.lower())

    def best(self, word: str, pos: str, feats: dict) -> Optional[Form]:
        """The parse that agrees best with the tagger's ``pos`` and ``feats``; remembered."""
        key = f'{word}\t{pos}\t{feats_text(feats)}'
        form = self._best.get(key)
        if form is MISSING:
            form = self._best.put(key, best_form(self(word.lower()), pos, feats))
        return form

    def lemmatize(self, word: str, pos: str, feats: dict) -> str:
        """The lemma of the parse that agrees best with the tagger (natasha's ``best_form``).
        Most words have one lemma whatever the parse: when a parse has the tagger's part of
        speech, that lemma is the answer without the choice."""
        lower = word.lower()
        known = self._lemmas.get(lower)
        if known is MISSING:
            forms = self(lower)
            single = forms[0].normal if forms else ''
            if any(f.normal != single for f in forms):
                single = ''  # several lemmas: the tags choose
            poses = frozenset(normal_pos(f.pos) for f in forms)
            poses = _POSES.setdefault(poses, poses)  # a few dozen sets, shared
            known = self._lemmas.put(lower, (single, poses))
        single, poses = known
        if single and normal_pos(pos) in poses:
            return single
        form = self.best(word, pos, feats)
        return form.normal if form else lower

    def inflect(self, form: Form, grams: frozenset) -> Optional[Form]:
        """``form`` in the UD grammemes ``grams`` (``{'Nom'}``), or None; remembered."""
        key = (form.word, str(form.parse.tag), form.normal, grams)
        found = self._inflections.get(key)
        if found is MISSING:
            oc = frozenset(UD_OC_FEATS[gram] for gram in grams)
            parse = self._dictionary_inflect(form.parse, oc)
            if parse is False:
                parse = form.parse.inflect(oc)
            found = self._inflections.put(key, Form(parse) if parse else None)
        return found

    def _dictionary_inflect(self, parse, required: frozenset):
        """pymorphy3's ``Parse.inflect`` for a dictionary word, over its paradigm's tags kept
        from call to call instead of a lexeme of new parses each time; False for other words."""
        stack = parse.methods_stack
        unit = stack[0][0]
        if not self._in_dictionary(parse):
            return False
        _, word, para_id, index = stack[0]
        choice = (para_id, index, required)
        best = self._choices.get(choice)
        if best is MISSING:
            best = self._choices.put(choice, self._paradigm_choice(
                self._paradigm(unit, para_id), parse.tag, required))
        if best < 0:
            return None
        paradigm = unit.dict.paradigms[para_id]
        # A paradigm is (suffixes, tags, prefixes), a third each; pymorphy3 builds its forms so.
        size = len(paradigm) // 3
        suffix, prefix = unit.dict.suffixes[paradigm[best]], unit.dict.paradigm_prefixes[paradigm[size * 2 + best]]
        tag = unit.dict.gramtab[paradigm[size + best]]
        stem = unit.dict.build_stem(paradigm, index, word)
        new = prefix + stem + suffix
        return type(parse)(new, tag, parse.normal_form, 1.0, unit._fix_stack(stack, new, para_id, best))

    def _in_dictionary(self, parse) -> bool:
        """A dictionary word's parse (not a guess): its paradigm is known."""
        stack = parse.methods_stack
        return len(stack) == 1 and stack[0][0] is self.analyzer._units[0][0]

    def _paradigm(self, unit, para_id: int) -> list:
        """``(prefix, tag, suffix)`` of each form of a paradigm; remembered."""
        found = self._paradigms.get(para_id)
        if found is MISSING:
            found = self._paradigms.put(para_id, unit.dict.build_paradigm_info(para_id))
        return found

    def lexeme(self, form: Form) -> Iterable:
        """The parses of ``form``'s lexeme; lazily for a dictionary word (most are never
        looked at, and pymorphy3 builds them all)."""
        parse = form.parse
        if not self._in_dictionary(parse):
            yield from parse.lexeme
            return
        stack = parse.methods_stack
        unit, word, para_id, index = stack[0]
        stem = unit.dict.build_stem(unit.dict.paradigms[para_id], index, word)
        for number, (prefix, tag, suffix) in enumerate(self._paradigm(unit, para_id)):
            new = prefix + stem + suffix
            yield type(parse)(new, tag, parse.normal_form, 1.0,
                              unit._fix_stack(stack, new, para_id, number))

    def _paradigm_choice(self, paradigm: list, source, required: frozenset) -> int:
        """Index of the form of ``paradigm`` that pymorphy3's ``_inflect`` picks, or -1."""
        found = [i for i, (_, tag, _) in enumerate(paradigm) if required <= tag.grammemes]
        if not found:
            required = self.analyzer.TagClass.fix_rare_cases(required)
            found = [i for i, (_, tag, _) in enumerate(paradigm) if required <= tag.grammemes]
        if not found:
            return -1
        grammemes = source.updated_grammemes(required)

        def similarity(i: int) -> float:
            tag = paradigm[i][1]
            return len(grammemes & tag.grammemes) - 0.1 * len(grammemes ^ tag.grammemes)

        return max(found, key=similarity)  # the first best, as heapq.nlargest(1) picks

    def __getstate__(self):
        return {'analyzer': self.analyzer}

    def __setstate__(self, state):
        self.__init__(state['analyzer'])


def tag_morph(docs: list[Doc], tagger, vocab: Vocab) -> None:
    """Contextual POS and feats from natasha's morph tagger; lemmas from pymorphy3.

    ``tagger``: a ``neural.MorphTagger``; all sentences of all ``docs`` go through it at once.
    """
    sents = [(doc, sent) for doc in docs for sent in doc.sentences]
    words = [[doc.tokens[i].text for i in sent.tokens] for doc, sent in sents]
    for (doc, sent), tags in zip(sents, tagger(words)):
        for index, (pos, feats) in zip(sent.tokens, tags):
            token = doc.tokens[index]
            token.pos, token.feats = pos, dict(feats)
            if pos in LEMMATIZED:
                token.lemma = vocab.lemmatize(token.text, pos, token.feats)


def in_dictionary(parse: pymorphy3.analyzer.Parse) -> bool:
    """A parse from pymorphy3's dictionary, not one of its guesses for an unknown word."""
    return type(parse.methods_stack[0][0]).__name__ == 'DictionaryAnalyzer'
