"""The ranker's parts: trees walked by numpy, neighbours' votes, items, the expected-F1 cut."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from extractor.analysis.candidates import Candidate
from extractor.ranking.features import RAW, Lookups, feature_names
from extractor.ranking.items import Item, items
from extractor.ranking.ranker import best_first, cut
from extractor.ranking.trees import Forest
from extractor.training.archive import fit_neighbours, fit_sites
from extractor.training.trees import forest_of

sklearn = pytest.importorskip('sklearn')


def stored(part, path):
    """``part`` written to an NPZ file and read back, as a profile stores it."""
    np.savez_compressed(path, **part.arrays())
    with np.load(path, allow_pickle=False) as data:
        return type(part).from_arrays({name: data[name] for name in data.files})


def noisy_data(rows=4000, columns=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns))
    x[rng.random(x.shape) < 0.15] = np.nan  # missing values go their learned way
    y = ((np.nan_to_num(x[:, 0]) + x[:, 1] ** 2 > 1) | np.isnan(x[:, 2])).astype(int)
    return x, y


@pytest.mark.parametrize('params', [
    dict(max_iter=30, max_depth=6),
    dict(max_iter=20, max_depth=3, max_leaf_nodes=5),
    dict(max_iter=10, max_leaf_nodes=31, max_depth=9),
])
def test_forest_equals_sklearn(params, tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = noisy_data()
    model = HistGradientBoostingClassifier(**params, random_state=0).fit(x, y)
    forest = stored(forest_of(model), tmp_path / 'trees.npz')
    assert np.allclose(forest.probabilities(x), model.predict_proba(x)[:, 1], atol=1e-12)
    assert forest.probabilities(np.zeros((0, x.shape[1]))).shape == (0,)


def test_a_bag_of_ensembles_averages_their_probabilities(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = noisy_data()
    models = [HistGradientBoostingClassifier(max_iter=20 + 10 * seed, max_depth=5, max_features=0.5,
                                             random_state=seed).fit(x, y) for seed in range(3)]
    forest = stored(forest_of(models), tmp_path / 'trees.npz')
    mean = np.mean([m.predict_proba(x)[:, 1] for m in models], axis=0)
    assert np.allclose(forest.probabilities(x), mean, atol=1e-12)
    assert not np.allclose(forest.probabilities(x), models[0].predict_proba(x)[:, 1], atol=1e-3)
    assert forest.raw(x[:5]).shape == (5, 3)
    for member, model in enumerate(models):  # one member alone: its own model's probability
        assert np.allclose(forest.probabilities(x, member), model.predict_proba(x)[:, 1], atol=1e-12)
        # and its first trees: the model's raw score after as many boosting rounds
        staged = list(model.staged_decision_function(x))
        assert np.allclose(forest.raw(x, member, trees=5)[:, 0], staged[4], atol=1e-12)


def test_the_whole_bag_scores_the_items_its_first_member_finds_likeliest(tmp_path):
    from sklearn.ensemble import HistGradientBoostingClassifier

    from extractor.ranking.ranker import SCREENED, SCREENING_TREES, Ranker

    x, y = noisy_data(rows=SCREENED * 3)
    models = [HistGradientBoostingClassifier(max_iter=15, max_depth=4, max_features=0.5,
                                             random_state=seed).fit(x, y) for seed in range(2)]
    forest = forest_of(models)
    probs = Ranker(forest, Lookups(1, {}, {})).screened(x)
    first, whole = forest.probabilities(x, 0, SCREENING_TREES), forest.probabilities(x)
    best = np.argsort(-first, kind='stable')[:SCREENED]
    rest = np.setdiff1d(np.arange(len(x)), best)
    assert np.allclose(probs[best], whole[best]) and np.allclose(probs[rest], first[rest])
    assert not np.allclose(probs, whole)
    assert np.allclose(Ranker(forest, Lookups(1, {}, {})).screened(x[:SCREENED]), whole[:SCREENED])


def test_trees_fit_when_a_feature_is_never_present():
    """No house classifier (a small archive, --no-house): its columns are all NaN."""
    from extractor.training.fit import Rows
    from extractor.training.trees import fit_trees

    x, y = noisy_data()
    x[:, 3] = np.nan
    forest = forest_of(fit_trees([Rows(0, [], x, y, set())]))
    probs = forest.probabilities(x)
    assert probs.shape == (len(x),) and np.isfinite(probs).all()
    assert probs[y == 1].mean() > probs[y == 0].mean() + 0.3


def test_forest_refuses_trees_too_deep_to_lay_out():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(3000, 4)), rng.integers(0, 2, 3000)  # noise: only deep trees fit it
    model = HistGradientBoostingClassifier(max_iter=2, max_leaf_nodes=None, max_depth=16,
                                           min_samples_leaf=1, early_stopping=False).fit(x, y)
    assert max(int(t.nodes['depth'].max()) for (t,) in model._predictors) > 12
    with pytest.raises(ValueError, match='max_depth'):
        forest_of(model)


@pytest.mark.parametrize('probs, expected, least, kept', [
    ([], 1.0, 1, 0),
    ([0.9], 1.0, 1, 1),
    ([0.95, 0.9, 0.05, 0.05], 1.0, 1, 2),        # sure ones in, unlikely ones out
    ([0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 1.0, 1, 6),  # many even chances: take them all
    ([0.9, 0.3, 0.3, 0.3], 1.0, 1, 1),
    ([0.9, 0.3, 0.3, 0.3], 2.0, 1, 4),           # more gold expected -> longer list
    ([0.95, 0.9, 0.05, 0.05], 1.0, 3, 3),        # the profile's least number of tags
    ([0.95, 0.9], 1.0, 5, 2),                    # ... as many as there are
])
def test_cut_keeps_the_count_of_highest_expected_f1(probs, expected, least, kept):
    assert cut(np.array(probs), expected, least) == kept


BAGS = [Counter({'футбол': 3, 'матч': 2, 'гол': 1}), Counter({'футбол': 1, 'матч': 3, 'тренер': 2}),
        Counter({'нефть': 3, 'рубль': 2, 'биржа': 1}), Counter({'нефть': 2, 'рубль': 2, 'доллар': 2}),
        Counter({'выборы': 2, 'депутат': 3, 'голос': 1}), Counter({'выборы': 1, 'депутат': 1, 'голос': 2})]
GOLDS = [{'спорт', 'футбол'}, {'спорт'}, {'экономика', 'нефть'}, {'экономика'}, {'политика'}, {'политика'}]


def test_neighbours_vote_for_the_tags_of_similar_articles(tmp_path):
    near = fit_neighbours(BAGS, GOLDS)
    near.k = 2
    near = stored(near, tmp_path / 'neighbours.npz')
    votes, top, _ = near.neighbourhood(Counter({'нефть': 1, 'рубль': 1}))
    assert max(votes, key=votes.get) == 'экономика' and votes['экономика'] == pytest.approx(1.0)
    assert 'спорт' not in votes and 0 < top <= 1
    assert near.neighbourhood(Counter({'неведомое': 4}))[:2] == ({}, 0.0)


def test_items_offer_people_by_surname_and_archive_tags():
    cands = [Candidate('владимир путин', 'PER', [(0, 14)], Counter({'Владимир Путин': 1})),
             Candidate('москва', 'LOC', [(20, 26)], Counter({'Москва': 1}))]
    raw = np.ones((2, len(RAW)))
    lookups = Lookups(10, {'путин': 5}, {'путин': 4, 'в мире': 3}, {'в мире': 'в мире'})
    near = fit_neighbours([Counter({'путин': 2, 'москва': 1})] * 2 + [Counter({'нефть': 1})] * 2,
                          [{'путин', 'в мире'}, {'в мире'}, {'нефть'}, {'нефть'}])
    found, x = items(cands, raw, Counter({'путин': 1, 'москва': 1}), lookups, None, near)
    keys = [item.key for item in found]
    assert keys[:3] == ['владимир путин', 'путин', 'москва']
    assert 'в мире' in keys and found[keys.index('в мире')].mentions == []
    names = feature_names()
    assert x.shape == (len(found), len(names))
    assert x[1, names.index('surname')] == 1 and x[0, names.index('surname')] == 0
    assert x[keys.index('в мире'), names.index('is_candidate')] == 0
    assert np.isnan(x[keys.index('в мире'), names.index('log_freq')])  # no candidate features
    assert x[1, names.index('tag_rate')] == pytest.approx(0.4)


def test_one_tag_per_candidate_its_likelier_spelling():
    found = [Item('владимир путин', 'Владимир Путин', 'PER', [], 0), Item('путин', 'Путин', 'PER', [], 0),
             Item('москва', 'Москва', 'LOC', [], 1), Item('в мире', 'в мире', 'TOPIC', [])]
    order = best_first(found, np.array([0.4, 0.7, 0.5, 0.6]))
    assert [found[i].key for i in order] == ['путин', 'в мире', 'москва']


@pytest.mark.parametrize('joined, keys', [
    (False, ['формула-1', 'жан-люк меланшон', 'меланшон']),
    (True, ['формула1', 'жанлюк меланшон', 'меланшон']),
])
def test_a_site_that_drops_hyphens_gets_its_keys_and_texts_without_them(joined, keys):
    cands = [Candidate('формула-1', 'TOPIC', [(0, 9)], Counter({'Формула-1': 1})),
             Candidate('жан-люк меланшон', 'PER', [(20, 36)], Counter({'Жан-Люк Меланшон': 1}))]
    found, _ = items(cands, np.ones((2, len(RAW))), Counter(), Lookups(4, {}, {}, {}, joined))
    assert [i.key for i in found] == keys
    assert ('-' in found[0].text) != joined and found[0].text.startswith('Формула')


def test_the_site_habit_for_hyphens_is_learned_from_its_tags():
    from extractor.training.archive import joins_hyphens
    from extractor.training.data import Sample

    def sample(gold, keys):
        cands = [Candidate(k, 'TOPIC', [(0, 1)], Counter({k: 1})) for k in keys]
        return Sample('id', 'g', set(gold), cands, np.ones((len(keys), len(RAW))), Counter())

    dropped = [sample({'формула1', 'гонки'}, ['формула-1', 'гонки']), sample({'абудаби'}, ['абу-даби'])]
    kept = [sample({'формула-1'}, ['формула-1']), sample({'нью-йорк', 'абудаби'}, ['нью-йорк', 'абу-даби'])]
    assert joins_hyphens(dropped) and not joins_hyphens(kept)
    assert not joins_hyphens([sample({'гонки'}, ['гонки'])])  # no evidence: hyphens stay


def test_without_borrowing_neighbours_only_vote():
    cands = [Candidate('москва', 'LOC', [(0, 6)], Counter({'Москва': 1}))]
    lookups = Lookups(4, {}, {})
    near = fit_neighbours([Counter({'москва': 2, 'метро': 1})] * 2 + [Counter({'нефть': 1})] * 2,
                          [{'москва', 'транспорт'}, {'транспорт'}, {'нефть'}, {'нефть'}])
    counts = Counter({'москва': 1, 'метро': 1})
    borrowed, _ = items(cands, np.ones((1, len(RAW))), counts, lookups, None, near)
    own, x = items(cands, np.ones((1, len(RAW))), counts, lookups, None, near, borrow=False)
    assert 'транспорт' in [i.key for i in borrowed]
    assert [i.key for i in own] == ['москва'] and x[0, feature_names().index('vote')] > 0


def test_a_surname_and_the_house_full_name_are_one_tag():
    cands = [Candidate('путин', 'PER', [(0, 5)], Counter({'Путин': 1}))]
    lookups = Lookups(4, {}, {})
    near = fit_neighbours([Counter({'путин': 2, 'визит': 1})] * 2 + [Counter({'нефть': 1})] * 2,
                          [{'владимир путин'}, {'владимир путин'}, {'нефть'}, {'нефть'}])
    found, _ = items(cands, np.ones((1, len(RAW))), Counter({'путин': 1, 'визит': 1}), lookups, None, near)
    assert [(i.key, i.source) for i in found] == [('путин', 0), ('владимир путин', 0)]
    assert len(best_first(found, np.array([0.3, 0.6]))) == 1


# Habits: (log gold count, people by surname, by full name, share of tags named in the text).
STYLES = np.array([[1.0, 2, 0, 0.5], [1.0, 2, 0, 0.5], [2.0, 0, 3, 0.9], [2.0, 0, 1, 0.9],
                   [1.5, 1, 1, 0.7], [1.5, 0, 0, 0.7]])


def test_neighbours_give_their_habits_with_people_as_shares(tmp_path):
    near = fit_neighbours(BAGS, GOLDS, style=STYLES)
    near.k = 2
    _, _, habits = stored(near, tmp_path / 'neighbours.npz').neighbourhood(Counter({'футбол': 2, 'матч': 1}))
    assert habits == pytest.approx([1.0, 1.0, 0.0, 0.5])  # both sports articles: surnames only
    _, _, habits = near.neighbourhood(Counter({'нефть': 1, 'рубль': 1}))
    assert habits == pytest.approx([2.0, 0.0, 1.0, 0.9])  # the economy articles: full names
    assert np.isnan(near.neighbourhood(Counter({'неведомое': 1}))[2]).all()


def test_sites_weigh_the_habits_of_the_site_an_article_resembles(tmp_path):

    bags = [Counter({'мяч': 2, 'гол': 1, 'матч': 1}), Counter({'мяч': 1, 'гол': 2, 'тренер': 1}),
            Counter({'мяч': 1, 'матч': 2, 'тренер': 1})] * 4 + \
           [Counter({'нефть': 2, 'рубль': 1, 'биржа': 1}), Counter({'нефть': 1, 'рубль': 2, 'доллар': 1}),
            Counter({'биржа': 2, 'доллар': 1, 'рубль': 1})] * 4
    sources = [0] * 12 + [1] * 12
    style = np.array([[1.0, 3, 1, 0.5]] * 12 + [[2.0, 0, 2, 0.9]] * 12)
    sites = stored(fit_sites(bags, sources, style), tmp_path / 'sites.npz')
    assert np.allclose(sites.habits[:, :3], [[1.0, 0.75, 0.25], [2.0, 0.0, 1.0]])
    sport, money = (sites.mean_habits(Counter(b)) for b in ({'мяч': 1, 'гол': 1}, {'нефть': 1, 'рубль': 1}))
    assert sport[0] < 1.5 < money[0] and sport[1] > 0.375 > money[1]
    assert sites.probabilities(Counter({'мяч': 1})).sum() == pytest.approx(1.0)
    three = fit_sites(bags + bags[:6], sources + [2] * 6, np.vstack([style, style[:6]]))
    assert three.probabilities(Counter({'нефть': 1})).argmax() == 1 and len(three.habits) == 3


def test_items_fill_site_habits_only_for_a_profile_of_several_sites():
    from extractor.ranking.sites import Sites

    cands = [Candidate('москва', 'LOC', [(0, 6)], Counter({'Москва': 1}))]
    lookups = Lookups(10, {}, {})
    names = feature_names()
    column = names.index('site_log_gold')
    _, alone = items(cands, np.ones((1, len(RAW))), Counter({'москва': 1}), lookups)
    assert np.isnan(alone[:, column]).all() and np.isnan(alone[:, names.index('nb_log_gold')]).all()
    sites = Sites(['москва'], np.ones(1), np.array([[2.0]]), np.zeros(1),
                  np.array([[1.0, 0.5, 0.5, 0.5], [3.0, 0.5, 0.5, 0.5]]))
    _, several = items(cands, np.ones((1, len(RAW))), Counter({'москва': 1}), lookups, sites=sites)
    assert 2.0 < several[0, column] < 3.0  # mostly the second site's habit (p = sigmoid(2))


def test_a_profile_trained_before_a_feature_reads_the_columns_it_knows(tmp_path):
    """Old profiles load: ``ranker.json`` names its features, the trees get those columns;
    a feature this code does not make is an error that says to retrain."""
    import json
    import shutil

    from extractor.ranking import profile
    from extractor.resources import profile_dir

    folder = tmp_path / 'ng'
    shutil.copytree(profile_dir('ng'), folder)
    meta = json.loads((folder / 'ranker.json').read_text(encoding='utf-8'))
    names = feature_names()
    ranker = profile.load(folder)
    read = names if ranker.columns is None else [names[i] for i in ranker.columns]
    assert read == meta['features']
    meta['features'] = meta['features'] + ['no such feature']
    (folder / 'ranker.json').write_text(json.dumps(meta), encoding='utf-8')
    with pytest.raises(profile.ProfileError, match='retrain'):
        profile.load(folder)


def test_other_spellings_are_looked_up_for_the_likeliest_candidates_only(tagger, monkeypatch):
    """A long article has hundreds of phrases: only the likeliest ones' other number is made."""
    from extractor.ranking import ranker as module
    from extractor.ranking.items import VARIANT
    from extractor.ranking.ranker import Ranker

    monkeypatch.setattr(module, 'SPELLED', 2)
    column = feature_names().index('log_freq')
    # one split: a candidate is likely when its log_freq is above 0.5
    forest = Forest([column, 0, 0], [0.5, 0, 0], [True] * 3, [1, -1, -1], [2, -1, -1],
                    [False, True, True], [0.0, -5.0, 5.0], roots=[0], baseline=[0.0], depth=1)
    words = ['город', 'стих', 'дом', 'лес']
    cands = [Candidate(w, 'TOPIC', [(i, i + 1)], Counter({w: 1}), numbers=Counter({(w, 1): 1}))
             for i, w in enumerate(words)]
    raw = np.zeros((4, len(RAW)))
    raw[:2, RAW.index('log_freq')] = 1.0
    ranker = Ranker(forest, Lookups(1, {}, {}, variants=True))
    found, probs = ranker.scored_items(cands, raw, Counter(), tagger.models.vocab)
    variants = {item.key: probs[i] for i, item in enumerate(found) if item.how == VARIANT}
    assert set(variants) == {'города', 'стихи'} and min(variants.values()) > 0.9
    assert cands[2].numbers and not cands[0].numbers  # the unlikely ones never looked up


