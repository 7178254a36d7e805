"""Noun-phrase and topic-noun candidates from the morph tags.

A chunk is ``ADJ* NOUN`` (adjectives agreeing in case with the noun, quotes allowed
between them: ``«умных» городов``) with up to two genitive groups after it
(``развития местного самоуправления``). Each chunk yields its core phrase, the phrase
with its tail, the core with a prepositional group (``цены на газ``), the core without its
first adjectives, and the head noun alone as a topic; each may be tagged in the other
number too (``умные города`` / ``умный город``), which ``other_number`` looks up when a
candidate is likely enough to need it (``Phrase.core``). Besides the chunks: names in
quotes, places named with their kind (``городом Лусакой`` -> ``Город Лусака``) and runs of
Latin words the NER left (``Pew Research Center``).
"""
from __future__ import annotations

import re
from dataclasses import replace

from typing import Iterator, Optional, Sequence

from ..cache import MISSING, Memo
from ..doc import Doc, Phrase, Token
from ..tags import tag_key
from .morph import Vocab, feats_text
from .normalize import SETTLEMENTS, normalize_tokens, yo
from .shape import is_cyrillic, join, lemma_form, shaped, tidy

QUOTE_TEXTS = set('«»"„“”')
SENTENCE_ENDS = frozenset('. ! ? ; … ...'.split())
MAX_TAIL = 2
MAX_QUOTED = 6
PREPOSITIONS = frozenset('о об на в во с со по при через к за против для от из между без под над'.split())
MAX_LATIN = 5  # words of a Latin name; a longer run is a quotation, not a name
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9&'.+-]*|\d+[A-Za-z][A-Za-z0-9]*")


def is_adj(token: Token) -> bool:
    return token.pos == 'ADJ' or (token.pos == 'VERB' and token.feats.get('VerbForm') == 'Part')


def is_noun(token: Token) -> bool:
    return token.pos in ('NOUN', 'PROPN') and any(c.isalpha() for c in token.text) and len(token.text) > 2


def extract_phrases(doc: Doc, vocab: Vocab, spellings: bool = True) -> None:
    """Fill ``doc.phrases`` with PHRASE and TOPIC mentions outside the entities; with
    ``spellings`` (what a profile trained to offer other spellings needs) also what the
    other number of each phrase needs and the places named with their kind."""
    taken = set()
    for entity in doc.entities:
        taken.update(range(entity.start, entity.stop))
    doc.phrases = []
    for sent in doc.sentences:
        tokens = [doc.tokens[i] for i in sent.tokens]
        free = [t.start not in taken and t.stop - 1 not in taken for t in tokens]
        previous: Optional[Phrase] = None
        core: Optional[Phrase] = None
        for kind, span in chunks(tokens, free):
            if kind in ('PREP', 'FEWER'):
                phrase = derived(doc, kind, span, core)
            else:
                phrase = make_phrase(doc, kind, span, vocab, tokens[0].start, previous, spellings)
                core = phrase if kind in ('TOPIC', 'CORE') else core
            if phrase is not None:
                doc.phrases.append(phrase)
            previous = phrase if kind in ('CORE', 'PHRASE') else None
    doc.phrases.extend(quoted_names(doc, doc.tokens, vocab))
    if spellings:
        doc.phrases.extend(kind_forms(doc, vocab))
    doc.phrases.extend(latin_names(doc, taken))


def kind_forms(doc: Doc, vocab: Vocab) -> Iterator[Phrase]:
    """A place named with its kind before it, as another spelling of the place (``KIND``
    phrases): ``городом Лусакой`` -> ``Город Лусака``. (A kind inside the entity is its own
    normal form: ``entities.kind_and_name``.)"""
    index = {t.start: i for i, t in enumerate(doc.tokens)}
    for entity in doc.entities:
        if entity.type != 'LOC' or entity.start not in index:
            continue
        first = last = index[entity.start]
        while last < len(doc.tokens) and doc.tokens[last].stop <= entity.stop:
            last += 1  # not islice(doc.tokens, first): it walks the tokens before ``first`` too
        tokens = doc.tokens[first:last]
        key = tag_key(entity.normal)
        if not tokens or not key:
            continue
        before = doc.tokens[first - 1] if first else None
        if before is not None and before.pos == 'NOUN' and before.lemma in SETTLEMENTS:
            # the name in apposition: the entity's own normal form (``Лусака``)
            normal = f'{lemma_form(before)} {entity.normal}'
            text = doc.text[before.start:entity.stop]
            start = before.start
        else:
            continue
        normal = tidy(normal[:1].upper() + normal[1:])
        if tag_key(normal) != key:
            yield Phrase(start, entity.stop, 'KIND', text, normal, key)


