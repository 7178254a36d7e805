"""Entities' normal forms: each mention put into the nominative, then one form per entity.

``Асии Биби``, ``Асию Биби`` and ``Асия Биби`` are one person: ``unify_normals`` gives all
their mentions the form the text writes where the tagger reads a nominative.
"""
from __future__ import annotations

from os.path import commonprefix
from typing import Sequence

from ..doc import Doc, Token
from .morph import Vocab
from .ner import span_tokens
from .normalize import SETTLEMENTS, Context, normalize_tokens
from .shape import lemma_form, tidy


def normalize_entities(doc: Doc, vocab: Vocab, context: Context) -> None:
    """Every entity's ``normal``: its tokens in the nominative (its text where none is found);
    a place that opens with its kind, the kind and the name each in the nominative."""
    for entity in doc.entities:
        tokens = span_tokens(doc, entity.start, entity.stop)
        entity.normal = entity_normal(tokens, vocab, entity.type, context) or entity.text


def entity_normal(tokens: Sequence[Token], vocab: Vocab, kind: str, context: Context) -> str:
    """The nominative of an entity of ``kind`` made of ``tokens``; '' where it has no words."""
    return ((kind_and_name(tokens, vocab, context) if kind == 'LOC' else '')
            or normalize_tokens(tokens, vocab, kind, context))


def kind_and_name(tokens: Sequence[Token], vocab: Vocab, context: Context) -> str:
    """A place that opens with its kind (SEED-STYLE.md): the kind and the name in apposition,
    both in the nominative, ``Республики Сейшельских островов`` -> ``Республика Сейшельские
    острова``, ``Округа Колумбия`` -> ``Округ Колумбия`` (not the name's genitive as a
    tail); '' for any other place."""
    if len(tokens) < 2 or tokens[0].lemma not in SETTLEMENTS or not tokens[0].text[:1].isupper():
        return ''
    name = normalize_tokens(tokens[1:], vocab, 'LOC', context)
    kind = lemma_form(tokens[0])
    return tidy(f'{kind[:1].upper()}{kind[1:]} {name}') if name else ''


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


def span_normal(doc: Doc, start: int, stop: int, vocab: Vocab, context: Context) -> str:
    """Nominative of ``doc.text[start:stop]`` (an analysed ``doc``): as the entity of exactly
    that span reads, else as an organisation's name; '' where it has no words."""
    kind = next((e.type for e in doc.entities if (e.start, e.stop) == (start, stop)), 'ORG')
    return entity_normal(span_tokens(doc, start, stop), vocab, kind, context)