def quadratic_nested(doc, cands):
    """The nesting share by comparing every mention with every entity: the reference."""
    mentions = [m for c in cands for m in c.mentions]
    inside = [any(e.start <= a and e.stop >= b and e.stop - e.start > b - a for e in doc.entities)
              for a, b in mentions]
    out, at = [], 0
    for c in cands:
        out.append(sum(inside[at:at + len(c.mentions)]) / len(c.mentions))
        at += len(c.mentions)
    return np.array(out)


@pytest.mark.parametrize('seed', range(20))
def test_nested_share_equals_the_pairwise_comparison(seed):
    from extractor.doc import Doc, Entity
    from extractor.ranking.features import nested

    rng = np.random.default_rng(seed)
    spans = [(int(a), int(a + rng.integers(1, 12))) for a in rng.integers(0, 60, rng.integers(0, 25))]
    doc = Doc(' ' * 80, entities=[Entity(a, b, 'ORG', '') for a, b in spans])
    cands = []
    for _ in range(rng.integers(1, 12)):
        starts = rng.integers(0, 60, rng.integers(1, 5))
        mentions = sorted({(int(a), int(a + rng.integers(1, 10))) for a in starts} | set(spans[:1]))
        cands.append(Candidate('x', 'LOC', mentions))
    assert np.array_equal(nested(doc, cands), quadratic_nested(doc, cands))