def latin_names(doc: Doc, taken: set) -> Iterator[Phrase]:
    """Runs of up to ``MAX_LATIN`` Latin words outside the entities (``The Guardian``,
    ``50cent``), the first capitalized or with a digit, as written."""
    runs, run = [], []
    for token in doc.tokens:
        first = token.text[:1]
        latin = (first.isascii() and first.isalnum() and LATIN_WORD.fullmatch(token.text)
                 and token.start not in taken)
        if latin and run and token.start - run[-1].stop <= 1:
            run.append(token)
        else:
            if run:
                runs.append(run)
            run = [token] if latin else []
    runs.append(run)
    for run in runs:
        if run and len(run) <= MAX_LATIN and not run[0].text[:1].islower():
            start, stop = run[0].start, run[-1].stop
            yield Phrase(start, stop, 'ORG', doc.text[start:stop], doc.text[start:stop])


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
    marks = [mark(t) if f else '' for t, f in zip(tokens, free)]
    index, count = 0, len(tokens)
    while index < count:
        core = group(tokens, marks, index) if marks[index] else None
        if core is None:
            index += 1
            continue
        stop, words = core
        head = words[-1]
        yield 'TOPIC', [head]
        if len(words) > 1:
            yield 'CORE', words
        if stop + 1 < count and marks[stop] == 'P':
            after = group(tokens, marks, stop + 1)  # ``цены на газ``, ``борьба с терроризмом``
            if after is not None:
                yield 'PREP', words + [tokens[stop]] + after[1]
        tail = list(words)
        for _ in range(MAX_TAIL):
            nxt = group(tokens, marks, stop)
            if nxt is None or nxt[1][-1].feats.get('Case') != 'Gen':
                break
            stop, more = nxt
            tail += more
            yield 'PHRASE', list(tail)
        for first in range(1, len(words) - 1):  # fewer adjectives: ``межмуниципальные связи``
            yield 'FEWER', words[first:]
        index = core[0]


def mark(token: Token) -> str:
    """What a free token can be in a chunk: ``Q`` a quote, ``A`` an adjective, ``N`` a noun,
    ``P`` a preposition, '' nothing."""
    if token.text in QUOTE_TEXTS:
        return 'Q'
    if is_adj(token):
        return 'A'
    if is_noun(token):
        return 'N'
    return 'P' if token.text.lower() in PREPOSITIONS else ''


def group(tokens: Sequence[Token], marks: Sequence[str], index: int):
    """``ADJ* NOUN`` starting at ``index``: (index after it, its tokens without quotes)."""
    words: list[Token] = []
    for position in range(index, len(tokens)):
        kind = marks[position]
        if kind == 'Q':
            continue
        if kind == 'A':
            words.append(tokens[position])
            continue
        if kind == 'N':
            token = tokens[position]
            case = token.feats.get('Case')
            if any(w.feats.get('Case') != case for w in words):
                return None
            return position + 1, words + [token]
        return None
    return None


def make_phrase(doc: Doc, kind: str, tokens: list[Token], vocab: Vocab, sentence_start: int,
                previous: Optional[Phrase] = None, others: bool = True) -> Phrase:
    """``previous``: the phrase just made from the same chunk, which ``tokens`` may extend
    (its tail as written, in both numbers); ``others``: offer the other number."""
    start, stop = tokens[0].start, tokens[-1].stop
    shaped = [common_case(t, sentence_start) for t in tokens]
    lemma = other = ''
    core = 0
    if kind == 'TOPIC':
        lemma = lemma_form(shaped[0])
        plural = shaped[0].feats.get('Number') == 'Plur'
        # Editors tag some topics in the plural (``санкции``, ``выборы``): keep the text's number.
        normal = phrase_normal(shaped, vocab) if plural else lemma
        # the singular is the lemma; only a singular topic needs its plural looked up
        if others and plural:
            other = lemma if normal != lemma else ''
        core = int(others and not plural)
    elif kind == 'CORE':
        normal = phrase_normal(shaped, vocab)
        core = len(tokens) if others and normal.count(' ') + 1 == len(tokens) else 0
    else:
        normal = extended(previous, shaped, vocab)
        core = previous.core if normal is not None else 0
        normal = normal or phrase_normal(shaped, vocab)
    return Phrase(start, stop, 'PHRASE' if kind == 'CORE' else kind, doc.text[start:stop],
                  normal, lemma, other, core)


