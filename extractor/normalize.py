"""The one place for nominative forms: agreement, number, shape (capitals, ё).

A phrase is put into the nominative by inflecting its head noun and the words that agree
with it before the head; everything after the head (a genitive tail, a prepositional
phrase, an apposition) stays as written: ``Департамента внешнеэкономических связей Москвы``
-> ``Департамент внешнеэкономических связей Москвы``. A place name in apposition to a
settlement word agrees with it (``города Москвы`` -> ``город Москва``). Person names
inflect every name word, all in one case and one gender (``Елену Малышеву``).

Each word gets its readings (nominative, case, gender, weight) from pymorphy3's parses and,
for capitalised words the dictionary does not know as names, from surname and foreign-name
endings; the tagger's case and gender and the other words of the name pick one.
"""
from __future__ import annotations

import re
from os.path import commonprefix
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

from natasha.shape import recover_shape

from .doc import Doc, Token
from .morph import MISSING, Form, Vocab, feats_text, recall, tag_morph, trim
from .ner import span_tokens, tag_ner
from .segment import segment

NOUNS = ('NOUN', 'PROPN')
AGREEING = ('ADJ', 'DET', 'NUM', 'VERB')  # VERB: participles (``объединённых``)
NAME_POS = ('NOUN', 'PROPN', 'ADJ')
CASES = ('Nom', 'Gen', 'Dat', 'Acc', 'Ins', 'Loc')
OC_CASE = {'nomn': 'Nom', 'gent': 'Gen', 'gen2': 'Gen', 'datv': 'Dat', 'accs': 'Acc',
           'ablt': 'Ins', 'loct': 'Loc', 'loc2': 'Loc'}
OC_GENDER = {'masc': 'Masc', 'femn': 'Fem', 'neut': 'Neut'}
UD_OC = {'Masc': 'masc', 'Fem': 'femn', 'Neut': 'neut', 'Sing': 'sing', 'Plur': 'plur', 'Nom': 'nomn'}
NAME_GRAMS = frozenset({'Name', 'Surn', 'Patr', 'Geox', 'Orgn'})
# Words whose proper-name apposition agrees with them: ``в городе Москве`` -> ``город Москва``.
SETTLEMENTS = frozenset(
    'город село деревня посёлок поселок станица хутор аул река озеро остров полуостров '
    'гора станция штат провинция округ республика область край район'.split())
STREETS = frozenset('улица проспект площадь шоссе переулок бульвар набережная проезд тупик'.split())
OPENING = '«„"'
CASE_ENDINGS = frozenset('а у е ом ем ой ей ы и ю я ого ому ым'.split())
ABBR = re.compile(r'^(?P<stem>.*[A-ZА-ЯЁ]{2})(?P<end>[а-яё]{1,3})$')
BANNED = re.compile(r'(?<=[А-Яа-яЁё»])\*')
CYRILLIC = re.compile('[а-яёА-ЯЁ]')
LATIN = re.compile('[a-zA-Z]')
NOM = frozenset({'Nom'})
ORDINAL = re.compile(r'^(\d+)-[а-я]{1,3}$')
ORDINAL_ENDINGS = {'Masc': r'\1-й', 'Fem': r'\1-я', 'Neut': r'\1-е', 'Plur': r'\1-е'}


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


