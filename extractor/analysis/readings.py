"""The readings of a written word: its nominative, case, gender, number and how sure we are.

From pymorphy3's parses and, for capitalised words the dictionary does not know as names, from
surname and foreign-name endings (``Хюлькенбергу`` -> ``Хюлькенберг``, dative, masculine).
``normalize`` picks one reading per word by the tagger's case and gender and the other words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..cache import MISSING, Memo
from .morph import Form, Vocab, in_dictionary


OC_CASE = {'nomn': 'Nom', 'gent': 'Gen', 'gen2': 'Gen', 'datv': 'Dat', 'accs': 'Acc',
           'ablt': 'Ins', 'loct': 'Loc', 'loc2': 'Loc'}
OC_GENDER = {'masc': 'Masc', 'femn': 'Fem', 'neut': 'Neut'}
PROPER_GRAMS = frozenset({'Name', 'Surn', 'Patr', 'Geox', 'Orgn'})
NAME_ONLY = frozenset({'Name', 'Surn', 'Patr'})
NOM = frozenset({'Nom'})

# What a reading is worth, by where it comes from: pymorphy3's dictionary is sure of its
# parses, its guesses for unknown words inflect names badly, and the ending tables below guess.
DICTIONARY = 1.0  # a dictionary parse
DICTIONARY_NAME = 1.5  # a dictionary parse as a name, of a capitalised word
GUESSED = 0.3  # pymorphy3's guess for an unknown lower-case word
GUESSED_NAME = 0.05  # and for an unknown capitalised word
POSSESSIVE = 0.2  # a possessive adjective (``Путина`` as Путин's): rarely what a name means
AS_WRITTEN = 0.05  # a lower-case word taken as it is written (an indeclinable word)
SURNAME = 0.9  # a surname in -ов/-ин or -ский declined by its ending
SLAVIC_SURNAME = 0.5  # one in -ич/-ук
OWN_FORM = 0.1  # a capitalised word unknown to the dictionary, as it is written
OWN_FORM_DECLINED = 0.05  # ... where the dictionary reads it as a case form of another word
OWN_FORM_INSTRUMENTAL = 0.02  # ... ending like an instrumental (``Дастином``, ``Неттой``)
OWN_FORM_CONSONANT = 0.15  # ... ending in a consonant: a masculine nominative at least this


@dataclass(frozen=True, slots=True)
class Reading:
    """One way to read a written word: its nominative and what the written form is."""
    normal: str  # lower case, ё as the dictionary writes it
    case: str  # '' fits any case (an indeclinable word)
    gender: str  # '' fits any gender
    number: str
    pos: str  # 'NOUN' or 'ADJ'
    weight: float
    form: Optional[Form] = field(default=None, compare=False, hash=False)
    name: bool = False  # a first name, surname or patronymic in the dictionary


# Declension by the written ending, for names the dictionary does not know:
# (ending of the written form, its case, gender, ending of the nominative, weight).
SURNAME_ENDINGS = [
    ('', 'Nom', 'Masc', ''), ('а', 'Gen', 'Masc', ''), ('а', 'Acc', 'Masc', ''),
    ('у', 'Dat', 'Masc', ''), ('ым', 'Ins', 'Masc', ''), ('е', 'Loc', 'Masc', ''),
    ('а', 'Nom', 'Fem', 'а'), ('ой', 'Gen', 'Fem', 'а'), ('ой', 'Dat', 'Fem', 'а'),
    ('у', 'Acc', 'Fem', 'а'), ('ой', 'Ins', 'Fem', 'а'), ('ой', 'Loc', 'Fem', 'а'),
]
SURNAME_STEM = re.compile(r'(ов|ев|ёв|ин|ын)$')
SLAVIC_ENDINGS = [
    ('', 'Nom', 'Masc', ''), ('а', 'Gen', 'Masc', ''), ('а', 'Acc', 'Masc', ''),
    ('у', 'Dat', 'Masc', ''), ('ем', 'Ins', 'Masc', ''), ('е', 'Loc', 'Masc', ''),
]
SLAVIC_STEM = re.compile(r'(ич|ук|юк|чак|щак)$')  # Кондрусевич, Ковальчук
INS_ENDING = re.compile(r'(ом|ем|ой|ей|ым|им)$')
ADJ_SURNAME_ENDINGS = [
    ('ий', 'Nom', 'Masc', 'ий'), ('ого', 'Gen', 'Masc', 'ий'), ('ого', 'Acc', 'Masc', 'ий'),
    ('ому', 'Dat', 'Masc', 'ий'), ('им', 'Ins', 'Masc', 'ий'), ('ом', 'Loc', 'Masc', 'ий'),
    ('ая', 'Nom', 'Fem', 'ая'), ('ой', 'Gen', 'Fem', 'ая'), ('ой', 'Dat', 'Fem', 'ая'),
    ('ую', 'Acc', 'Fem', 'ая'), ('ой', 'Ins', 'Fem', 'ая'), ('ой', 'Loc', 'Fem', 'ая'),
]
ADJ_SURNAME_STEM = re.compile(r'[сц]к$')
FOREIGN_ENDINGS = [  # weights: how often such an ending is a case ending, not the name's own;
    # stems in a consonant, in -а (Обамы, of either gender) and in -ий (Парубия)
    ('а', 'Gen', 'Masc', '', 0.15), ('а', 'Acc', 'Masc', '', 0.15), ('у', 'Dat', 'Masc', '', 0.12),
    ('ом', 'Ins', 'Masc', '', 0.2), ('ем', 'Ins', 'Masc', '', 0.2), ('е', 'Loc', 'Masc', '', 0.09),
    ('ы', 'Gen', '', 'а', 0.15), ('и', 'Gen', '', 'а', 0.08), ('е', 'Dat', '', 'а', 0.09),
    ('у', 'Acc', '', 'а', 0.12), ('ой', 'Ins', '', 'а', 0.2), ('е', 'Loc', '', 'а', 0.09),
    ('ия', 'Gen', 'Masc', 'ий', 0.15), ('ию', 'Dat', 'Masc', 'ий', 0.12), ('ием', 'Ins', 'Masc', 'ий', 0.2),
]
SOFT_ENDINGS = [  # stems in -ь, -ия, -ье, -ай, -ая: Генцеля, Амазонии, Приангарья, Ахалаей
    ('я', 'Gen', 'Masc', 'ь', 0.15), ('ю', 'Dat', 'Masc', 'ь', 0.12), ('ем', 'Ins', 'Masc', 'ь', 0.2),
    ('е', 'Loc', 'Masc', 'ь', 0.09), ('ии', 'Gen', 'Fem', 'ия', 0.15), ('ии', 'Dat', 'Fem', 'ия', 0.15),
    ('ию', 'Acc', 'Fem', 'ия', 0.15), ('ией', 'Ins', 'Fem', 'ия', 0.2), ('ии', 'Loc', 'Fem', 'ия', 0.15),
    ('ья', 'Gen', 'Neut', 'ье', 0.15), ('ью', 'Dat', 'Neut', 'ье', 0.12), ('ьем', 'Ins', 'Neut', 'ье', 0.2),
    ('ая', 'Gen', 'Masc', 'ай', 0.15), ('аю', 'Dat', 'Masc', 'ай', 0.12), ('аем', 'Ins', 'Masc', 'ай', 0.2),
    ('ая', 'Nom', '', 'ая', 0.15), ('аи', 'Gen', '', 'ая', 0.15), ('аей', 'Ins', '', 'ая', 0.2),
]
CONSONANT_END = re.compile(r'[бвгджзклмнпрстфхцчшщ]$')
SOFT_STEM = re.compile(r'[лнртдсзмв]$')
ADJ_ENDING = re.compile(r'(ая|яя|ое|ее|ые|ие|ый|ий|ой|ого|его|ому|ему|ым|им|ом|ем|ую|юю|ых|их|ыми|ими|ей)$')
# (word, capital) -> its readings: they depend on the word and the one pymorphy3 dictionary
_READINGS = Memo()


def readings(vocab: Vocab, word: str, capital: bool) -> tuple[Reading, ...]:
    """All readings of ``word`` (lower case); name guesses too when it is ``capital``."""
    key = (word, capital)
    found = _READINGS.get(key)
    if found is not MISSING:
        return found
    result: list[Reading] = []
    for form in vocab(word):
        reading = parse_reading(form, word, capital, vocab)
        if reading is not None:
            result.append(reading)
    if capital:
        declined = any(r.weight >= 1 and r.normal != word for r in result)
        result.extend(guesses(word, declined))
    else:
        result.append(Reading(word, '', '', 'Sing', 'NOUN', AS_WRITTEN))
    return _READINGS.put(key, tuple(result))


def parse_reading(form: Form, word: str, capital: bool, vocab: Vocab) -> Optional[Reading]:
    """The reading of one pymorphy3 parse of ``word``: a noun, adjective, participle or
    numeral in some case; None for other parts of speech."""
    tag = form.parse.tag
    case = OC_CASE.get(tag.case)
    if tag.POS not in ('NOUN', 'ADJF', 'PRTF', 'NUMR') or case is None:
        return None
    fixed = 'Fixd' in tag
    pos = 'NOUN' if tag.POS == 'NOUN' else 'ADJ'
    if fixed:
        normal = form.word
    elif case == 'Nom':
        normal = form.word  # already the nominative: no inflection needed
    else:
        nominative = vocab.inflect(form, NOM)
        if nominative is None:
            return None
        normal = nominative.word
        if pos == 'ADJ' and not same_stem(normal, word):  # высшей: not высочайшая
            nominative = lexeme_form(form, word, {'nomn', tag.gender or 'plur'}, vocab)
            if nominative is None:
                return None
            normal = nominative.word
    if in_dictionary(form.parse):
        weight = DICTIONARY_NAME if capital and tag.grammemes & PROPER_GRAMS else DICTIONARY
    else:
        weight = GUESSED_NAME if capital else GUESSED
    if 'Poss' in tag:
        weight = POSSESSIVE
    return Reading(normal, '' if fixed else case, OC_GENDER.get(tag.gender, ''),
                   'Plur' if tag.number == 'plur' else 'Sing', pos, weight, form,
                   in_dictionary(form.parse) and bool(tag.grammemes & NAME_ONLY))


def lexeme_form(form: Form, word: str, grams: set, vocab: Vocab) -> Optional[Form]:
    """The form of ``form``'s lexeme with ``grams`` (OpenCorpora) that keeps the stem of ``word``."""
    grams = {g for g in grams if g}
    for parse in vocab.lexeme(form):
        if grams <= parse.tag.grammemes and same_stem(parse.word, word):
            return Form(parse)
    return None


