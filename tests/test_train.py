"""Training a profile end to end on a few dev documents, and loading it back."""
from __future__ import annotations

import gzip
import json
from types import SimpleNamespace

import numpy as np
import pytest

from extractor import Tagger
from extractor.evaluate import GoldRecord
from extractor.ranking.lemmas import bag
from extractor.resources import ModelNotFound, profile_dir
from extractor.ranking.features import feature_names
from extractor.training.data import fold_of, group_key, side
from extractor.training.fit import EXPECTED
from extractor.training.train import train
from extractor.training.trees import TREES


def test_split_keeps_copies_together():
    a = GoldRecord('1', 't', 'Один   и тот же текст.', [])
    b = GoldRecord('2', 't', 'один и тот же ТЕКСТ.', [])
    assert group_key(a.text) == group_key(b.text)
    assert side(a) == side(b)
    sides = {side(GoldRecord(str(i), '', f'текст номер {i}', [])) for i in range(200)}
    assert sides == {'train', 'test'}


def test_fold_salts_deal_other_folds_and_keep_copies_together():
    groups = [group_key(f'текст номер {i}') for i in range(60)]
    dealt = {salt: [fold_of(SimpleNamespace(group=g), 3, salt) for g in groups] for salt in (1, 2)}
    assert all(set(folds) == {0, 1, 2} for folds in dealt.values())
    assert dealt[1] != dealt[2]
    copy = SimpleNamespace(group=group_key('ТЕКСТ   номер 7'))
    assert [fold_of(copy, 3, salt) for salt in (1, 2)] == [dealt[1][7], dealt[2][7]]


def test_missing_profile_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFound, match='extractor train'):
        profile_dir('nope', tmp_path)


@pytest.fixture(scope='module')
def small_profile(datasets, tmp_path_factory):
    rows = []
    with gzip.open(datasets / 'rt.dev.jsonl.gz', 'rt', encoding='utf-8') as file:
        for line, _ in zip(file, range(40)):
            rows.append(line)
    gold = tmp_path_factory.mktemp('gold') / 'small.jsonl.gz'
    with gzip.open(gold, 'wt', encoding='utf-8') as file:
        file.writelines(rows)
    out = tmp_path_factory.mktemp('models')
    logged = []
    card = train([str(gold)], 'small', out, jobs=1, use_all=True, folds=2, log=logged.append)
    return out, dict(card, logged=logged)


def test_train_writes_plain_files(small_profile):
    out, card = small_profile
    folder = out / 'small'
    names = {p.name for p in folder.iterdir()}
    assert {'ranker.json', 'ranker.npz', 'lookups.json', 'neighbours.npz', 'CARD.md'} <= names
    assert not any(n.endswith(('.pkl', '.pickle', '.joblib')) for n in names)
    meta = json.loads((folder / 'ranker.json').read_text(encoding='utf-8'))
    assert meta['features'] == feature_names()
    assert meta['expected'] in EXPECTED
    trees = np.load(folder / 'ranker.npz', allow_pickle=False)
    assert len(trees['roots']) > 0 and int(trees['depth']) <= TREES['max_depth']
    assert 'extractor train' in (folder / 'CARD.md').read_text(encoding='utf-8') or card['command'] == ''
    assert card['docs'] == 40
    assert card['folds'] == 2 and '(2 folds)' in (folder / 'CARD.md').read_text(encoding='utf-8')
    assert any(m.startswith('fold 2/2') for m in card['logged'])
    assert not any(m.startswith('fold 3/') for m in card['logged'])


def test_trained_profile_tags(small_profile):
    out, _ = small_profile
    tagger = Tagger(profile='small', models=str(out))
    doc = tagger('Президент России Владимир Путин встретился в Москве с президентом США Дональдом Трампом. '
                 'Путин и Трамп обсудили ситуацию в Сирии.')
    texts = [t.text.lower() for t in doc.tags]
    assert doc.tags and all(0 <= t.score <= 1 for t in doc.tags)
    assert any('путин' in t for t in texts)


def test_a_profile_of_two_archives_knows_which_site_an_article_resembles(datasets, tmp_path):
    paths = []
    for name in ('ng', 'rt'):
        with gzip.open(datasets / f'{name}.dev.jsonl.gz', 'rt', encoding='utf-8') as file:
            rows = [line for line, _ in zip(file, range(30))]
        paths.append(tmp_path / f'{name}.jsonl.gz')
        with gzip.open(paths[-1], 'wt', encoding='utf-8') as file:
            file.writelines(rows)
    card = train([str(p) for p in paths], 'both', tmp_path / 'models', jobs=1, use_all=True,
                 log=lambda m: None)
    assert card['sites'] == 2 and (tmp_path / 'models' / 'both' / 'sites.npz').is_file()
    tagger = Tagger(profile='both', models=str(tmp_path / 'models'))
    sites = tagger.ranker.sites
    first = [json.loads(row)['text'] for row in gzip.open(paths[0], 'rt', encoding='utf-8')][:5]
    second = [json.loads(row)['text'] for row in gzip.open(paths[1], 'rt', encoding='utf-8')][:5]
    bags = [bag(tagger(text)) for text in first + second]
    resembled = [int(sites.probabilities(b).argmax()) for b in bags]
    assert resembled == [0] * 5 + [1] * 5  # articles it learned from: their own site