@dataclass
class Context:
    """What the document around a span tells: its nominative words, where sentences open."""
    lexicon: dict = field(default_factory=dict)  # lower-case word -> times read as nominative
    starts: frozenset = frozenset()  # offsets of the first token of each sentence
    names: frozenset = frozenset()  # lower-case words of the full names of persons in the text

    @classmethod
    def of(cls, doc: Doc, vocab: Optional[Vocab] = None) -> 'Context':
        """The context of ``doc``; with ``vocab``, the words of its persons' full names too,
        so that a lone ``Малышева`` follows ``Елена Малышева`` elsewhere in the text."""
        lexicon: dict = {}
        for token in doc.tokens:
            if token.feats.get('Case') == 'Nom':
                word = token.text.lower()
                lexicon[word] = lexicon.get(word, 0) + 1
        starts = {doc.tokens[s.tokens[0]].start for s in doc.sentences if s.tokens}
        starts.update(t.start for t in doc.tokens if after_break(doc.text, t.start))
        context = cls(lexicon, frozenset(starts))
        if vocab is not None:
            names = set()
            for entity in doc.entities:
                tokens = span_tokens(doc, entity.start, entity.stop)
                if entity.type == 'PER' and len(name_words(tokens)) > 1:
                    names.update(w.lower() for w in normalize_name(tokens, vocab, context))
            context.names = frozenset(names)
        return context


def after_break(text: str, index: int) -> bool:
    """Nothing but spaces between the text's start or a line break and ``index``: a headline
    ends at its line break without a full stop."""
    index -= 1
    while index >= 0 and text[index] in ' \t':
        index -= 1
    return index < 0 or text[index] in '\n\r\u2028\u2029'


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
NAME_ONLY = frozenset({'Name', 'Surn', 'Patr'})
SURNAME_ADJ = re.compile(r'[сц]к(ий|ая|ой)$')


def _dictionary(parse) -> bool:
    return type(parse.methods_stack[0][0]).__name__ == 'DictionaryAnalyzer'


_READINGS: dict[tuple, tuple] = {}


def readings(vocab: Vocab, word: str, capital: bool) -> tuple[Reading, ...]:
    """All readings of ``word`` (lower case); name guesses too when it is ``capital``."""
    key = (word, capital)
    found = recall(_READINGS, key)
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
        result.append(Reading(word, '', '', 'Sing', 'NOUN', 0.05))
    trim(_READINGS)
    _READINGS[key] = found = tuple(result)
    return found


def parse_reading(form: Form, word: str, capital: bool, vocab: Vocab) -> Optional[Reading]:
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
    if _dictionary(form.parse):
        weight = 1.5 if capital and tag.grammemes & NAME_GRAMS else 1.0
    else:
        weight = 0.05 if capital else 0.3  # pymorphy's guesses inflect unknown names badly
    if 'Poss' in tag:
        weight = 0.2
    return Reading(normal, '' if fixed else case, OC_GENDER.get(tag.gender, ''),
                   'Plur' if tag.number == 'plur' else 'Sing', pos, weight, form,
                   _dictionary(form.parse) and bool(tag.grammemes & NAME_ONLY))


def lexeme_form(form: Form, word: str, grams: set, vocab: Vocab) -> Optional[Form]:
    """The form of ``form``'s lexeme with ``grams`` (OpenCorpora) that keeps the stem of ``word``."""
    grams = {g for g in grams if g}
    for parse in vocab.lexeme(form):
        if grams <= parse.tag.grammemes and same_stem(parse.word, word):
            return Form(parse)
    return None


def same_stem(normal: str, word: str) -> bool:
    stem = ADJ_ENDING.sub('', word.replace('ё', 'е'))
    return normal.replace('ё', 'е').startswith(stem)


def guesses(word: str, declined: bool) -> Iterable[Reading]:
    """Readings of a capitalised word from its ending: surnames in -ов/-ин and -ский,
    foreign names, and the word itself as indeclinable (a feminine name ending in a
    consonant, or a word ending in a vowel: ``Марго Симонян``, ``Месси``); ``declined``: the
    dictionary reads the word as a case form of another."""
    for table, pattern, pos, weight in ((SURNAME_ENDINGS, SURNAME_STEM, 'NOUN', 0.9),
                                        (ADJ_SURNAME_ENDINGS, ADJ_SURNAME_STEM, 'ADJ', 0.9),
                                        (SLAVIC_ENDINGS, SLAVIC_STEM, 'NOUN', 0.5)):
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
    own = 0.05 if declined else 0.1  # the dictionary reads it as a case form of another word
    if INS_ENDING.search(word):  # Дастином, Неттой: the ending is the case's
        own = 0.02
    if consonant:
        yield Reading(word, 'Nom', 'Masc', 'Sing', 'NOUN', max(own, 0.15))
        yield Reading(word, '', 'Fem', 'Sing', 'NOUN', own)
    else:
        yield Reading(word, '', '', 'Sing', 'NOUN', own)


