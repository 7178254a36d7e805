"""natasha/slovnet news NER -> Entity spans, with boundary post-processing."""
from __future__ import annotations

from .doc import Doc, Entity

TYPES = ('PER', 'LOC', 'ORG')
# Marks natasha leaves on a span's edges: banned-organisation asterisks, dangling quotes.
EDGE_CHARS = ' \n"«»„“”\'*'


def tag_ner(docs: list[Doc], tagger) -> None:
    """Run the NER over every sentence of ``docs`` in one stream; fill ``doc.entities``."""
    sents = [(doc, sent) for doc in docs for sent in doc.sentences]
    markups = tagger.map([sent.text for _, sent in sents])
    for doc in docs:
        doc.entities = []
    for (doc, sent), markup in zip(sents, markups):
        for span in markup.spans:
            if span.type in TYPES:
                entity = trimmed(doc.text, sent.start + span.start, sent.start + span.stop, span.type)
                if entity:
                    doc.entities.append(entity)
    for doc in docs:
        doc.entities = extend_org_tails(doc)


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
