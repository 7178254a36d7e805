"""Nominative forms of names and phrases: agreement, number, shape (capitals, ё).

A phrase is put into the nominative by inflecting its head noun and the words that agree
with it before the head; everything after the head (a genitive tail, a prepositional
phrase, an apposition) stays as written: ``Департамента внешнеэкономических связей Москвы``
-> ``Департамент внешнеэкономических связей Москвы``. A place name in apposition to a
settlement word agrees with it (``города Москвы`` -> ``город Москва``). Person names
inflect every name word, all in one case and one gender (``Елену Малышеву``).

Each word's readings (``readings``) are weighed by the tagger's case and gender, the other
words of the name and what the document writes elsewhere; the worthiest is taken.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

from natasha.shape import recover_shape

from ..cache import MISSING, Memo
from ..doc import Doc, Token
from .morph import Vocab, feats_text, in_dictionary
from .ner import span_tokens
from .readings import PROPER_GRAMS, Reading, fits, known, lexeme_form, readings, same_stem
from .shape import LATIN, abbreviation, is_capital, is_cyrillic, is_word, join, shaped, tidy


NOUNS = ('NOUN', 'PROPN')
AGREEING = ('ADJ', 'DET', 'NUM', 'VERB')  # VERB: participles (``объединённых``)
NAME_POS = ('NOUN', 'PROPN', 'ADJ')
CASES = ('Nom', 'Gen', 'Dat', 'Acc', 'Ins', 'Loc')
UD_OC = {'Masc': 'masc', 'Fem': 'femn', 'Neut': 'neut', 'Sing': 'sing', 'Plur': 'plur', 'Nom': 'nomn'}
# Words whose proper-name apposition agrees with them: ``в городе Москве`` -> ``город Москва``.
SETTLEMENTS = frozenset(
    'город село деревня посёлок поселок станица хутор аул река озеро остров полуостров '
    'гора станция штат провинция округ республика область край район'.split())
STREETS = frozenset('улица проспект площадь шоссе переулок бульвар набережная проезд тупик'.split())
OPENING = '«„"'
ORDINAL = re.compile(r'^(\d+)-[а-я]{1,3}$')
ORDINAL_ENDINGS = {'Masc': r'\1-й', 'Fem': r'\1-я', 'Neut': r'\1-е', 'Plur': r'\1-е'}
SURNAME_ADJ = re.compile(r'[сц]к(ий|ая|ой)$')

# What makes a reading likelier than its own weight says:
IN_A_FULL_NAME = 1.0  # its nominative is a word of a person's full name in the document
WRITTEN_ELSEWHERE = 0.6  # the document writes its nominative elsewhere, read as one
FITS_CASE = 1.0  # it can be in the case the tagger reads (or the one asked for)
FITS_NUMBER = 0.3  # ... in the number
FITS_GENDER = 0.2  # ... in the gender
FITS_POS = 0.2  # an adjective's reading for an adjective, a noun's for a noun
# A name's words are read in one case and gender: what the tagger says of each word counts so.
TAGGER_CASE = 1.0
TAGGER_GENDER = 0.3
# A common word's reading inside a person's name is worth at most this (names are likelier):
COMMON_ADJ_IN_NAME = 0.2  # an adjective but a surname in -ский
COMMON_NOUN_IN_NAME = 0.5


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


def attested(reading: Reading, context: Context, token: Token) -> float:
    """Bonus for a nominative the document writes elsewhere where the tagger reads one."""
    written = token.text.lower()
    if reading.normal in context.names:
        return IN_A_FULL_NAME
    count = context.lexicon.get(reading.normal, 0)
    if reading.normal == written and token.feats.get('Case') == 'Nom':
        count -= 1
    return WRITTEN_ELSEWHERE if count > 0 else 0.0


# A token's nominative and its chosen reading, by its text, tags and the agreement asked for
# (when the document has no say: ``context_free``); the one pymorphy3 dictionary behind them.
_NOMINATIVES = Memo()
_CHOICES = Memo()


def nominative(token: Token, vocab: Vocab, context: Context, gender: Optional[str] = None,
               number: Optional[str] = None, case: Optional[str] = None) -> str:
    """The nominative of one token, shaped like the original (capitals kept).

    ``gender`` and ``number``: those of the head an adjective must agree with (or the number
    a head noun takes); ``case``: the case to read the token in, when not the tagger's.
    """
    return context_free(_NOMINATIVES, _nominative, token, vocab, context, gender, number, case)


def context_free(cache: Memo, compute, token: Token, vocab: Vocab, context: Context,
                 gender: Optional[str], number: Optional[str], case: Optional[str]):
    """``compute(token, vocab, context, gender, number, case)``, remembered in ``cache`` when
    the document's words have no say (no lexicon, no names): then it depends on the token's
    text and tags alone."""
    if context.lexicon or context.names:
        return compute(token, vocab, context, gender, number, case)
    key = f'{token.text}\t{token.pos}\t{feats_text(token.feats)}\t{gender}\t{number}\t{case}'
    found = cache.get(key)
    if found is MISSING:
        found = cache.put(key, compute(token, vocab, context, gender, number, case))
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
    return max(options, key=lambda r: r.weight + attested(r, context, token)
               + FITS_CASE * fits(r, case) + FITS_NUMBER * fits(r, None, None, number)
               + FITS_GENDER * fits(r, None, gender) + FITS_POS * (r.pos == want_pos),
               default=None)


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
    if form is None or not in_dictionary(form.parse):
        return word
    if form.word != word.lower() and form.word.replace('ё', 'е') == word.lower().replace('ё', 'е'):
        return recover_shape(form.word, word)
    return word


def adjectives_before_a_noun(tokens: Sequence[Token], vocab: Vocab) -> Sequence[Token]:
    """``tokens`` with a name the dictionary knows only as an adjective or participle, before
    a noun, read as an adjective: natasha tags ``Соединённых`` (``Штатов Америки``) and
    ``Объединённых`` (``Арабских Эмиратов``) as names, which would make them the head; the
    case and number it gave them are a name's, so the word's own readings decide them."""
    out = None
    for index, token in enumerate(tokens):
        if (token.pos == 'PROPN' and any(t.pos in NOUNS for t in tokens[index + 1:])
                and adjective_only(vocab, token.text)):
            out = out or list(tokens)
            out[index] = replace(token, pos='ADJ', feats={})
    return tokens if out is None else out


def adjective_only(vocab: Vocab, word: str) -> bool:
    """The dictionary knows ``word`` and only as a full adjective or participle."""
    forms = vocab(word.lower())
    return bool(forms) and all(in_dictionary(f.parse) and f.parse.tag.POS in ('ADJF', 'PRTF')
                               for f in forms)


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
    if any(in_dictionary(f.parse) and f.pos == 'NOUN' and not f.grams & PROPER_GRAMS
           and f.feats.get('Number') == 'Sing' and f.feats.get('Case') == case
           for f in vocab(words[0].text.lower())):
        return False  # Фонда Елены Образцовой: a common noun opens it
    return any(in_dictionary(f.parse) and f.grams & {'Name', 'Patr'}
               for w in words for f in vocab(w.text.lower()))


def name_weight(reading: Reading) -> float:
    """How likely a reading is inside a person's name: name parses over common words."""
    if reading.name or reading.form is None:
        return reading.weight
    if reading.pos == 'ADJ':
        return reading.weight if SURNAME_ADJ.search(reading.normal) else COMMON_ADJ_IN_NAME
    return min(reading.weight, COMMON_NOUN_IN_NAME)


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
                score += TAGGER_CASE * (feats.get('Case') == case) + TAGGER_GENDER * (feats.get('Gender') == gender)
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
    tokens = adjectives_before_a_noun(tokens, vocab)
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


def sentence_case(words: list[str], tokens: Sequence[Token], vocab: Vocab, context: Context) -> None:
    """Lower-case a common noun capitalised only because it opens the sentence
    (``Группа «Кино»`` -> ``группа «Кино»``); a name after it keeps its capitals."""
    first = tokens[0]
    # ``Министерство обороны`` is a name's own capital: a lower-case complement follows it.
    if (len(tokens) > 1 and first.start in context.starts and first.pos in NOUNS
            and first.text.istitle() and is_cyrillic(first.text) and not tokens[1].text.islower()):
        forms = vocab(first.text.lower())
        if forms and all(in_dictionary(f.parse) and not f.grams & PROPER_GRAMS for f in forms):
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