def fits(reading: Reading, case: Optional[str], gender: Optional[str] = None,
         number: Optional[str] = None) -> bool:
    return ((not case or not reading.case or reading.case == case)
            and (not gender or not reading.gender or reading.gender == gender)
            and (not number or reading.number == number))


def attested(reading: Reading, context: Context, token: Token) -> float:
    """Bonus for a nominative the document writes elsewhere where the tagger reads one."""
    written = token.text.lower()
    if reading.normal in context.names:
        return 1.0
    count = context.lexicon.get(reading.normal, 0)
    if reading.normal == written and token.feats.get('Case') == 'Nom':
        count -= 1
    return 0.6 if count > 0 else 0.0


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


def known(vocab: Vocab, word: str) -> bool:
    return any(_dictionary(f.parse) for f in vocab(word.lower()))


_NOMINATIVES: dict[str, str] = {}


def nominative(token: Token, vocab: Vocab, context: Context, gender: Optional[str] = None,
               number: Optional[str] = None, case: Optional[str] = None) -> str:
    """The nominative of one token, shaped like the original (capitals kept).

    ``gender`` and ``number``: those of the head an adjective must agree with (or the number
    a head noun takes); ``case``: the case to read the token in, when not the tagger's.
    """
    return context_free(_NOMINATIVES, _nominative, token, vocab, context, gender, number, case)


def context_free(cache: dict, compute, token: Token, vocab: Vocab, context: Context,
                 gender: Optional[str], number: Optional[str], case: Optional[str]):
    """``compute(token, vocab, context, gender, number, case)``, remembered in ``cache`` when
    the document's words have no say (no lexicon, no names): then it depends on the token's
    text and tags alone."""
    if context.lexicon or context.names:
        return compute(token, vocab, context, gender, number, case)
    key = f'{token.text}\t{token.pos}\t{feats_text(token.feats)}\t{gender}\t{number}\t{case}'
    found = recall(cache, key)
    if found is MISSING:
        trim(cache)
        found = cache[key] = compute(token, vocab, context, gender, number, case)
    return found


def _nominative(token: Token, vocab: Vocab, context: Context, gender: Optional[str],
                number: Optional[str], case: Optional[str]) -> str:
    text = token.text
    if not is_word(token) or not is_cyrillic(text):
        return text
    abbr = abbreviation(text)
    if abbr is not None:
        return abbr
    if '-' in text and text[0].isalpha() and not known(vocab, text):
        return hyphenated(token, vocab, context, gender, number, case)
    reading = choose(token, vocab, context, gender, number, case)
    if reading is None:
        return yo(text, token, vocab)
    if gender or number:
        reading = inflected(reading, gender, number, vocab, text.lower())
    return shaped(reading.normal, text)


def hyphenated(token: Token, vocab: Vocab, context: Context, gender: Optional[str],
               number: Optional[str], case: Optional[str]) -> str:
    """A compound unknown as a whole: its last Cyrillic part inflects, and any part before it
    the dictionary reads in the same case (``Каменске-Уральском``, ``потока-2``)."""
    parts = token.text.split('-')
    words = [p for p in parts if is_cyrillic(p) and abbreviation(p) is None]
    if not words:
        return token.text
    last = max(i for i, p in enumerate(parts) if p in words)
    case = case or token.feats.get('Case')
    result = list(parts)
    for index, part in enumerate(parts):
        if part not in words or len(part) < 2:
            continue
        piece = Token(token.start, token.stop, part, '', token.pos, token.feats)
        if index != last and (len(part) < 4 or not any(
                r.case == case and r.number == 'Sing' and r.weight >= 1
                for r in readings(vocab, part.lower(), is_capital(part)))):
            continue
        result[index] = nominative(piece, vocab, context, gender, number, case)
    return '-'.join(result)


