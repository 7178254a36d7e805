"""natasha/slovnet news NER -> Entity spans, with boundary and type post-processing.

natasha's spans are flat and its types come from the sentence alone; the rules here fix
what its output gets wrong class by class:

- ``Джошуа Вольфа (Joshua Wolf)``: one span per side of the brackets;
- a lone common word (``СМИ``, ``Северный``, ``Супруга``) is no entity;
- a word the dictionary knows only as an organisation or only as a place gets that type
  (``ЕС``), and a *union* is an organisation (``Европейский союз``);
- an institution of a place is an organisation: ``мэрии Москвы``, ``британское
  правительство``; an organisation takes the place after it in the genitive
  (``Правительства`` + ``Москвы``); the place stays an entity of its own;
- a place named inside an organisation is a place too (``Голос Америки`` -> ``Америки``);
- words before a person's name that are no name (``Поддержку Кирсану Илюмжинову``) go.
"""
from __future__ import annotations

import re
from typing import Optional

from ..doc import Doc, Entity, Token
from .morph import in_dictionary

TYPES = ('PER', 'LOC', 'ORG')
# Marks natasha leaves on a span's edges: banned-organisation asterisks, dangling quotes.
EDGE_CHARS = ' \n"«»„“”\'*'
BRACKETS = re.compile(r'^(?P<outer>[^()]*?\S)\s*\((?P<inner>[^()]+)\)$')
# A word the dictionary marks as a name of a person, place, organisation or trade mark.
ENTITY_GRAMS = frozenset({'Name', 'Surn', 'Patr', 'Geox', 'Orgn', 'Trad'})
PERSON_GRAMS = frozenset({'Name', 'Surn', 'Patr'})
INSTITUTIONS = frozenset(
    'правительство администрация мэрия парламент мид посольство консульство представительство '
    'делегация министерство кабинет минобороны минфин минздрав минюст госдеп генпрокуратура '
    'прокуратура полиция армия сенат конгресс генштаб минэкономразвития минтранс '
    'минпромторг минэнерго спецслужба разведка'.split())
# Organisation nouns that name what they deal with in a genitive: ``министерство финансов``.
GOVERNING = INSTITUTIONS | frozenset(
    'совет комитет центр управление департамент служба агентство фонд ассоциация союз палата '
    'отдел комиссия институт академия движение общество объединение федерация организация '
    'ведомство инспекция надзор бюро палата'.split())
# Common nouns that name an organisation's kind before its proper name: ``компании Google``.
DESCRIPTORS = frozenset(
    'компания корпорация концерн холдинг группа партия движение газета журнал еженедельник '
    'издание радиостанция телеканал агентство информагентство институт фирма банк команда '
    'клуб профсоюз сеть фонд организация объединение ассоциация завод театр университет '
    'фракция авиакомпания издательство студия'.split())
LEGAL_FORMS = frozenset('ОАО ЗАО ООО ПАО АО ФГУП ГУП НАК'.split())
PLACE_ADJ = re.compile(r'[сц]к(ий|ая|ое|ие|ого|ой|ому|ую|им|ом|их|ими)$')


def tag_ner(docs: list[Doc], tagger, vocab=None) -> None:
    """Run the NER (a ``neural.NERTagger``) over every sentence of ``docs`` at once; fill
    ``doc.entities``.

    ``vocab`` (a ``morph.Vocab``) enables the dictionary rules; the morph tags of
    ``doc.tokens`` enable the grammar ones.
    """
    sents = [(doc, sent) for doc in docs for sent in doc.sentences]
    spans = tagger([[doc.tokens[i].text for i in sent.tokens] for doc, sent in sents])
    for doc in docs:
        doc.entities = []
    for (doc, sent), found in zip(sents, spans):
        for first, last, type in found:
            if type in TYPES:
                start, stop = doc.tokens[sent.tokens[first]].start, doc.tokens[sent.tokens[last - 1]].stop
                entity = trimmed(doc.text, start, stop, type)
                if entity:
                    doc.entities.append(entity)
    for doc in docs:
        entities = [part for entity in doc.entities for part in split_brackets(doc.text, entity)]
        if vocab is not None:
            opening = {doc.tokens[s.tokens[0]].start for s in doc.sentences if s.tokens}
            entities = [fixed for entity in entities
                        if (fixed := dictionary_fix(doc, entity, vocab, opening)) is not None]
            entities = institutions(doc, entities)
            entities = known_organisations(doc, entities, vocab)
            entities = genitive_tails(doc, descriptors(doc, entities, opening))
        doc.entities = entities
        doc.entities = extend_org_tails(doc)
        if vocab is not None:
            doc.entities = sorted(doc.entities + nested_places(doc, vocab), key=lambda e: (e.start, -e.stop))


