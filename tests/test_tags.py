"""Tag text in each style, and the tag key."""
from __future__ import annotations

import pytest

from extractor.tags import hashtag, style, tag_key

STYLES = [
    ('Алексей Логвиненко', 'seed', 'Алексей Логвиненко'),
    ('Алексей Логвиненко', 'lower', 'алексей логвиненко'),
    ('Алексей Логвиненко', 'camel', 'АлексейЛогвиненко'),
    ('Ростов-на-Дону', 'seed', 'Ростов-на-Дону'),
    ('Ростов-на-Дону', 'camel', 'РостовНаДону'),
    ('качество жизни', 'seed', 'Качество жизни'),
    ('качество жизни', 'camel', 'КачествоЖизни'),
    ('«Газпром»', 'seed', 'Газпром'),
    ('компания «Газпром»', 'seed', 'Компания Газпром'),
    ('МИД', 'lower', 'мид'),
    ('  Умные   города ', 'seed', 'Умные города'),
]


@pytest.mark.parametrize('text, name, expected', STYLES)
def test_style(text, name, expected):
    assert style(text, name) == expected
    assert hashtag(text, name) == '#' + expected


def test_unknown_style():
    with pytest.raises(ValueError, match='camel'):
        style('Москва', 'upper')


@pytest.mark.parametrize('tag, key', [
    ('#Ростов - на - Дону', 'ростов-на-дону'),
    ('Черёмин', 'черемин'),
    ('«Газпром»', 'газпром'),
    ('Юго\u2013Восток', 'юго-восток'),
    ('  ООН. ', 'оон'),
])
def test_tag_key(tag, key):
    assert tag_key(tag) == key


def test_emitted_tags_carry_no_format_character_and_no_overlong_text():
    from extractor.doc import Tag
    from extractor.tags import MAX_TAG_CHARS, emitted

    ordinary = [Tag('Казань', 'LOC'), Tag('Ильсур Метшин', 'PER')]
    assert emitted(ordinary) is ordinary  # nothing to do: the very list
    tags = [Tag('Казань\u202e', 'LOC'), Tag('\u200bКазань', 'LOC'), Tag('Ж' * (MAX_TAG_CHARS + 1), 'ORG'),
            Tag('Иль\u00adсур\u2066 Метшин\u2069', 'PER'), Tag('\ufeff', 'ORG'), Tag('Мост', 'TOPIC')]
    assert [(t.text, t.kind) for t in emitted(tags)] == \
        [('Казань', 'LOC'), ('Ильсур Метшин', 'PER'), ('Мост', 'TOPIC')]