_CHOICES: dict[str, Optional[Reading]] = {}


def choose(token: Token, vocab: Vocab, context: Context, gender: Optional[str] = None,
           number: Optional[str] = None, case: Optional[str] = None) -> Optional[Reading]:
    """The reading of ``token`` that best fits the tagger and the wanted gender and number."""
    return context_free(_CHOICES, _choose, token, vocab, context, gender, number, case)


def _choose(token: Token, vocab: Vocab, context: Context, gender: Optional[str],
            number: Optional[str], case: Optional[str]) -> Optional[Reading]:
    case = case or token.feats.get('Case')
    if case is None:
        return None
    options = readings(vocab, token.text.lower(), is_capital(token.text))
    want_pos = 'ADJ' if token.pos in AGREEING else 'NOUN'
    if want_pos == 'ADJ':
        options = [r for r in options if r.pos == 'ADJ' and r.form is not None] or options
    number = number or token.feats.get('Number')
    gender = gender or token.feats.get('Gender')
    return max(options, key=lambda r: r.weight + attested(r, context, token) + fits(r, case)
               + 0.3 * fits(r, None, None, number) + 0.2 * fits(r, None, gender)
               + 0.2 * (r.pos == want_pos), default=None)


def inflected(reading: Reading, gender: Optional[str], number: Optional[str], vocab: Vocab,
              word: str) -> Reading:
    """An adjective's reading in the head's gender and number; a noun's in ``number``."""
    if reading.form is None or (reading.pos == 'NOUN' and reading.number == (number or reading.number)):
        return reading
    grams = {'Nom', number or 'Sing'}
    if reading.pos == 'ADJ' and number != 'Plur' and gender in ('Masc', 'Fem', 'Neut'):
        grams.add(gender)
    form = vocab.inflect(reading.form, frozenset(grams))
    if form is not None and reading.pos == 'ADJ' and not same_stem(form.word, word):
        form = lexeme_form(reading.form, word, {UD_OC.get(g, g) for g in grams} | {'nomn'} - {'Nom'}, vocab)
    if form is None:
        return reading
    return Reading(form.word, reading.case, gender or '', number or '', reading.pos, reading.weight, form)


def yo(word: str, token: Token, vocab: Vocab) -> str:
    """``word`` with ё where the dictionary writes it (``Соловьев`` -> ``Соловьёв``)."""
    if 'е' not in word.lower() or not token.pos:
        return word
    form = vocab.best(token.text, token.pos, token.feats)
    if form is None or not _dictionary(form.parse):
        return word
    if form.word != word.lower() and form.word.replace('ё', 'е') == word.lower().replace('ё', 'е'):
        return recover_shape(form.word, word)
    return word


def head_index(tokens: Sequence[Token]) -> Optional[int]:
    """Index of the first noun: the head of a Russian noun phrase."""
    for index, token in enumerate(tokens):
        if token.pos in NOUNS and is_word(token):
            return index
    return None


def name_words(tokens: Sequence[Token]) -> list[int]:
    """Indices of the words of a name: capitalised (``аль-Мухандиса`` too), no initials."""
    return [i for i, t in enumerate(tokens)
            if is_word(t) and is_capital(t.text.split('-')[-1]) and len(t.text) > 1
            and not t.text.endswith('.') and is_cyrillic(t.text) and abbreviation(t.text) is None]


