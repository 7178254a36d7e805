"""The one place for nominative forms: agreement, number, shape (capitals, ё).

A phrase is put into the nominative by inflecting its head noun and the words that agree
with it before the head; everything after the head (a genitive tail, a prepositional
phrase, an apposition) stays as written: ``Департамента внешнеэкономических связей Москвы``
-> ``Департамент внешнеэкономических связей Москвы``. Person names inflect every name word.
"""
from __future__ import annotations

from typing import Optional, Sequence

from natasha.shape import recover_shape

from .doc import Token
from .morph import Form, Vocab

NOUNS = ('NOUN', 'PROPN')
AGREEING = ('ADJ', 'DET', 'NUM', 'VERB')  # VERB: participles (``объединённых``)
NAME_POS = ('NOUN', 'PROPN', 'ADJ')
NOM = frozenset({'Nom'})
QUOTES = '«»"„“”\''


def head_index(tokens: Sequence[Token]) -> Optional[int]:
    """Index of the first noun: the head of a Russian noun phrase."""
    for index, token in enumerate(tokens):
        if token.pos in NOUNS:
            return index
    return None


def targets(tokens: Sequence[Token], kind: str) -> list[int]:
    """Indices of the tokens that must change case."""
    if kind == 'PER':
        return [i for i, t in enumerate(tokens) if t.pos in NAME_POS]
    head = head_index(tokens)
    if head is None:
        return [i for i, t in enumerate(tokens) if t.pos in NAME_POS][:1]
    case = tokens[head].feats.get('Case')
    chosen = [
        i for i, t in enumerate(tokens[:head])
        if t.pos in AGREEING and t.feats.get('Case') == case
    ]
    return chosen + [head]


def inflect_token(token: Token, vocab: Vocab) -> str:
    """The nominative of one token, shaped like the original (capitals kept)."""
    text = token.text
    case = token.feats.get('Case')
    if case is None:
        return text
    if case == 'Nom':
        form = misread_nominative(token, vocab)
        if form is None:
            return text
    else:
        form = vocab.best(text, token.pos, token.feats)
    if form is None or is_fixed(form):
        return text
    nominative: Optional[Form] = vocab.inflect(form, NOM)
    if nominative is None:
        return text
    return recover_shape(nominative.word, text)


def misread_nominative(token: Token, vocab: Vocab) -> Optional[Form]:
    """A noun the tagger calls nominative that has no nominative reading (``Лусакой``)."""
    if token.pos not in NOUNS:
        return None
    forms = [f for f in vocab.parse(token.text) if f.pos == 'NOUN']
    if not forms or any(f.feats.get('Case') == 'Nom' for f in forms):
        return None
    return forms[0]


def is_fixed(form: Form) -> bool:
    return 'Fixd' in form.grams


def join(words: Sequence[str], tokens: Sequence[Token]) -> str:
    """Words joined with the spacing the tokens had in the text."""
    parts: list[str] = []
    for index, (word, token) in enumerate(zip(words, tokens)):
        if index:
            parts.append(' ' if token.start > tokens[index - 1].stop else '')
        parts.append(word)
    return ''.join(parts)


def normalize_tokens(tokens: Sequence[Token], vocab: Vocab, kind: str = 'ORG') -> str:
    """Nominative normal form of the phrase made of ``tokens`` (PER, LOC, ORG or PHRASE)."""
    if not tokens:
        return ''
    words = [t.text for t in tokens]
    for index in targets(tokens, kind):
        words[index] = inflect_token(tokens[index], vocab)
    return join(words, tokens)


def lemma_form(token: Token) -> str:
    """A single word's dictionary form, shaped like the original."""
    return recover_shape(token.lemma or token.text.lower(), token.text)
