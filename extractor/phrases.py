"""Noun-phrase and topic-noun candidates from the morph tags.

A chunk is ``ADJ* NOUN`` (adjectives agreeing in case with the noun, quotes allowed
between them: ``«умных» городов``) with up to two genitive groups after it
(``развития местного самоуправления``). Each chunk yields its core phrase, the phrase
with its tail, and the head noun alone as a topic.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator, Optional, Sequence

from .doc import Doc, Phrase, Token
from .normalize import is_cyrillic, join, lemma_form, normalize_tokens, tidy, yo
from .morph import MISSING, Vocab, feats_text, recall, trim

QUOTE_TEXTS = set('«»"„“”')
SENTENCE_ENDS = frozenset('. ! ? ; … ...'.split())
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
        previous: Optional[Phrase] = None
        for kind, span in chunks(tokens, free):
            phrase = make_phrase(doc, kind, span, vocab, tokens[0].start, previous)
            doc.phrases.append(phrase)
            previous = phrase if kind == 'PHRASE' else None
    doc.phrases.extend(quoted_names(doc, doc.tokens, vocab))


def quoted_names(doc: Doc, tokens: Sequence[Token], vocab: Vocab) -> Iterator[Phrase]:
    """Names in «quotes» (``«Экономика возможностей»``, ``«Яблоку»`` -> ``Яблоко``); a quote
    of several sentences (``«Сотрудничество. Экономика возможностей»``) names each."""
    opened = None
    for index, token in enumerate(tokens):
        if token.text == '«':
            opened = index
        elif token.text == '»' and opened is not None:
            part: list[Token] = []
            for inner in tokens[opened + 1:index] + [token]:
                if inner.text not in SENTENCE_ENDS and inner is not token:
                    part.append(inner)
                    continue
                if 0 < len(part) <= MAX_QUOTED and any(is_noun(t) for t in part):
                    start, stop = part[0].start, part[-1].stop
                    normal = normalize_tokens(part, vocab, 'PHRASE')
                    yield Phrase(start, stop, 'PHRASE', doc.text[start:stop],
                                 normal[:1].upper() + normal[1:])
                part = []
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
            yield 'PHRASE', list(tail)
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


def make_phrase(doc: Doc, kind: str, tokens: list[Token], vocab: Vocab, sentence_start: int,
                previous: Optional[Phrase] = None) -> Phrase:
    """``previous``: the phrase just made from the same chunk, which ``tokens`` may extend."""
    start, stop = tokens[0].start, tokens[-1].stop
    shaped = [common_case(t, sentence_start) for t in tokens]
    lemma = ''
    if kind == 'TOPIC':
        lemma = lemma_form(shaped[0])
        plural = shaped[0].feats.get('Number') == 'Plur'
        # Editors tag some topics in the plural (``санкции``, ``выборы``): keep the text's number.
        normal = phrase_normal(shaped, vocab) if plural else lemma
    else:
        normal = extended(previous, shaped, vocab) or phrase_normal(shaped, vocab)
    return Phrase(start, stop, kind, doc.text[start:stop], normal, lemma)


def extended(previous: Optional[Phrase], tokens: list[Token], vocab: Vocab) -> Optional[str]:
    """The normal form of ``previous`` + a genitive tail (``различные аспекты`` + ``развития``):
    the tail stays as written. None when the tail could change how the head reads: a name, a
    number, a quote or a capital after it (``городах Подгорица``), or capitals in the phrase."""
    if previous is None or previous.stop >= tokens[-1].stop or tokens[0].start != previous.start:
        return None
    cut = next((i for i, t in enumerate(tokens) if t.start >= previous.stop), None)
    if not cut or not all(t.text[:1].islower() and is_cyrillic(t.text) for t in tokens):
        return None
    tail = tokens[cut:]
    words = join([yo(t.text, t, vocab) for t in tail], tail)
    return tidy(previous.normal + (' ' if tail[0].start > tokens[cut - 1].stop else '') + words)


_NORMALS: dict[str, str] = {}


def phrase_normal(tokens: list[Token], vocab: Vocab) -> str:
    """``normalize_tokens(tokens, vocab, 'PHRASE')``, remembered: without a document's context
    it depends only on the words, their tags and the spaces between them, and phrases recur."""
    key = '\n'.join(f'{t.text}\t{t.pos}\t{feats_text(t.feats)}\t{i > 0 and t.start > tokens[i - 1].stop:d}'
                    for i, t in enumerate(tokens))
    normal = recall(_NORMALS, key)
    if normal is MISSING:
        trim(_NORMALS)
        normal = _NORMALS[key] = normalize_tokens(tokens, vocab, 'PHRASE')
    return normal


def common_case(token: Token, sentence_start: int) -> Token:
    """Lower-case a word capitalised only because it opens the sentence."""
    if token.start == sentence_start and token.pos != 'PROPN' and not token.text.isupper():
        return replace(token, text=token.text.lower())
    return token