def trimmed(text: str, start: int, stop: int, type: str) -> Entity | None:
    """The span without quotes/asterisks on its edges, unless the quotes pair up inside."""
    value = text[start:stop]
    balanced = value.count('«') == value.count('»') and value.count('"') % 2 == 0
    if balanced and value[:1] in '«"' and value[-1:] in '»"':
        return Entity(start, stop, type, value)
    head = len(value) - len(value.lstrip(EDGE_CHARS))
    tail = len(value.rstrip(EDGE_CHARS + '.,;:'))
    if tail <= head:
        return None
    return Entity(start + head, start + tail, type, value[head:tail])


def split_brackets(text: str, entity: Entity) -> list[Entity]:
    """``Союз координационных советов (СКС)`` -> the name and the bracketed one."""
    match = BRACKETS.match(entity.text)
    if not match or not any(c.isalpha() for c in match['inner']):
        return [entity]
    parts = []
    for group in ('outer', 'inner'):
        start = entity.start + match.start(group)
        part = trimmed(text, start, start + len(match[group]), entity.type)
        if part is not None and any(c.isalpha() for c in part.text):
            parts.append(part)
    return parts or [entity]


def span_tokens(doc: Doc, start: int, stop: int) -> list[Token]:
    """The tokens lying inside ``[start, stop)``."""
    index, last = 0, len(doc.tokens)
    while index < last:  # bisect on token starts
        middle = (index + last) // 2
        if doc.tokens[middle].start < start:
            index = middle + 1
        else:
            last = middle
    result = []
    while index < len(doc.tokens) and doc.tokens[index].stop <= stop:
        result.append(doc.tokens[index])
        index += 1
    return result


def grams(vocab, word: str) -> Optional[set]:
    """Name grammemes over the dictionary parses of ``word``; None if it is not in it."""
    forms = vocab(word.lower())
    if not forms or not all(in_dictionary(f.parse) for f in forms):
        return None
    return {g for f in forms for g in f.grams if g in ENTITY_GRAMS}


def dictionary_fix(doc: Doc, entity: Entity, vocab, opening: set) -> Optional[Entity]:
    """Drop, retype or trim ``entity`` by what the dictionary and the tagger say of its words;
    ``opening``: where the sentences start."""
    tokens = span_tokens(doc, entity.start, entity.stop)
    words = [t for t in tokens if any(c.isalpha() for c in t.text)]
    if not words:
        return None
    quoted = entity.start > 0 and doc.text[entity.start - 1] in '«"„“'
    if len(words) == 1 and not quoted:
        word = words[0]
        found = grams(vocab, word.text)
        if word.pos == 'ADJ' or word.text in LEGAL_FORMS or (
                found is not None and not found and (not word.text.istitle() or word.start in opening)):
            return None  # a bare adjective or legal form, a common word (СМИ, Отчёт)
        if entity.type == 'PER' and found is not None and not found & PERSON_GRAMS:
            return None  # a capitalised common word (Супруга)
        if entity.type != 'PER' and found:
            if found & {'Orgn', 'Geox'} == {'Orgn'}:
                entity.type = 'ORG'
            elif found & {'Orgn', 'Geox'} == {'Geox'}:
                entity.type = 'LOC'
    if entity.type == 'LOC' and (words[-1].lemma or words[-1].text.lower()).endswith('союз') \
            and words[0].lemma != 'советский':  # the Soviet Union was a state
        entity.type = 'ORG'
    if entity.type == 'PER':
        lead = 0
        while lead < len(words) - 1 and words[lead].pos != 'PROPN' and len(words[lead].text) > 2:
            found = grams(vocab, words[lead].text)
            if found is None or found & PERSON_GRAMS:
                break
            lead += 1
        if lead:
            start = words[lead].start
            return Entity(start, entity.stop, 'PER', doc.text[start:entity.stop])
    return entity


