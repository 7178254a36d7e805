"""The shortcuts taken for speed give what the slow paths give."""
from __future__ import annotations

import gc
import gzip
import json
import random
from pathlib import Path

import pytest
from natasha.morph.lemma import best_form
from natasha.shape import recover_shape
from razdel import sentenize, tokenize as razdel_tokenize

from extractor.analysis.morph import Vocab
from extractor.cache import MISSING, Memo
from extractor.analysis.shape import lemma_form
from extractor.doc import Token
from extractor.tagger import FULL_COLLECTION_EVERY, fewer_full_collections
from extractor.analysis.segment import sentences, tokenize

SAMPLES = Path(__file__).resolve().parent.parent / 'samples'

TOKEN_CASES = [
    'Ростов-на-Дону', 'кто-то, что -то и как- то', '3,5 млн и 2.7%', '1/2 и 3\\4', 'т.е. и т.д.',
    'Yahoo! и yahoo !', 'Ура :-) и :)', 'Что?! Да...', '«умных» городов', 'Δσ mβж ΔP',
    'snake_case и _x_', '-- и *** и ---', '2023—2024 гг.', 'https://ria.ru/a_b?x=1&y=2',
    'mail@example.com', 'Су-34 и Ту-154М', '№5 и #тег', '', '   ', '\n\nабзац\n', 'а-а-а!',
    '10 000 000 руб.', '(скобки) [и] {такие}', '“Кавычки” и „лапки“', 'ИГИЛ*', 'x-1-y',
]


@pytest.mark.parametrize('text', TOKEN_CASES)
def test_tokenize_equals_razdel(text):
    theirs = [(t.start, t.stop, t.text) for t in razdel_tokenize(text)]
    assert [(t.start, t.stop, t.text) for t in tokenize(text)] == theirs
    assert [(t.start - 7, t.stop - 7) for t in tokenize(text, 7)] == [(a, b) for a, b, _ in theirs]


def test_tokenize_equals_razdel_on_samples():
    for path in sorted(SAMPLES.glob('*.txt')):
        text = path.read_text(encoding='utf-8')
        assert [(t.start, t.stop, t.text) for t in tokenize(text)] == \
            [(t.start, t.stop, t.text) for t in razdel_tokenize(text)], path.name


def test_tokenize_equals_razdel_on_random_strings():
    """Strings of the characters razdel's rules care about, mixed at random (seeded)."""
    pieces = list('абвЁЯabcXZ019 \n-‑–—−_.,/\\!?…:;()«»"\'„“”*+=#@%&~|№$ΔσβжÅé🙂') + \
        ['yahoo', 'Yahoo', ':-)', '...', '1.5', '2/3']
    rng = random.Random(7)
    for _ in range(5_000):
        text = ''.join(rng.choice(pieces) for _ in range(rng.randint(0, 20)))
        assert [(t.start, t.stop, t.text) for t in tokenize(text)] == \
            [(t.start, t.stop, t.text) for t in razdel_tokenize(text)], repr(text)


@pytest.mark.slow
def test_tokenize_and_sentences_equal_razdel_on_corpora(datasets):
    for name in ('ng.dev.jsonl.gz', 'rt.dev.jsonl.gz'):
        with gzip.open(datasets / name, 'rt', encoding='utf-8') as lines:
            for line in lines:
                record = json.loads(line)
                text = f"{record['title']}\n{record['text']}"
                assert [(t.start, t.stop) for t in tokenize(text)] == \
                    [(t.start, t.stop) for t in razdel_tokenize(text)], record['id']
                assert [(s.start, s.stop) for s in sentences(text)] == \
                    [(s.start, s.stop) for s in sentenize(text)], record['id']


def test_a_memo_keeps_what_is_used():
    memo = Memo(4)
    for key in 'abcd':
        memo.put(key, key.upper())
    assert memo.get('a') == 'A' and memo.get('z') is MISSING
    memo.put('e', 'E')  # full: the least recently used half goes first
    assert list(memo.entries) == ['d', 'a', 'e']
    memo.put('n', None)
    assert memo.get('n') is None  # a remembered None is a value, not a miss


def test_a_full_memo_keeps_the_newer_half():
    memo = Memo(10)
    for i in range(10):
        memo.put(i, i)
    memo.put(10, 10)
    assert list(memo.entries) == [5, 6, 7, 8, 9, 10]
    assert len(memo) == 6


@pytest.mark.parametrize('word, pos, feats', [
    ('городов', 'NOUN', {'Case': 'Gen', 'Number': 'Plur'}),
    ('стали', 'VERB', {'Number': 'Plur', 'Tense': 'Past'}),
    ('стали', 'NOUN', {'Case': 'Gen', 'Number': 'Sing'}),
    ('читайте', 'NOUN', {'Case': 'Nom'}),  # no parse of the tagger's part of speech
    ('Ростова', 'PROPN', {'Case': 'Gen'}),
    ('разумнее', 'ADJ', {'Degree': 'Cmp'}),
    ('qwerty', 'X', {}),
])
def test_lemmatize_equals_best_form(word, pos, feats):
    vocab = Vocab()
    form = best_form(vocab(word.lower()), pos, feats)
    expected = form.normal if form else word.lower()
    assert vocab.lemmatize(word, pos, feats) == expected
    assert vocab.lemmatize(word, pos, feats) == expected  # and from the cache


@pytest.mark.parametrize('text, lemma', [
    ('городов', 'город'), ('Москве', 'москва'), ('ООН', 'оон'), ('e-mail', 'e-mail'),
    ('Ростова-на-Дону', 'ростов-на-дону'), ('ёлки', 'ёлка'), ('Су-34', 'су-34'),
])
def test_lemma_form_equals_recover_shape(text, lemma):
    assert lemma_form(Token(0, len(text), text, lemma)) == recover_shape(lemma, text)


def test_full_collections_deferred_while_tagging_only():
    before = gc.get_threshold()
    with fewer_full_collections():
        with fewer_full_collections():  # nested (or another thread's batch)
            assert gc.get_threshold()[2] >= FULL_COLLECTION_EVERY
        assert gc.get_threshold()[2] >= FULL_COLLECTION_EVERY
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), fewer_full_collections():
        raise RuntimeError
    assert gc.get_threshold() == before


def test_tagger_restores_thresholds(tagger):
    before = gc.get_threshold()
    assert tagger('Глава Ростова-на-Дону Алексей Логвиненко выступил в Москве.').entities
    assert gc.get_threshold() == before
