"""The candidates the seed's style needs: places with their kind, the other number of a
phrase, fewer adjectives, Latin names; each as a spelling a profile may choose."""
from __future__ import annotations

from functools import partial

import pytest

from extractor.analysis.candidates import candidates
from extractor.analysis.phrases import other_number
from extractor.ranking.items import SURNAME, TEXT, VARIANT, spellings


def offered(tagger, text: str) -> dict[str, tuple[str, int]]:
    """key -> (kind, how) of every spelling the candidates of ``text`` offer."""
    doc = next(tagger.pipe([text], ranked=False))
    out = {}
    for cand in candidates(doc):
        cand.resolve(partial(other_number, vocab=tagger.models.vocab))
        for key, _, how in spellings(cand, variants=True):
            out.setdefault(key, (cand.kind, how))
    return out


@pytest.mark.parametrize('text, key, kind, how', [
    # a place with the kind the text gives it: in apposition another spelling, inside the
    # entity its own normal form
    ('Соглашение подпишут со столицей Республики Замбия — городом Лусакой.',
     'город лусака', 'LOC', VARIANT),
    ('Сотрудничество со столицей Республики Сейшельских островов развивается.',
     'республика сейшельские острова', 'LOC', TEXT),
    # the phrase in the other number, and with fewer adjectives
    ('Обмен опытом в области создания «умных» городов.', 'умные города', 'PHRASE', TEXT),
    ('Обмен опытом в области создания «умных» городов.', 'умный город', 'PHRASE', VARIANT),
    ('Город опубликовал новые стихи.', 'стих', 'TOPIC', VARIANT),
    ('Ростов расширяет международные межмуниципальные связи.', 'межмуниципальные связи',
     'PHRASE', TEXT),
    ('Он выступил за контроль на границе.', 'контроль на границе', 'PHRASE', TEXT),
    ('Цены на газ выросли.', 'цена на газ', 'PHRASE', VARIANT),
    # Latin names the NER leaves, as written
    ('Он опубликовал ролик на YouTube и в TikTok.', 'tiktok', 'ORG', TEXT),
    # a person by full name, and by surname alone as another spelling
    ('Алексей Логвиненко принял участие в сессии. Логвиненко выступил.', 'логвиненко', 'PER',
     SURNAME),
])
def test_candidates_offer(tagger, text, key, kind, how):
    assert offered(tagger, text).get(key) == (kind, how)


@pytest.mark.parametrize('text, key', [
    ('Он был в Москве.', 'город москва'),  # no kind in the text: none added
    ('Сотрудничество со столицей Республики Сейшельских островов развивается.',
     'республика сейшельских островов'),  # the genitive name kept only as the text's form
])
def test_candidates_do_not_offer_variant(tagger, text, key):
    assert offered(tagger, text).get(key, (None, TEXT))[1] != VARIANT


def test_variants_are_offered_only_when_asked(tagger):
    doc = next(tagger.pipe(['Соглашение подпишут с городом Лусакой.'], ranked=False))
    cand = next(c for c in candidates(doc) if c.key == 'лусака')
    assert 'город лусака' not in {key for key, _, _ in spellings(cand)}
    assert 'город лусака' in {key for key, _, _ in spellings(cand, variants=True)}


def test_a_profile_without_other_spellings_skips_them():
    """ng and rt were trained before other spellings: their phrases carry none (less work)."""
    from extractor import Tagger

    text = 'Соглашение подпишут со столицей Республики Замбия — городом Лусакой. Стихи вышли.'
    assert Tagger(profile='default').offers_spellings
    old = Tagger(profile='ng')
    assert not old.offers_spellings
    doc = next(old.pipe([text], ranked=False))
    assert doc.phrases and all(p.other == '' and not p.core and p.kind != 'KIND' for p in doc.phrases)


@pytest.mark.parametrize('text, junk', [
    # the letters of an embedded post's address and its author's handle (issue 29)
    ('Полиция задержала троих.\npic.twitter.com/Qqg1XMZClO\n— Tad Kapala (@TadKapla)\nJanuary 1, 2017',
     ('xmzclo', 'qqg', 'tadkapla')),
    # one letter left of a token (``3D``), one Cyrillic letter
    ('Компания показала 3D-принтер и модель В.', ('d', 'в')),
])
def test_no_candidate_of_one_letter_or_from_an_address_or_handle(tagger, text, junk):
    keys = offered(tagger, text)
    assert not set(junk) & set(keys)


def test_hashtags_an_article_quotes_stay_candidates(tagger):
    keys = offered(tagger, 'Пользователи запустили флешмоб #ЯтожеДоброволец в поддержку врачей.')
    assert any('ятожедоброволец' in key for key in keys)


def test_web_spans_hold_addresses_and_handles_only():
    from extractor.analysis.candidates import on_web, web_spans

    text = 'Видео: https://t.co/QFFiL0YUfT от (@FilipowiczMar) и #ełk в Ростове'
    spans = web_spans(text)
    assert [text[a:b] for a, b in zip(*spans)] == ['https://t.co/QFFiL0YUfT', '@FilipowiczMar']
    assert on_web(spans, text.index('QFFiL'), text.index('QFFiL') + 5)
    assert not on_web(spans, text.index('Ростове'), len(text))