def institutions(doc: Doc, entities: list[Entity]) -> list[Entity]:
    """An institution of a place is an organisation: ``мэрии Москвы``, ``британское правительство``."""
    starts = {e.start: e for e in entities}
    taken = {i for e in entities for i in range(e.start, e.stop)}
    result = [e for e in entities]
    for index, token in enumerate(doc.tokens):
        if token.lemma not in INSTITUTIONS:
            continue
        before = doc.tokens[index - 1] if index else None
        start = token.start
        if (before is not None and before.pos == 'ADJ' and PLACE_ADJ.search(before.text)
                and before.feats.get('Case') == token.feats.get('Case') and before.start not in taken):
            start = before.start
        own = starts.get(token.start)
        if own is not None:
            if own.type == 'ORG' and start != token.start:
                result[result.index(own)] = Entity(start, own.stop, 'ORG', doc.text[start:own.stop])
            continue
        if token.start in taken:
            continue
        after = doc.tokens[index + 1] if index + 1 < len(doc.tokens) else None
        place = starts.get(after.start) if after else None
        if place is not None and place.type == 'LOC' and after.feats.get('Case') == 'Gen':
            result.append(Entity(start, place.stop, 'ORG', doc.text[start:place.stop]))
        elif start != token.start:
            result.append(Entity(start, token.stop, 'ORG', doc.text[start:token.stop]))
    return sorted(result, key=lambda e: (e.start, -e.stop))


def descriptors(doc: Doc, entities: list[Entity], opening: set) -> list[Entity]:
    """An organisation's name takes the kind written before it: ``компании Piedmont Airlines``,
    ``партии «Яблоко»``, ``ОАО «Газпром»``, ``социальной сети Facebook``; and the place it
    belongs to: ``российского Минсельхоза``."""
    index = {t.start: i for i, t in enumerate(doc.tokens)}
    taken = {i for e in entities for i in range(e.start, e.stop)}
    result = []
    for entity in entities:
        position = index.get(entity.start)
        if entity.type != 'ORG' or position is None:
            result.append(entity)
            continue
        if position and doc.tokens[position - 1].text in '«"„“':
            position -= 1
        start = None
        before = doc.tokens[position - 1] if position else None
        if before is not None and before.start not in taken and (
                before.text in LEGAL_FORMS or before.lemma in DESCRIPTORS and (
                    before.text.islower() or before.text.istitle() and before.start in opening)):
            start, case = before.start, before.feats.get('Case')
            position -= 1
            while position and doc.tokens[position - 1].pos == 'ADJ' and \
                    doc.tokens[position - 1].text.islower() and doc.tokens[position - 1].feats.get('Case') == case:
                position -= 1
                start = doc.tokens[position].start
        elif (before is not None and before.start not in taken and before.pos == 'ADJ'
              and before.text.islower() and PLACE_ADJ.search(before.text)
              and before.feats.get('Case') == doc.tokens[position].feats.get('Case')):
            start = before.start
        if start is None:
            result.append(entity)
            continue
        stop = entity.stop
        if doc.text[entity.start - 1:entity.start] in '«"' and doc.text[stop:stop + 1] in '»"':
            stop += 1
        result.append(Entity(start, stop, 'ORG', doc.text[start:stop]))
    return result