def looks_like_name(tokens: Sequence[Token], vocab: Vocab) -> bool:
    """Capitalised words, one a first name or patronymic the dictionary knows (``Тома Хэнкса``)."""
    words = [t for t in tokens if is_word(t)]
    if len(words) < 2 or len(name_words(tokens)) != len(words):
        return False
    case = words[0].feats.get('Case')
    if any(_dictionary(f.parse) and f.pos == 'NOUN' and not f.grams & NAME_GRAMS
           and f.feats.get('Number') == 'Sing' and f.feats.get('Case') == case
           for f in vocab(words[0].text.lower())):
        return False  # Фонда Елены Образцовой: a common noun opens it
    return any(_dictionary(f.parse) and f.grams & {'Name', 'Patr'}
               for w in words for f in vocab(w.text.lower()))


def name_weight(reading: Reading) -> float:
    """How likely a reading is inside a person's name: name parses over common words."""
    if reading.name or reading.form is None:
        return reading.weight
    if reading.pos == 'ADJ':
        return reading.weight if SURNAME_ADJ.search(reading.normal) else 0.2
    return min(reading.weight, 0.5)


def normalize_name(tokens: Sequence[Token], vocab: Vocab, context: Context) -> list[str]:
    """Every name word in one case and one gender, each put into the nominative.

    A hyphenated name the dictionary does not know declines part by part (``Аллы-Виктории``).
    """
    words = [t.text for t in tokens]
    parts: dict[int, list[str]] = {}
    units: list[tuple[int, int, str]] = []  # (token, part, text)
    for i in name_words(tokens):
        text = tokens[i].text
        parts[i] = text.split('-') if '-' in text and not known(vocab, text) else [text]
        for j, part in enumerate(parts[i]):
            if len(part) > 1 and is_cyrillic(part) and is_capital(part):
                units.append((i, j, part))
    if not units:
        return words
    # Each reading's worth, weighed once for the twelve (case, gender) tries below.
    options = {(i, j): [(name_weight(r) + attested(r, context, tokens[i]), r)
                        for r in readings(vocab, part.lower(), True)] for i, j, part in units}

    def fit(i: int, j: int, case: str, gender: str) -> tuple[float, Optional[Reading]]:
        """The worthiest reading in ``case`` and ``gender`` (the first of equals), and its worth."""
        best, top = None, 0.0
        for value, reading in options[i, j]:
            if (best is None or value > top) and fits(reading, case, gender, 'Sing'):
                best, top = reading, value
        return top, best

    scored = []
    for case in CASES:
        for gender in ('Masc', 'Fem'):
            score = 0.0
            for i, j, _ in units:
                value, reading = fit(i, j, case, gender)
                if reading is None:
                    continue
                feats = tokens[i].feats
                score += value
                score += 1.0 * (feats.get('Case') == case) + 0.3 * (feats.get('Gender') == gender)
            scored.append((score, case, gender))
    _, case, gender = max(scored)
    for i, j, part in units:
        _, reading = fit(i, j, case, gender)
        if reading is not None:
            parts[i][j] = shaped(reading.normal, part)
    for i, pieces in parts.items():
        words[i] = '-'.join(pieces)
    return words


