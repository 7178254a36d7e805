"""Capitals for tags learned in lower case (a profile's house tags come from gold keys)."""
from __future__ import annotations

from .morph import Vocab
from .readings import PROPER_GRAMS
from .shape import is_cyrillic


VOWELS = frozenset('аеёиоуыэюяaeiouy')


def proper_case(text: str, vocab: Vocab) -> str:
    """Capitals for the names and abbreviations of a tag learned in lower case: ``в россии``
    -> ``в России``, ``фк спартак`` -> ``ФК Спартак``, ``сша`` -> ``США``; the first word of
    the tag keeps its capital. By each word's likeliest pymorphy3 parse; a short word without a
    vowel that the dictionary does not know is an abbreviation."""
    words = text.split(' ')
    for index, word in enumerate(words):
        forms = vocab(word.lower()) if is_cyrillic(word) else []
        grams = forms[0].grams if forms else frozenset()
        if 'Abbr' in grams or (len(word) <= 4 and not VOWELS & set(word.lower())
                               and forms and 'UNKN' in grams):
            words[index] = word.upper()
        elif grams & PROPER_GRAMS:
            words[index] = word[:1].upper() + word[1:]
    return ' '.join(words)
