"""Entity boundaries, types and normal forms: a readable table of sentences."""
from __future__ import annotations

import pytest

CASES = [
    # sentence, entities expected among the found ones as (text, type, normal)
    # a bracketed name is a name of its own
    ('Союз координационных советов (СКС) провёл акцию.',
     [('Союз координационных советов', 'ORG', 'Союз координационных советов'), ('СКС', 'ORG', 'СКС')]),
    # an institution of a place is an organisation; the place stays a place
    ('Об этом сообщили в мэрии Москвы.', [('мэрии Москвы', 'ORG', 'мэрия Москвы'), ('Москвы', 'LOC', 'Москва')]),
    ('Об этом заявило британское правительство.', [('британское правительство', 'ORG', 'британское правительство')]),
    # organisations with their genitive tails and the kind written before the name
    ('Выступил руководитель Департамента внешнеэкономических и международных связей Москвы.',
     [('Департамента внешнеэкономических и международных связей Москвы', 'ORG',
       'Департамент внешнеэкономических и международных связей Москвы')]),
    ('Координационный совет пострадавших соинвесторов провёл собрание.',
     [('Координационный совет пострадавших соинвесторов', 'ORG', 'Координационный совет пострадавших соинвесторов')]),
    ('Рейсы отменила компания Piedmont Airlines.', [('компания Piedmont Airlines', 'ORG', 'компания Piedmont Airlines')]),
    ('Член партии «Яблоко» выступил.', [('партии «Яблоко»', 'ORG', 'партия «Яблоко»')]),
    # a place named inside an organisation's name is a place too
    ('Он дал интервью радиостанции «Голос Америки».', [('Америки', 'LOC', 'Америка')]),
    # types the dictionary settles
    ('Решение поддержали в ЕС.', [('ЕС', 'ORG', 'ЕС')]),
    ('Европейский союз ввёл санкции.', [('Европейский союз', 'ORG', 'Европейский союз')]),
    # job titles stay out of names
    ('Пресс-секретарь президента Дмитрий Песков прокомментировал.', [('Дмитрий Песков', 'PER', 'Дмитрий Песков')]),
    ('Поддержку Кирсану Илюмжинову выразил президент.', [('Кирсану Илюмжинову', 'PER', 'Кирсан Илюмжинов')]),
]


@pytest.mark.parametrize('sentence, expected', CASES)
def test_entities(tagger, sentence, expected):
    found = {(e.text, e.type, e.normal) for e in tagger(sentence).entities}
    for entity in expected:
        assert entity in found


@pytest.mark.parametrize('sentence, word', [
    ('Об этом пишут СМИ.', 'СМИ'),  # an abbreviation of a common word
    ('Как сообщает Пакистанская служба Радио Свобода, протесты продолжаются.', 'Пакистанская'),
])
def test_no_entity(tagger, sentence, word):
    assert all(e.text != word for e in tagger(sentence).entities)


def test_one_normal_form_per_entity(tagger):
    doc = tagger('В Пакистане протестуют против освобождения Асии Биби. Асия Биби вышла на свободу. '
                 'Адвокат Асии Биби уехал. Суд оправдал Асию Биби.')
    normals = {e.normal for e in doc.entities if e.type == 'PER'}
    assert normals == {'Асия Биби'}


def test_entity_offsets_slice_to_text(tagger):
    text = 'Союз координационных советов (СКС) и партия «Яблоко» провели акцию у мэрии Москвы.'
    doc = tagger(text)
    assert doc.entities
    for entity in doc.entities:
        assert text[entity.start:entity.stop] == entity.text


@pytest.mark.parametrize('text, glued, name', [
    ('Поддержку Кирсану Илюмжинову выразил президент.', 'Поддержку Кирсану Илюмжинову', 'Кирсану Илюмжинову'),
])
def test_words_before_a_name_are_cut_off(tagger, text, glued, name):
    from extractor.analysis.ner import dictionary_fix
    from extractor.analysis.pipeline import analyse
    from extractor.doc import Doc, Entity

    doc = Doc(text)
    analyse([doc], tagger.models)
    opening = {doc.tokens[s.tokens[0]].start for s in doc.sentences}
    start = text.index(glued)
    entity = dictionary_fix(doc, Entity(start, start + len(glued), 'PER', glued), tagger.models.vocab,
                            opening)
    assert entity is not None and entity.text == name


def test_brackets_split_a_span():
    from extractor.doc import Entity
    from extractor.analysis.ner import split_brackets

    text = 'Журналист Джошуа Вольф (Joshua Wolf) вышел.'
    glued = 'Джошуа Вольф (Joshua Wolf)'
    start = text.index(glued)
    parts = split_brackets(text, Entity(start, start + len(glued), 'PER', glued))
    assert [(p.text, p.type) for p in parts] == [('Джошуа Вольф', 'PER'), ('Joshua Wolf', 'PER')]
    assert all(text[p.start:p.stop] == p.text for p in parts)