def normalize_phrase(tokens: Sequence[Token], vocab: Vocab, context: Context) -> list[str]:
    """Head noun and the words agreeing with it before it; the rest as written."""
    words = [yo(t.text, t, vocab) for t in tokens]
    head = head_index(tokens)
    if head is None:
        first = next((i for i, t in enumerate(tokens) if t.pos in NAME_POS), None)
        if first is not None:
            words[first] = nominative(tokens[first], vocab, context)
        return words
    case = tokens[head].feats.get('Case')
    abbr = abbreviation(tokens[head].text)
    if abbr is not None:
        words[head] = abbr
        for i, token in enumerate(tokens[:head]):
            if token.pos in AGREEING:
                words[i] = nominative(token, vocab, context, token.feats.get('Gender'), token.feats.get('Number'))
        return words
    if case is None:
        return words
    reading = choose(tokens[head], vocab, context)
    sure = reading is not None and reading.weight >= 1
    gender = (reading.gender if sure else '') or tokens[head].feats.get('Gender')
    number = (reading.number if sure else '') or tokens[head].feats.get('Number')
    modifiers = [i for i, t in enumerate(tokens[:head]) if agrees(t, case, vocab)]
    kind = reading.normal if reading is not None else ''
    settlement = kind in SETTLEMENTS or kind in STREETS
    if number == 'Plur' and (any(tokens[i].feats.get('Number') == 'Sing' for i in modifiers)
                             or named_after(tokens, head, settlement)):
        number = 'Sing'
        gender = gender or singular_gender(reading, vocab)
    words[head] = nominative(tokens[head], vocab, context, None, number if number == 'Sing' else None)
    for i, token in enumerate(tokens[:head]):
        if ORDINAL.match(token.text):
            words[i] = ORDINAL.sub(ORDINAL_ENDINGS.get('Plur' if number == 'Plur' else gender, r'\1'),
                                   token.text)
        elif i in modifiers:
            words[i] = nominative(token, vocab, context, gender, number, case)
    if settlement:  # в городе Москве, на улице Фонтанной; but улица Сергея Макеева
        for i in range(head + 1, len(tokens)):
            token = tokens[i]
            if (token.feats.get('Case') != case or not is_capital(token.text)
                    or token.feats.get('Number') == 'Plur' or token.pos not in NAME_POS
                    or kind in STREETS and token.pos != 'ADJ'):
                break
            words[i] = nominative(token, vocab, context)
    return words


def agrees(token: Token, case: str, vocab: Vocab) -> bool:
    """An adjective before the head in its case, by the tagger or by a reading of its own."""
    if token.pos not in AGREEING or not is_word(token):
        return False
    if token.feats.get('Case') == case:
        return True
    return token.pos == 'ADJ' and any(r.pos == 'ADJ' and r.case == case and r.weight >= 1
                                      for r in readings(vocab, token.text.lower(), False))


def named_after(tokens: Sequence[Token], head: int, settlement: bool) -> bool:
    """A plural head followed by one proper name in apposition (``городах Подгорица``,
    ``телеканалов «Мир»``, ``домов 20``): the phrase names one thing."""
    rest = [t for t in tokens[head + 1:] if t.text.lower() != 'метро']
    if not rest:
        return False
    first = rest[0]
    if first.text in OPENING and len(rest) > 1 or first.text[:1].isdigit() or first.text[:1] == '№' \
            or LATIN.match(first.text):
        return True
    head_case = tokens[head].feats.get('Case')
    return is_capital(first.text) and (settlement or first.feats.get('Case') == 'Nom' != head_case)


def singular_gender(reading: Optional[Reading], vocab: Vocab) -> str:
    if reading is None or reading.form is None:
        return ''
    form = vocab.inflect(reading.form, frozenset({'Nom', 'Sing'}))
    return form.feats.get('Gender', '') if form else ''


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


def sentence_case(words: list[str], tokens: Sequence[Token], vocab: Vocab, context: Context) -> None:
    """Lower-case a common noun capitalised only because it opens the sentence
    (``Группа «Кино»`` -> ``группа «Кино»``); a name after it keeps its capitals."""
    first = tokens[0]
    # ``Министерство обороны`` is a name's own capital: a lower-case complement follows it.
    if (len(tokens) > 1 and first.start in context.starts and first.pos in NOUNS
            and first.text.istitle() and is_cyrillic(first.text) and not tokens[1].text.islower()):
        forms = vocab(first.text.lower())
        if forms and all(_dictionary(f.parse) and not f.grams & NAME_GRAMS for f in forms):
            words[0] = words[0].lower()