def derived(doc: Doc, kind: str, tokens: list[Token], core: Optional[Phrase]) -> Optional[Phrase]:
    """A phrase made from its chunk's core without normalizing again: ``PREP``, the core and
    its prepositional group as written (``цены`` + ``на газ``); ``FEWER``, the core's last
    words (``межмуниципальные связи`` of ``международные межмуниципальные связи``)."""
    start, stop = tokens[0].start, tokens[-1].stop
    text = doc.text[start:stop]
    if core is None:
        return None
    if kind == 'PREP' and core.start == start:
        rest = doc.text[core.stop:stop]
        return Phrase(start, stop, 'PHRASE', text, tidy(core.normal + rest), '',
                      tidy(core.other + rest) if core.other else '', core.core)
    words = core.normal.split(' ')
    drop = len(words) - len(tokens)
    if kind != 'FEWER' or core.stop != stop or drop <= 0:
        return None
    return Phrase(start, stop, 'PHRASE', text, ' '.join(words[drop:]), '', '',
                  len(tokens) if core.core else 0)


# (words, core) -> their other number; a phrase's normal form by its tokens' text and tags
_OTHERS = Memo()


def other_number(normal: str, core: int, vocab: Vocab) -> str:
    """``normal`` with its first ``core`` words, adjectives and the head noun after them, in
    the other number (``умные города`` -> ``умный город``, ``стих`` -> ``стихи``; the words
    after them as they are); '' where a word does not inflect so."""
    words = normal.split(' ', core)
    rest, words = words[core:], words[:core]
    key = (' '.join(words), core)
    other = _OTHERS.get(key)
    if other is MISSING:
        other = _OTHERS.put(key, _other_number(words, vocab) if len(words) == core else '')
    return ' '.join([other] + rest) if other else ''


def _other_number(words: list[str], vocab: Vocab) -> str:
    """The words, the last a noun, the ones before it adjectives, in the other number."""
    head = len(words) - 1
    if head < 0 or not all(w.isalpha() for w in words):
        return ''
    noun = nominative_form(vocab, words[head], 'NOUN')
    if noun is None or noun.feats.get('Number') not in ('Sing', 'Plur'):
        return ''
    number = 'Sing' if noun.feats['Number'] == 'Plur' else 'Plur'
    other = vocab.inflect(noun, frozenset({'Nom', number}))
    if other is None or other.word == noun.word:
        return ''
    gender = other.feats.get('Gender') if number == 'Sing' else None
    out = list(words)
    out[head] = shaped(other.word, words[head])
    for i in range(head):
        adj = nominative_form(vocab, words[i], 'ADJ')
        grams = {'Nom', number} | ({gender} if gender else set())
        inflected = vocab.inflect(adj, frozenset(grams)) if adj is not None else None
        if inflected is None:
            return ''
        out[i] = shaped(inflected.word, words[i])
    return ' '.join(out)


def nominative_form(vocab: Vocab, word: str, pos: str):
    """The first nominative parse of ``word`` with part of speech ``pos``, or None."""
    return next((f for f in vocab.parse(word) if f.pos == pos and f.feats.get('Case') == 'Nom'), None)


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


_NORMALS = Memo()


def phrase_normal(tokens: list[Token], vocab: Vocab) -> str:
    """``normalize_tokens(tokens, vocab, 'PHRASE')``, remembered: without a document's context
    it depends only on the words, their tags and the spaces between them, and phrases recur."""
    key = '\n'.join(f'{t.text}\t{t.pos}\t{feats_text(t.feats)}\t{i > 0 and t.start > tokens[i - 1].stop:d}'
                    for i, t in enumerate(tokens))
    normal = _NORMALS.get(key)
    if normal is MISSING:
        normal = _NORMALS.put(key, normalize_tokens(tokens, vocab, 'PHRASE'))
    return normal


def common_case(token: Token, sentence_start: int) -> Token:
    """Lower-case a word capitalised only because it opens the sentence."""
    if token.start == sentence_start and token.pos != 'PROPN' and not token.text.isupper():
        return replace(token, text=token.text.lower())
    return token