def genitive_tails(doc: Doc, entities: list[Entity]) -> list[Entity]:
    """An organisation named by a common noun takes the genitive phrase after it:
    ``Координационный совет`` + ``пострадавших соинвесторов``, ``министерства`` + ``финансов``."""
    index = {t.start: i for i, t in enumerate(doc.tokens)}
    taken = {e.start for e in entities}
    result = []
    for entity in entities:
        last = span_tokens(doc, entity.start, entity.stop)[-1:]
        if entity.type != 'ORG' or not last or last[0].lemma not in GOVERNING or not last[0].text.islower():
            result.append(entity)
            continue
        position, stop = index[last[0].start] + 1, entity.stop
        for _ in range(2):
            group = genitive_group(doc.tokens, position)
            if group is None or doc.tokens[position].start in taken:
                break
            position = group
            stop = doc.tokens[group - 1].stop
        result.append(entity if stop == entity.stop else
                      Entity(entity.start, stop, 'ORG', doc.text[entity.start:stop]))
    return result


def genitive_group(tokens: list[Token], position: int) -> Optional[int]:
    """End of a lower-case ``ADJ* NOUN`` group in the genitive starting at ``position``."""
    while position < len(tokens):
        token = tokens[position]
        if not token.text.islower() or token.feats.get('Case') != 'Gen':
            if token.text == 'и' and position + 1 < len(tokens) and tokens[position + 1].pos == 'ADJ':
                position += 1
                continue
            return None
        if token.pos == 'NOUN':
            return position + 1
        if token.pos not in ('ADJ', 'VERB'):
            return None
        position += 1
    return None


def known_organisations(doc: Doc, entities: list[Entity], vocab) -> list[Entity]:
    """Abbreviations the dictionary knows only as organisations (``ОБСЕ``), where NER missed them."""
    taken = {i for e in entities for i in range(e.start, e.stop)}
    found = []
    for token in doc.tokens:
        if len(token.text) > 1 and token.text.isupper() and token.text.isalpha() and token.start not in taken:
            kinds = grams(vocab, token.text)
            if kinds and kinds & {'Orgn', 'Geox'} == {'Orgn'}:
                found.append(Entity(token.start, token.stop, 'ORG', token.text))
    return sorted(entities + found, key=lambda e: (e.start, -e.stop))


def extend_org_tails(doc: Doc) -> list[Entity]:
    """Join an ORG with a LOC that follows it in the genitive (``Правительства`` + ``Москвы``)."""
    entities = sorted(doc.entities, key=lambda e: e.start)
    gen = {t.start for t in doc.tokens if t.feats.get('Case') == 'Gen'}
    result: list[Entity] = []
    for entity in entities:
        last = result[-1] if result else None
        if (
            last is not None and last.type == 'ORG' and entity.type == 'LOC'
            and entity.start in gen and doc.text[last.stop:entity.start].strip() == ''
            and entity.start - last.stop <= 1
        ):
            merged = Entity(last.start, entity.stop, 'ORG', doc.text[last.start:entity.stop])
            result[-1] = merged
            result.append(entity)  # the place stays an entity of its own too
            continue
        result.append(entity)
    return result


def nested_places(doc: Doc, vocab) -> list[Entity]:
    """Places named inside an organisation's name (``Голос Америки``, ``Совета Европы``)."""
    places = {(e.start, e.stop) for e in doc.entities if e.type == 'LOC'}
    found = []
    for entity in doc.entities:
        if entity.type != 'ORG':
            continue
        for token in span_tokens(doc, entity.start, entity.stop)[1:]:
            if not token.text[:1].isupper() or (token.start, token.stop) in places:
                continue
            kinds = grams(vocab, token.text)
            if kinds and 'Geox' in kinds and not kinds & PERSON_GRAMS:
                found.append(Entity(token.start, token.stop, 'LOC', token.text))
                places.add((token.start, token.stop))
    return found
