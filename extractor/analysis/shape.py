"""How words are written: capitals, scripts, abbreviations, spacing, edges of a name.

What the normal forms keep of the text as it was written: ``shaped`` gives a dictionary word
the capitals of the original, ``join`` the spaces the tokens had, ``tidy`` cleans the edges.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

from natasha.shape import recover_shape

from ..doc import Token


CYRILLIC = re.compile('[а-яёА-ЯЁ]')
LATIN = re.compile('[a-zA-Z]')
CASE_ENDINGS = frozenset('а у е ом ем ой ей ы и ю я ого ому ым'.split())
ABBR = re.compile(r'^(?P<stem>.*[A-ZА-ЯЁ]{2})(?P<end>[а-яё]{1,3})$')
BANNED = re.compile(r'(?<=[А-Яа-яЁё»])\*')
LOWER_WORD = re.compile('[а-яёa-z]+')


def shaped(word: str, like: str) -> str:
    """``word`` with the capitals of ``like``; hyphenated parts shaped one by one."""
    result = recover_shape(word, like)
    if result == word and '-' in like and word.count('-') == like.count('-'):
        result = '-'.join(recover_shape(w, l) for w, l in zip(word.split('-'), like.split('-')))
    return result


def abbreviation(text: str) -> Optional[str]:
    """An abbreviation as written, case ending dropped (``ИГИЛу`` -> ``ИГИЛ``); else None."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 2 and (all(c.isupper() for c in letters)
                              or letters[-1].isupper() and sum(c.isupper() for c in letters) >= 2):
        return text  # ВЦИОМ, УрФУ
    match = ABBR.match(text)
    if match and match['end'] in CASE_ENDINGS:
        return match['stem']
    return None


def is_capital(text: str) -> bool:
    return text[:1].isupper()


def is_word(token: Token) -> bool:
    return any(c.isalpha() for c in token.text)


def is_cyrillic(text: str) -> bool:
    return bool(CYRILLIC.search(text)) and not LATIN.search(text)


def join(words: Sequence[str], tokens: Sequence[Token]) -> str:
    """Words joined with the spacing the tokens had in the text."""
    parts: list[str] = []
    for index, (word, token) in enumerate(zip(words, tokens)):
        if index:
            parts.append(' ' if token.start > tokens[index - 1].stop else '')
        parts.append(word)
    return ''.join(parts)


def tidy(text: str) -> str:
    """No banned-organisation asterisks, no unpaired quote on the edges."""
    text = BANNED.sub('', text)
    if text.startswith('«') and text.count('«') > text.count('»'):
        text = text[1:]
    if text.endswith('»') and text.count('»') > text.count('«'):
        text = text[:-1]
    if text.count('"') % 2:
        text = text.strip('"')
    return text.strip()


def lemma_form(token: Token) -> str:
    """A single word's dictionary form, shaped like the original."""
    lemma = token.lemma or token.text.lower()
    if LOWER_WORD.fullmatch(token.text) and LOWER_WORD.fullmatch(lemma):
        return lemma  # what recover_shape gives a lower-case word, without its parsing
    return recover_shape(lemma, token.text)
