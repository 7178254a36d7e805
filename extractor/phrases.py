"""Noun-phrase and topic-noun candidates from the morph tags.

A chunk is ``ADJ* NOUN`` (adjectives agreeing in case with the noun, quotes allowed
between them: ``«умных» городов``) with up to two genitive groups after it
(``развития местного самоуправления``). Each chunk yields its core phrase, the phrase
with its tail, and the head noun alone as a topic.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Sequence

from .doc import Doc, Phrase, Token
from .normalize import lemma_form, normalize_tokens
from .morph import Vocab

QUOTE_TEXTS = set('«»"„“”')
MAX_TAIL = 2
MAX_QUOTED = 6


def is_adj(token: Token) -> bool:
    return token.pos == 'ADJ' or (token.pos == 'VERB' and token.feats.get('VerbForm') == 'Part')


def is_noun(token: Token) -> bool:
    return token.pos in ('NOUN', 'PROPN') and any(c.isalpha() for c in token.text) and len(token.text) > 2


def extract_phrases(doc: Doc, vocab: Vocab) -> None:
    """Fill ``doc.phrases`` with PHRASE and TOPIC mentions outside the entities."""
    taken = set()
    for entity in doc.entities:
        taken.update(range(entity.start, entity.stop))
    doc.phrases = []
    for sent in doc.sentences:
        tokens = [doc.tokens[i] for i in sent.tokens]
        free = [t.start not in taken and t.stop - 1 not in taken for t in tokens]
        for kind, span in chunks(tokens, free):
            doc.phrases.append(make_phrase(doc, kind, span, vocab, sentence_start=tokens[0].start))
        doc.phrases.extend(quoted_names(doc, tokens, vocab))


def quoted_names(doc: Doc, tokens: Sequence[Token], vocab: Vocab) -> Iterator[Phrase]:
    """Names in «quotes» (``«Экономика возможностей»``, ``«Яблоку»`` -> ``Яблоко``)."""
    opened = None
    for index, token in enumerate(tokens):
        if token.text == '«':
            opened = index
        elif token.text == '»' and opened is not None:
            inside = tokens[opened + 1:index]
            if 0 < len(inside) <= MAX_QUOTED and any(is_noun(t) for t in inside):
                start, stop = inside[0].start, inside[-1].stop
                normal = normalize_tokens(inside, vocab, 'PHRASE')
                yield Phrase(start, stop, 'PHRASE', doc.text[start:stop], normal[:1].upper() + normal[1:])
            opened = None


def chunks(tokens: Sequence[Token], free: Sequence[bool]) -> Iterator[tuple[str, list[Token]]]:
    index, count = 0, len(tokens)
    while index < count:
        core = group(tokens, free, index)
        if core is None:
            index += 1
            continue
        stop, words = core
        head = words[-1]
        yield 'TOPIC', [head]
        if len(words) > 1:
            yield 'PHRASE', words
        tail = list(words)
        for _ in range(MAX_TAIL):
            nxt = group(tokens, free, stop)
            if nxt is None or nxt[1][-1].feats.get('Case') != 'Gen':
                break
            stop, more = nxt
            tail += more
            yield 'PHRASE', tail
        index = core[0]


def group(tokens: Sequence[Token], free: Sequence[bool], index: int):
    """``ADJ* NOUN`` starting at ``index``: (index after it, its tokens without quotes)."""
    words: list[Token] = []
    position = index
    while position < len(tokens) and free[position]:
        token = tokens[position]
        if token.text in QUOTE_TEXTS:
            position += 1
            continue
        if is_adj(token):
            words.append(token)
            position += 1
            continue
        if is_noun(token):
            case = token.feats.get('Case')
            agreeing = [w for w in words if w.feats.get('Case') == case]
            if len(agreeing) != len(words):
                return None
            return position + 1, words + [token]
        return None
    return None


def make_phrase(doc: Doc, kind: str, tokens: list[Token], vocab: Vocab, sentence_start: int) -> Phrase:
    start, stop = tokens[0].start, tokens[-1].stop
    shaped = [common_case(t, sentence_start) for t in tokens]
    lemma = ''
    if kind == 'TOPIC':
        lemma = lemma_form(shaped[0])
        plural = shaped[0].feats.get('Number') == 'Plur'
        # Editors tag some topics in the plural (``санкции``, ``выборы``): keep the text's number.
        normal = normalize_tokens(shaped, vocab, 'PHRASE') if plural else lemma
    else:
        normal = normalize_tokens(shaped, vocab, 'PHRASE')
    return Phrase(start, stop, kind, doc.text[start:stop], normal, lemma)


def common_case(token: Token, sentence_start: int) -> Token:
    """Lower-case a word capitalised only because it opens the sentence."""
    if token.start == sentence_start and token.pos != 'PROPN' and not token.text.isupper():
        return replace(token, text=token.text.lower())
    return token