def test_nested_share_takes_memory_linear_in_the_mentions():
    """200,000 mentions inside 200,000 entities (a text of one repeated name): the pairwise
    arrays would take 40 GB; under a 1.5 GB cap on the address space it must still run."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent('''
        import resource
        import numpy as np
        from extractor.doc import Doc, Entity
        from extractor.analysis.candidates import Candidate
        from extractor.ranking.features import nested
        n = 200_000
        doc = Doc(' ' * (7 * n), entities=[Entity(7 * i, 7 * i + 6, 'LOC', '') for i in range(n)])
        cands = [Candidate('москва', 'LOC', [(7 * i, 7 * i + 6) for i in range(n)]),
                 Candidate('моск', 'LOC', [(7 * i, 7 * i + 4) for i in range(n)])]
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
        print(nested(doc, cands).tolist())
    ''')
    env = {**__import__('os').environ, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ['[0.0,', '1.0]']


@pytest.mark.parametrize('short, long, expected', [
    ('мид россии', 'министерство иностранных дел россии', True),
    ('цру', 'центральное разведывательное управление', True),
    ('рф', 'российская федерация', True),
    ('мид', 'министерство иностранных дел россии', False),  # the tail differs
    ('рф', 'россия', False),
])
def test_an_abbreviation_is_the_initials_of_the_full_name(short, long, expected):
    from extractor.ranking.once import abbreviates

    assert abbreviates(short, long) is expected


def test_each_thing_once_the_likelier_of_an_abbreviation_or_a_shorter_name_gives_way():
    from extractor.ranking.once import once

    found = [Item('министерство иностранных дел россии', 'Министерство иностранных дел России', 'ORG', [], 0),
             Item('мид россии', 'МИД России', 'ORG', [], 1),
             Item('департамент связей москвы', 'Департамент связей Москвы', 'ORG', [], 2),
             Item('департамент связей', 'Департамент связей', 'ORG', [], 3),
             Item('новый мост', 'Новый мост', 'PHRASE', [], 4), Item('мост', 'Мост', 'TOPIC', [], 5),
             Item('москва', 'Москва', 'LOC', [], 6)]
    kept = once(found, np.arange(len(found)), 5)
    # the abbreviation and the name without its tail give way to the next ones
    assert [found[i].key for i in kept] == ['министерство иностранных дел россии',
                                           'департамент связей москвы', 'новый мост', 'мост', 'москва']
    # the full name ranked below its abbreviation takes the abbreviation's place
    kept = once(found, np.array([1, 4, 0, 6, 5]), 3)
    assert [found[i].key for i in kept] == ['министерство иностранных дел россии', 'новый мост',
                                           'москва']


def test_context_features_tell_how_candidates_nest_by_lemmas(tagger):
    from extractor.analysis.candidates import candidates
    from extractor.ranking.features import CONTEXT, raw_features

    text = ('Новый мост открыли\nНовый мост через реку открыли в субботу. Мост строили три года.\n'
            'По новому мосту пошли машины.')
    doc = next(tagger.pipe([text], ranked=False))
    cands = candidates(doc)
    raw = raw_features(doc, cands)
    assert raw.shape == (len(cands), len(RAW))
    at = {c.key: row[len(RAW) - len(CONTEXT):] for c, row in zip(cands, raw)}
    column = {name: i for i, name in enumerate(CONTEXT)}
    assert at['мост'][column['longer_share']] > 0 and at['новый мост'][column['shorter_share']] > 0
    assert at['новый мост'][column['in_lead']] == 1
    assert at['новый мост'][column['paragraphs']] == pytest.approx(1.0)