def normalize_tokens(tokens: Sequence[Token], vocab: Vocab, kind: str = 'ORG',
                     context: Optional[Context] = None) -> str:
    """Nominative normal form of the phrase made of ``tokens`` (PER, LOC, ORG or PHRASE).

    ``context``: what the document tells (``Context.of(doc)``); helps with unknown names
    and capitals.
    """
    context = context or Context()
    if not tokens:
        return ''
    if kind == 'PER' or looks_like_name(tokens, vocab):
        words = normalize_name(tokens, vocab, context)
    else:
        words = normalize_phrase(tokens, vocab, context)
        sentence_case(words, tokens, vocab, context)
    words = ['' if t.text == '*' else w for w, t in zip(words, tokens)]
    return tidy(join(words, tokens))


LOWER_WORD = re.compile('[а-яёa-z]+')


def lemma_form(token: Token) -> str:
    """A single word's dictionary form, shaped like the original."""
    lemma = token.lemma or token.text.lower()
    if LOWER_WORD.fullmatch(token.text) and LOWER_WORD.fullmatch(lemma):
        return lemma  # what recover_shape gives a lower-case word, without its parsing
    return recover_shape(lemma, token.text)


_CONTEXTS: 'OrderedDict[str, tuple[Doc, Context]]' = OrderedDict()
CONTEXTS = 8  # texts kept analysed: ``Tagger.normalize`` is called span after span


def analysed(text: str, models) -> tuple[Doc, Context]:
    """``text`` segmented, morph- and NER-tagged, and its context; cached for the next spans."""
    entry = _CONTEXTS.pop(text, None)
    if entry is None:
        doc = Doc(text)
        segment(doc)
        tag_morph([doc], models.morph, models.vocab)
        tag_ner([doc], models.ner, models.vocab)
        entry = (doc, Context.of(doc, models.vocab))
    _CONTEXTS[text] = entry
    while len(_CONTEXTS) > CONTEXTS:
        _CONTEXTS.popitem(last=False)
    return entry


def unify_normals(doc: Doc) -> None:
    """One normal form per entity: mentions of one type whose words pair up by stem
    (``Асии Биби``, ``Асию Биби``, ``Асия Биби``) take the form most often written where the
    tagger reads a nominative, else the one most of them got."""
    nominative = {t.start for t in doc.tokens if t.feats.get('Case') == 'Nom'}
    groups: list[list] = []
    # Only entities whose words open with the same three letters can be one (same_entity):
    # each is compared with the groups of its bucket alone.
    buckets: dict[tuple, list[list]] = {}
    for entity in doc.entities:
        bucket = buckets.setdefault((entity.type, *(w[:3] for w in entity.normal.lower().split())), [])
        group = next((g for g in bucket if same_entity(g[0].normal, entity.normal)), None)
        if group is None:
            group = [entity]
            groups.append(group)
            bucket.append(group)
        else:
            group.append(entity)
    for group in groups:
        normals = [e.normal for e in group]
        if len(set(normals)) < 2:
            continue
        written = [e.text for e in group if e.start in nominative and e.text in normals]
        # first seen wins a tie: a set's order would change from process to process
        best = max(dict.fromkeys(normals), key=lambda n: (written.count(n), normals.count(n)))
        for entity in group:
            entity.normal = best


def same_entity(a: str, b: str) -> bool:
    """Same number of words, each pair the same but for its last two letters (``Асии``,
    ``Асия``; ``Ахундзад``, ``Ахундзада``) and sharing three at least; words with digits only
    when equal (``Су-34``, ``Су-35``). ``Госдума``/``Госдеп``, ``КНДР``/``КНР``, ``Ростов``/
    ``Ростов-на-Дону`` are two entities each."""
    left, right = a.lower().split(), b.lower().split()
    if len(left) != len(right) or a == b:
        return a == b
    for x, y in zip(left, right):
        if x == y:
            continue
        if any(c.isdigit() for c in x + y):
            return False
        if len(commonprefix([x, y])) < max(3, len(x) - 2, len(y) - 2):
            return False
    return True


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
        elif grams & NAME_GRAMS:
            words[index] = word[:1].upper() + word[1:]
    return ' '.join(words)