def same_stem(normal: str, word: str) -> bool:
    """``normal`` keeps the stem of ``word`` (an adjective's ending aside)."""
    stem = ADJ_ENDING.sub('', word.replace('ё', 'е'))
    return normal.replace('ё', 'е').startswith(stem)


def guesses(word: str, declined: bool) -> Iterable[Reading]:
    """Readings of a capitalised word from its ending: surnames in -ов/-ин and -ский,
    foreign names, and the word itself as indeclinable (a feminine name ending in a
    consonant, or a word ending in a vowel: ``Марго Симонян``, ``Месси``); ``declined``: the
    dictionary reads the word as a case form of another."""
    for table, pattern, pos, weight in ((SURNAME_ENDINGS, SURNAME_STEM, 'NOUN', SURNAME),
                                        (ADJ_SURNAME_ENDINGS, ADJ_SURNAME_STEM, 'ADJ', SURNAME),
                                        (SLAVIC_ENDINGS, SLAVIC_STEM, 'NOUN', SLAVIC_SURNAME)):
        for ending, case, gender, nominative in table:
            stem = word[:len(word) - len(ending)] if ending else word
            if word.endswith(ending) and pattern.search(stem) and len(stem) > 3:
                yield Reading(stem + nominative, case, gender, 'Sing', pos, weight)
    if SURNAME_STEM.search(word[:-1]) or ADJ_ENDING.search(word) and ADJ_SURNAME_STEM.search(ADJ_ENDING.sub('', word)):
        return
    for table, stem_end in ((FOREIGN_ENDINGS, CONSONANT_END), (SOFT_ENDINGS, SOFT_STEM)):
        for ending, case, gender, nominative, weight in table:
            stem = word[:-len(ending)]
            if word.endswith(ending) and len(stem) > 1 and stem_end.search(stem):
                yield Reading(stem + nominative, case, gender, 'Sing', 'NOUN', weight)
    consonant = re.search('[бвгджзклмнпрстфхцчшщйь]$', word)
    own = OWN_FORM_DECLINED if declined else OWN_FORM
    if INS_ENDING.search(word):
        own = OWN_FORM_INSTRUMENTAL
    if consonant:
        yield Reading(word, 'Nom', 'Masc', 'Sing', 'NOUN', max(own, OWN_FORM_CONSONANT))
        yield Reading(word, '', 'Fem', 'Sing', 'NOUN', own)
    else:
        yield Reading(word, '', '', 'Sing', 'NOUN', own)


def fits(reading: Reading, case: Optional[str], gender: Optional[str] = None,
         number: Optional[str] = None) -> bool:
    """The reading can be in ``case``, ``gender`` and ``number`` (None: any)."""
    return ((not case or not reading.case or reading.case == case)
            and (not gender or not reading.gender or reading.gender == gender)
            and (not number or reading.number == number))


def known(vocab: Vocab, word: str) -> bool:
    """The dictionary knows ``word`` (not just guesses it)."""
    return any(in_dictionary(f.parse) for f in vocab(word.lower()))
