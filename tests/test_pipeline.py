"""The core tagger: offsets, normal forms, empty input, the library API."""
from __future__ import annotations

import json

import pytest

from extractor import Doc, Tagger

ARTICLE = (
    'Глава администрации Ростова-на-Дону Алексей Логвиненко принял участие в деловой сессии '
    'Всероссийской ассоциации развития местного самоуправления. Она состоялась в Санкт-Петербурге.\n'
    'Логвиненко рассказал о модернизации транспортной инфраструктуры и развитии туризма. '
    'Соглашение о сотрудничестве подпишут со столицей Республики Замбия — городом Лусакой.'
)


def test_offsets_slice_to_text(tagger):
    doc = tagger(ARTICLE)
    assert doc.tokens and doc.entities and doc.sentences
    for item in doc.tokens + doc.entities + doc.phrases + doc.sentences:
        assert doc.text[item.start:item.stop] == item.text
    for tag in doc.tags:
        for start, stop in tag.mentions:
            assert 0 <= start < stop <= len(doc.text)


def test_tags_ranked_and_typed(tagger):
    doc = tagger(ARTICLE)
    normals = {e.normal for e in doc.entities}
    assert {'Алексей Логвиненко', 'Ростов-на-Дону', 'Санкт-Петербург'} <= normals
    assert 'Ростов-на-Дону' in [t.text for t in doc.tags]
    assert all(t.kind in ('PER', 'LOC', 'ORG', 'PHRASE', 'TOPIC') for t in doc.tags)
    scores = [t.score for t in doc.tags]
    assert scores == sorted(scores, reverse=True)
    assert len({t.text.lower() for t in doc.tags}) == len(doc.tags)


def test_surname_merged_into_full_name(tagger):
    from extractor.analysis.candidates import candidates

    doc = tagger(ARTICLE)
    cands = {c.key: c for c in candidates(doc)}
    assert len(cands['алексей логвиненко'].mentions) == 2
    assert 'логвиненко' not in cands


@pytest.mark.parametrize('text', ['', ' ', '\n\t \n', '...', '—'])
def test_empty_text_gives_no_tags(tagger, text):
    doc = tagger(text)
    assert isinstance(doc, Doc)
    assert doc.tags == [] and doc.error is None


def test_pipe_matches_call_and_keeps_ids(tagger):
    texts = ['Владимир Путин прибыл в Казань.', ARTICLE, '']
    piped = list(tagger.pipe([(f'id{i}', t) for i, t in enumerate(texts)], batch_size=2))
    assert [d.id for d in piped] == ['id0', 'id1', 'id2']
    for doc, text in zip(piped, texts):
        assert [t.text for t in doc.tags] == [t.text for t in tagger(text).tags]


def test_pipe_error_policy(tagger):
    items = [('a', 'Москва.'), ('b', 42), ('c', 'Казань.')]
    docs = list(tagger.pipe(items, errors='yield'))
    assert [d.id for d in docs] == ['a', 'b', 'c']
    assert docs[1].error and not docs[1].tags
    assert docs[0].error is None and docs[2].error is None
    with pytest.raises(ValueError, match="'b'"):
        list(tagger.pipe(items, errors='raise'))


def test_as_json_round_trip(tagger):
    doc = tagger(ARTICLE)
    data = json.loads(json.dumps(doc.as_json(), ensure_ascii=False))
    again = Doc.from_json(data)
    assert again == doc


def test_never_constructs_pymorphy2():
    import pymorphy2

    with pytest.raises(AssertionError, match='pymorphy2'):
        pymorphy2.MorphAnalyzer()
    Tagger()('Москва — столица России.')  # a fresh tagger builds its vocabulary on pymorphy3


def test_vocab_is_picklable(tagger):
    import pickle

    vocab = pickle.loads(pickle.dumps(tagger.models.vocab))
    assert vocab('лусакой')[0].normal == 'лусака'
    again = pickle.loads(pickle.dumps(tagger))
    assert again.top == tagger.top
