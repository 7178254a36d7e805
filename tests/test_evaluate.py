"""Hand-computed cases for extractor.evaluate and extractor.article."""
import ast
import gzip
import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from extractor.article import parse_article
from extractor.doc import Doc, Entity, Phrase, Tag
from extractor.evaluate import (
    GoldError, GoldRecord, LemmaKeyer, Row, format_table, prf, read_gold,
    score_corpus, score_document, summarize, tag_key, tag_keys, write_report,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def morph():
    import pymorphy3
    return pymorphy3.MorphAnalyzer()


@pytest.fixture(scope='module')
def lemma_key(morph):
    return LemmaKeyer(morph)


# ---------------------------------------------------------------- tag_key

TAG_KEYS = [
    ('Москва', 'москва'),
    ('#Москва', 'москва'),
    ('  #Москва  ', 'москва'),
    ('##тег', '#тег'),                      # only one '#' is dropped
    ('Ёлка', 'елка'),
    ('е\u0308ж', 'еж'),                      # NFKC composes ё, then ё -> е
    ('ＣＯＶＩＤ-19', 'covid-19'),            # NFKC: full-width letters
    ('Ростов - на - Дону', 'ростов-на-дону'),
    ('Ростов–на—Дону', 'ростов-на-дону'),    # en and em dash
    ('Нью\u2011Йорк', 'нью-йорк'),           # non-breaking hyphen
    ('Нью\u2010Йорк', 'нью-йорк'),
    ('минус\u2212плюс', 'минус-плюс'),
    ('а \u2015 б', 'а-б'),
    ('«Яблоко»', 'яблоко'),
    ('„Газпром“ (ПАО)', 'газпром пао'),
    ('"Газпром" [ПАО]', 'газпром пао'),
    ("д'Артаньян", 'дартаньян'),
    ('Москва.', 'москва'),
    ('  Что? Где? Когда?!  ', 'что? где? когда'),
    (';:Москва,!', 'москва'),
    ('США\u00a0и \t КНДР', 'сша и кндр'),
    ('Совет  безопасности\nООН', 'совет безопасности оон'),
    ('', ''),
    ('#', ''),
    (' .,;:!? ', ''),
    ('«»()', ''),
]


@pytest.mark.parametrize('tag, key', TAG_KEYS)
def test_tag_key(tag, key):
    assert tag_key(tag) == key


def test_tag_keys_dedup_drop_empty_cut():
    tags = ['Москва', '#москва', '', 'ООН', '«»', 'Сирия', 'москва.']
    assert tag_keys(tags) == ['москва', 'оон', 'сирия']
    assert tag_keys(tags, k=2) == ['москва', 'оон']


# ---------------------------------------------------------------- lemma key

LEMMA_KEYS = [
    ('транспортной инфраструктуры', 'транспортный инфраструктура'),
    ('транспортная инфраструктура', 'транспортный инфраструктура'),
    ('ежа', 'еж'),                           # normal form 'ёж', ё folded
    ('ростов-на-дону', 'ростов-на-дону'),    # razdel keeps it one word
]


@pytest.mark.parametrize('key, lemma', LEMMA_KEYS)
def test_lemma_key(lemma_key, key, lemma):
    assert lemma_key(key) == lemma


class FakeParse:
    def __init__(self, normal_form):
        self.normal_form = normal_form


class FakeMorph:
    def __init__(self):
        self.calls = []

    def parse(self, word):
        self.calls.append(word)
        return [FakeParse(word.upper()), FakeParse('second')]


def test_lemma_keyer_first_parse_and_cache():
    fake = FakeMorph()
    keyer = LemmaKeyer(fake)
    assert keyer('мама мыла мама') == 'МАМА МЫЛА МАМА'
    assert keyer('мама') == 'МАМА'
    assert fake.calls == ['мама', 'мыла']    # one parse per distinct word
    assert keyer.cache == {'мама': 'МАМА', 'мыла': 'МЫЛА'}


def imported_modules(tree):
    for node in tree:
        if isinstance(node, ast.Import):
            yield from (alias.name.split('.')[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module.split('.')[0]


def test_imports_are_lazy_and_no_pymorphy2():
    source = '\n'.join(path.read_text(encoding='utf-8')
                       for path in sorted((ROOT / 'extractor' / 'evaluate').glob('*.py')))
    tree = ast.parse(source)
    top = set(imported_modules(tree.body))
    assert not top & {'pandas', 'pymorphy3', 'pymorphy2', 'natasha', 'ipymarkup'}
    everywhere = set(imported_modules(ast.walk(tree)))
    assert {'pandas', 'pymorphy3'} <= everywhere
    assert not everywhere & {'pymorphy2', 'natasha'}
    assert 'MorphVocab' not in source


# ---------------------------------------------------------------- prf, score_document

PRF = [
    # matched, n_pred, n_gold -> P, R, F1
    ((0, 0, 0), (1, 1, 1)),
    ((0, 0, 3), (0, 0, 0)),
    ((0, 2, 0), (0, 0, 0)),
    ((0, 2, 2), (0, 0, 0)),
    ((1, 2, 1), (0.5, 1, 2 / 3)),
    ((1, 4, 2), (0.25, 0.5, 1 / 3)),
    ((3, 3, 3), (1, 1, 1)),
]


@pytest.mark.parametrize('counts, figures', PRF)
def test_prf(counts, figures):
    assert prf(*counts) == pytest.approx(figures)


DOCS = [
    # pred, gold -> n_pred, n_gold, exact, lemma
    (['Москва', 'москва', '#Москва.'], ['Москва', 'МОСКВА'], (1, 1, 1, 1)),
    ([], ['Москва'], (0, 1, 0, 0)),
    (['Москва'], [], (1, 0, 0, 0)),
    ([], [], (0, 0, 0, 0)),
    (['#', '«»'], ['', ' '], (0, 0, 0, 0)),   # empty keys dropped
    (['транспортной инфраструктуры'], ['Транспортная инфраструктура'], (1, 1, 0, 1)),
    # two predicted with one lemma key match the one gold tag once
    (['транспортной инфраструктуры', 'транспортную инфраструктуру'],
     ['транспортная инфраструктура'], (2, 1, 0, 1)),
    # exact first: 'выборы' pairs with itself, 'выборов' is left over
    (['выборов', 'выборы'], ['выборы'], (2, 1, 1, 1)),
    # exact 'выборов', then lemma pair 'выборы' ~ 'выборам'
    (['выборы', 'выборов'], ['выборов', 'выборам'], (2, 2, 1, 2)),
    (['Сирия', 'ООН', 'Турция'], ['сирия', 'оон', 'россия', 'сша'], (3, 4, 2, 2)),
]


@pytest.mark.parametrize('pred, gold, counts', DOCS)
def test_score_document_counts(lemma_key, pred, gold, counts):
    score = score_document(pred, gold, lemma_key)
    assert (score.n_pred, score.n_gold, score.exact, score.lemma) == counts


FIGURES = [
    # pred, gold -> exact P, R, F1; lemma P, R, F1
    ([], ['Москва'], (0, 0, 0), (0, 0, 0)),
    (['Москва'], [], (0, 0, 0), (0, 0, 0)),
    ([], [], (1, 1, 1), (1, 1, 1)),
    (['транспортной инфраструктуры', 'транспортную инфраструктуру'],
     ['транспортная инфраструктура'], (0, 0, 0), (0.5, 1, 2 / 3)),
    (['Сирия', 'ООН', 'Турция'], ['сирия', 'оон', 'россия', 'сша'],
     (2 / 3, 0.5, 4 / 7), (2 / 3, 0.5, 4 / 7)),
]


@pytest.mark.parametrize('pred, gold, exact, lemma', FIGURES)
def test_score_document_figures(lemma_key, pred, gold, exact, lemma):
    score = score_document(pred, gold, lemma_key)
    assert (score.p_exact, score.r_exact, score.f1_exact) == pytest.approx(exact)
    assert (score.p_lemma, score.r_lemma, score.f1_lemma) == pytest.approx(lemma)
    assert score.prf('lemma') == pytest.approx(lemma)


def test_score_document_details(lemma_key):
    score = score_document(['ООН', 'транспортной инфраструктуры', 'Сирия'],
                           ['оон', 'Транспортная инфраструктура', 'сша'], lemma_key)
    assert score.pairs == [('оон', 'оон', 'exact'),
                           ('транспортной инфраструктуры', 'транспортная инфраструктура', 'lemma')]
    assert score.extra == ['сирия']
    assert score.missed == ['сша']


def test_score_document_k(lemma_key):
    score = score_document(['a', 'A', 'b', 'c'], ['c'], lemma_key, k=2)
    assert (score.n_pred, score.exact) == (2, 0)   # first 2 distinct keys: a, b


# ---------------------------------------------------------------- corpus

CORPUS = [
    (['a', 'b'], ['a']),                 # P 1/2, R 1,   F1 2/3
    (['c', 'd', 'e', 'f'], ['c', 'x']),  # P 1/4, R 1/2, F1 1/3
    ([], ['y']),                         # P 0,   R 0,   F1 0
]


def test_score_corpus_macro_micro(lemma_key):
    summary = score_corpus(CORPUS, lemma_key=lemma_key)
    e = summary.exact
    assert (e.macro_p, e.macro_r, e.macro_f1) == pytest.approx((0.25, 0.5, 1 / 3))
    assert (e.micro_p, e.micro_r, e.micro_f1) == pytest.approx((1 / 3, 0.5, 0.4))
    assert summary.lemma == summary.exact
    assert summary.n_docs == 3
    assert (summary.pred_per_doc, summary.gold_per_doc) == pytest.approx((2, 4 / 3))
    assert summary.k is None


def test_score_corpus_at_k(lemma_key):
    summary = score_corpus(CORPUS, k=1, lemma_key=lemma_key)
    e = summary.exact
    # docs: [a] vs [a] -> 1, 1, 1; [c] vs [c, x] -> 1, 1/2, 2/3; [] vs [y] -> 0
    assert (e.macro_p, e.macro_r, e.macro_f1) == pytest.approx((2 / 3, 0.5, 5 / 9))
    assert (e.micro_p, e.micro_r, e.micro_f1) == pytest.approx((1, 0.5, 2 / 3))
    assert summary.pred_per_doc == pytest.approx(2 / 3)
    assert summary.k == 1


def test_score_corpus_lemma(lemma_key):
    pairs = [(['транспортной инфраструктуры', 'Москва'], ['Транспортная инфраструктура']),
             (['Москва'], ['москва'])]
    summary = score_corpus(pairs, lemma_key=lemma_key)
    assert (summary.exact.macro_p, summary.exact.macro_f1) == pytest.approx((0.5, 0.5))
    # lemma: doc 1 P 1/2, R 1, F1 2/3; doc 2 all 1
    assert summary.lemma.macro_f1 == pytest.approx((2 / 3 + 1) / 2)
    assert summary.lemma.micro_p == pytest.approx(2 / 3)
    assert summary.lemma.micro_r == pytest.approx(1)


def test_summarize_empty():
    summary = summarize([])
    assert summary.n_docs == 0
    assert summary.exact.macro_f1 == 0 and summary.pred_per_doc == 0


def test_format_table(lemma_key):
    text = format_table(score_corpus(CORPUS, lemma_key=lemma_key), docs_per_sec=12.5)
    lines = text.splitlines()
    assert lines[1].split() == ['exact', '0.250', '0.500', '0.333', '0.333', '0.500', '0.400']
    assert lines[2].split()[0] == 'lemma'
    assert 'docs: 3' in text and 'docs/s: 12.5' in text and 'gold 1.33' in text
    assert 'exact@1' in format_table(score_corpus(CORPUS, k=1, lemma_key=lemma_key))


# ---------------------------------------------------------------- gold readers

JSONL_LINES = [
    json.dumps({'id': 'd1', 'title': 'T1', 'text': 'Текст 1', 'tags': ['a', 'b']},
               ensure_ascii=False),
    '{"id": "broken", "text": ',
    '',
    json.dumps({'id': 'd4', 'title': 'T4', 'text': 'Текст 4'}, ensure_ascii=False),
    json.dumps({'id': 'd5', 'tags': ['x']}),
    json.dumps({'id': 'd6', 'title': 'T6', 'text': 'Текст 6', 'tags': []}, ensure_ascii=False),
    '[1, 2]',
    json.dumps({'id': 'd8', 'text': 'Текст 8', 'tags': 'a'}, ensure_ascii=False),
]


@pytest.mark.parametrize('name', ['gold.jsonl', 'gold.jsonl.gz'])
def test_read_gold_jsonl(tmp_path, name):
    path = tmp_path / name
    data = ('\n'.join(JSONL_LINES) + '\n').encode('utf-8')
    path.write_bytes(gzip.compress(data) if name.endswith('.gz') else data)
    items = list(read_gold(path))
    records = [item for item in items if isinstance(item, GoldRecord)]
    errors = [item for item in items if isinstance(item, GoldError)]
    assert [(r.id, r.line, r.title, r.text, r.tags) for r in records] == [
        ('d1', 1, 'T1', 'Текст 1', ['a', 'b']), ('d6', 6, 'T6', 'Текст 6', [])]
    assert [e.line for e in errors] == [2, 4, 5, 7, 8]
    assert 'tags' in errors[1].message and 'text' in errors[2].message
    assert all(e.source == str(path) for e in errors)
    assert str(errors[0]).startswith(f'{path}:2: ')


def test_read_gold_truncated_gz(tmp_path):
    path = tmp_path / 'cut.jsonl.gz'
    whole = gzip.compress(('\n'.join([JSONL_LINES[0]] * 3000) + '\n').encode())
    path.write_bytes(whole[:len(whole) // 2])
    items = list(read_gold(path))
    assert isinstance(items[0], GoldRecord)
    assert isinstance(items[-1], GoldError)


SEED = ('Заголовок статьи\n\n27 июля 2023, 10:06\nТекст <b>статьи</b>.\n\n'
        '#Спорт #Алексей Логвиненко #Ростов-на-Дону\nПодпишитесь\n')


def test_read_gold_txt(tmp_path):
    (tmp_path / '1.txt').write_text(SEED, encoding='utf-8')
    (tmp_path / '2.txt').write_text('Без тегов\nПросто текст.\n', encoding='utf-8')
    (tmp_path / 'skip.md').write_text(SEED, encoding='utf-8')
    items = list(read_gold(tmp_path))
    assert [type(item) for item in items] == [GoldRecord, GoldError]
    record = items[0]
    assert record.id == '1.txt' and record.title == 'Заголовок статьи'
    assert record.tags == ['Спорт', 'Алексей Логвиненко', 'Ростов-на-Дону']
    assert record.text == 'Заголовок статьи\n\n27 июля 2023, 10:06\nТекст <b>статьи</b>.'
    assert items[1].source.endswith('2.txt')
    assert list(read_gold(tmp_path / '1.txt')) == [record]


def test_read_gold_unknown(tmp_path):
    with pytest.raises(ValueError):
        list(read_gold(tmp_path / 'gold.csv'))


# ---------------------------------------------------------------- parse_article

LONG_TAGS = ('#Спорт #Департамент внешнеэкономических и международных связей Москвы '
             '#Всероссийская ассоциация развития местного самоуправления #Город Лусака')
PROSE_HASH = '#МыВместе — акция стартовала в Москве, волонтеры помогают пожилым людям'
ARTICLES = [
    # raw -> title, text, tags, footer
    (SEED, 'Заголовок статьи',
     'Заголовок статьи\n\n27 июля 2023, 10:06\nТекст <b>статьи</b>.',
     ['Спорт', 'Алексей Логвиненко', 'Ростов-на-Дону'], 'Подпишитесь'),
    ('Заголовок\nТекст.\n#a #b c', 'Заголовок', 'Заголовок\nТекст.', ['a', 'b c'], ''),
    ('Заголовок\r\nТекст.\r\n\r\n#a  #b\r\n', 'Заголовок', 'Заголовок\r\nТекст.', ['a', 'b'], ''),
    ('Заголовок\nТекст.\n' + LONG_TAGS + '\nРеклама\n\n', 'Заголовок', 'Заголовок\nТекст.',
     ['Спорт', 'Департамент внешнеэкономических и международных связей Москвы',
      'Всероссийская ассоциация развития местного самоуправления', 'Город Лусака'], 'Реклама'),
    ('Заголовок\nТекст.\n\nПодпишитесь на нас\n', 'Заголовок', 'Заголовок\nТекст.', [],
     'Подпишитесь на нас'),
    # unchanged: plain text, a short last line, hashtags not at the end, prose after '#'
    ('\n  Заголовок\n\nПросто текст.\n', 'Заголовок', '\n  Заголовок\n\nПросто текст.\n', [], ''),
    ('Заголовок\nТекст.\nКонец.', 'Заголовок', 'Заголовок\nТекст.\nКонец.', [], ''),
    ('Заголовок\n#a #b\n' + 'Длинный абзац. ' * 6, 'Заголовок',
     'Заголовок\n#a #b\n' + 'Длинный абзац. ' * 6, [], ''),
    ('Заголовок\n' + PROSE_HASH, 'Заголовок', 'Заголовок\n' + PROSE_HASH, [], ''),
    ('#a #b', '#a #b', '#a #b', [], ''),
    ('Подпишитесь', 'Подпишитесь', 'Подпишитесь', [], ''),
    ('', '', '', [], ''),
]


@pytest.mark.parametrize('raw, title, text, tags, footer', ARTICLES)
def test_parse_article(raw, title, text, tags, footer):
    article = parse_article(raw)
    assert (article.title, article.text, article.tags, article.footer) == (title, text, tags, footer)


def seed_dirs():
    env = os.environ.get('EXTRACTOR_DATASETS')
    for base in ([Path(env)] if env else []) + [ROOT.parent / 'shared' / 'datasets',
                                                 Path('/work/shared/datasets')]:
        if (base / 'seed').is_dir():
            return [base / 'seed']
    return []


@pytest.mark.skipif(not seed_dirs(), reason='no shared seed articles here')
def test_seed_scores_one_against_itself(lemma_key):
    records = [item for item in read_gold(seed_dirs()[0])]
    assert records and all(isinstance(r, GoldRecord) for r in records)
    assert all('#' not in r.text.splitlines()[-1] for r in records)
    summary = score_corpus([(r.tags, r.tags) for r in records], lemma_key=lemma_key)
    assert summary.exact.macro_f1 == 1 and summary.lemma.micro_f1 == 1


# ---------------------------------------------------------------- report

def test_write_report(tmp_path, lemma_key):
    import pandas as pd

    pairs = {'doc<1>': (['ООН', 'транспортной инфраструктуры', 'Сирия'],
                        ['оон', 'Транспортная инфраструктура', 'сша']),
             'doc-2': ([], ['Москва'])}
    rows = [Row(id, pred, gold, score_document(pred, gold, lemma_key))
            for id, (pred, gold) in pairs.items()]
    summary = summarize(row.score for row in rows)
    text = 'В ООН заявили: <b>Москва</b> & Сирия'
    docs = {'doc<1>': Doc(text=text, id='doc<1>', entities=[
        Entity(2, 5, 'ORG', 'ООН'), Entity(18, 24, 'LOC', 'Москва'), Entity(19, 21, 'LOC', 'ос')])}
    errors = [GoldError(7, 'gold.jsonl', 'no "tags"')]
    write_report(tmp_path / 'out', rows, summary, docs=docs, errors=errors)

    table = pd.read_csv(tmp_path / 'out' / 'documents.csv', keep_default_na=False)
    assert list(table['id']) == ['doc<1>', 'doc-2']
    first = table.iloc[0]
    assert (first['n_pred'], first['n_gold'], first['n_exact'], first['n_lemma']) == (3, 3, 1, 2)
    assert first['f1_lemma'] == pytest.approx(2 / 3)
    assert first['matched'] == 'оон | транспортной инфраструктуры ~ транспортная инфраструктура'
    assert (first['missed'], first['extra']) == ('сша', 'сирия')
    assert table.iloc[1]['f1_exact'] == 0

    data = json.loads((tmp_path / 'out' / 'summary.json').read_text(encoding='utf-8'))
    assert data['n_docs'] == 2 and data['skipped'] == 1
    assert data['skipped_messages'] == ['gold.jsonl:7: no "tags"']
    assert data['exact']['macro_f1'] == pytest.approx(summary.exact.macro_f1)

    page = (tmp_path / 'out' / 'report.html').read_text(encoding='utf-8')
    assert 'doc&lt;1&gt;' in page and 'doc-2' in page and 'doc<1>' not in page
    assert '&lt;b&gt;' in page and '<b>Москва' not in page and '&amp; Сирия' in page
    assert '>ООН<span' in page and '>Москва<span' in page  # entities boxed
    assert 'class="tag missed">сша<' in page and 'class="tag extra">Сирия<' in page
    assert 'class="tag lemma"' in page and 'class="tag exact">ООН<' in page  # as predicted
    assert 'no &quot;tags&quot;' in page


def test_write_report_caps_html(tmp_path, lemma_key):
    rows = [Row(f'id{i}', ['a'], ['a'], score_document(['a'], ['a'], lemma_key))
            for i in range(205)]
    write_report(tmp_path, rows, summarize(row.score for row in rows))
    page = (tmp_path / 'report.html').read_text(encoding='utf-8')
    assert '<h3>id199</h3>' in page and '<h3>id200</h3>' not in page  # equal F1: in order
    assert len((tmp_path / 'documents.csv').read_text().splitlines()) == 206


class Cells(HTMLParser):
    """The report's tags and tables, read as a browser would: (class, text) and rows of cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.headings: list[str] = []
        self.stack: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        css = dict(attrs).get('class') or ''
        self.stack.append((tag, css))
        if tag == 'table':
            self.table = self.tables.setdefault(css, [])
        elif tag == 'tr':
            self.table.append([])
        elif tag == 'span' and css.startswith('tag '):
            self.tags.append((css[4:], ''))
        elif tag == 'h3':
            self.headings.append('')

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        inside = [tag for tag, _ in self.stack]
        if 'td' in inside or 'th' in inside:
            cell = self.table[-1]
            if self.stack[-1][0] in ('td', 'th'):
                cell.append(data)
        if any(tag == 'span' and css.startswith('tag ') for tag, css in self.stack) and \
                not any(css == 'gold-form' for _, css in self.stack):
            css, text = self.tags[-1]
            self.tags[-1] = (css, text + data)
        if self.stack and self.stack[-1][0] == 'h3':
            self.headings[-1] += data


def read_report(path: Path) -> tuple[str, Cells]:
    page = (path / 'report.html').read_text(encoding='utf-8')
    cells = Cells()
    cells.feed(page)
    return page, cells


def svgs(page: str) -> list:
    """Every inline SVG of the page, parsed as XML (a malformed one raises)."""
    import re
    import xml.etree.ElementTree as ET

    return [ET.fromstring(chunk) for chunk in re.findall(r'<svg\b.*?</svg>', page, re.S)]


def test_report_shows_tags_as_written_and_matches_them_by_key(tmp_path, lemma_key):
    pred = ['Андрей Королёв', '«Ростов»', 'транспортной инфраструктуры', 'Сирия']
    gold = ['андрей королев', 'Ростов', 'Транспортная инфраструктура', 'Артём Ткаченко']
    rows = [Row('a', pred, gold, score_document(pred, gold, lemma_key))]
    write_report(tmp_path, rows, summarize(row.score for row in rows))
    page, cells = read_report(tmp_path)
    assert cells.tags[-5:] == [  # the legend's samples come first
        ('exact', 'Андрей Королёв'), ('exact', '«Ростов»'),
        ('lemma', 'транспортной инфраструктуры'), ('extra', 'Сирия'), ('missed', 'Артём Ткаченко')]
    assert '≈ Транспортная инфраструктура' in page  # the gold form beside its lemma pair
    assert 'андрей королев' not in page and 'артем' not in page.lower()
    assert 'matched 2 exactly + 1 by lemma only; 1 not in gold, 1 missed' in page


def test_report_legend_charts_and_the_worst_article_first(tmp_path, lemma_key):
    pairs = {'good': (['Москва', 'Сбербанк'], ['Москва', 'Сбербанк']),
             'bad': (['Лондон'], ['Париж']),
             'mid': (['Москва', 'Путин'], ['Москва', 'Владимир Путин', 'Экономика', 'ключевая ставка'])}
    rows = [Row(id, pred, gold, score_document(pred, gold, lemma_key)) for id, (pred, gold) in pairs.items()]
    kinds = {'Москва': 'LOC', 'Сбербанк': 'ORG', 'Лондон': 'LOC', 'Путин': 'PER'}
    docs = {id: Doc(text='текст', id=id, tags=[Tag(tag, kinds[tag]) for tag in pred])
            for id, (pred, _) in pairs.items()}
    docs['mid'].entities = [Entity(0, 5, 'PER', 'Владимира Путина', 'Владимир Путин')]
    docs['mid'].phrases = [Phrase(0, 5, 'TOPIC', 'ключевую ставку', 'ключевая ставка')]
    write_report(tmp_path, rows, summarize(row.score for row in rows), docs=docs)
    page, cells = read_report(tmp_path)

    # the worst first: bad (F1 0), mid (0.5), good (1); the chart of the worst links to them
    assert cells.headings == ['bad', 'mid', 'good']
    assert page.index('id="doc-1"') < page.index('id="doc-2"') < page.index('id="doc-0"')
    charts = svgs(page)
    assert len(charts) == 3 and all(chart.find('title').text for chart in charts)
    worst = charts[2]
    assert [a.get('href') for a in worst.iter('a')] == ['#doc-1', '#doc-2', '#doc-0']
    spread = [r for r in charts[1].iter('rect') if r.find('title') is not None and float(r.get('height')) > 0]
    assert sorted(r.find('title').text for r in spread if 'exact' in r.find('title').text) == [
        'F1 exact 0.0–0.1: 1 article', 'F1 exact 0.3–0.4: 1 article', 'F1 exact 0.9–1.0: 1 article']

    # by kind: a missed gold tag takes the kind of a mention with its key, else "unmatched"
    table = {row[0]: row[1:] for row in cells.tables['kinds'][1:]}
    assert list(table) == ['PER', 'LOC', 'ORG', 'TOPIC', 'unmatched']
    assert table['LOC'][:5] == ['3', '2', '2 + 0', '0.667', '1.000']  # Москва twice; Лондон
    assert table['PER'][:4] == ['1', '1', '0 + 0', '0.000']   # Путин is not Владимир Путин
    assert table['TOPIC'][:5] == ['0', '1', '0 + 0', '—', '0.000']
    assert table['unmatched'][:2] == ['0', '2']  # Париж, Экономика: no tag nor mention has their key
    assert {kind for kind in ('PER', 'LOC', 'ORG') if f'>{kind} (' in page} == {'PER', 'LOC', 'ORG'}

    # the legend: every colour of the page is explained, and "matched N + M" in words
    legend = page[page.index('<dl class="legend">'):page.index('</dl>')]
    for css in ('exact', 'lemma', 'extra', 'missed'):
        assert f'class="tag {css}"' in legend
    for kind in ('PER', 'LOC', 'ORG'):
        assert f'ent-{kind}' in legend
    assert 'unmatched' in legend and 'by lemma only' in legend


def test_report_without_docs_says_why_there_is_no_chart_by_kind(tmp_path, lemma_key):
    rows = [Row('a', ['Москва'], ['Москва'], score_document(['Москва'], ['Москва'], lemma_key))]
    write_report(tmp_path, rows, summarize(row.score for row in rows))
    page, cells = read_report(tmp_path)
    assert len(svgs(page)) == 2 and 'kinds' not in cells.tables
    assert 'Not available' in page and '--pred' in page


def test_eval_report_k_reaches_summary_json(tmp_path, lemma_key):
    import cli

    gold = tmp_path / 'gold.jsonl'
    pred = tmp_path / 'pred.jsonl'
    items = {'1': (['Москва', 'Путин', 'Сбербанк'], ['Сбербанк', 'Москва']),
             '2': (['Лондон', 'Париж'], ['Париж'])}
    gold.write_text(''.join(json.dumps({'id': id, 'text': 'текст', 'tags': g}, ensure_ascii=False) + '\n'
                            for id, (_, g) in items.items()), encoding='utf-8')
    pred.write_text(''.join(json.dumps({'id': id, 'tags': p}, ensure_ascii=False) + '\n'
                            for id, (p, _) in items.items()), encoding='utf-8')
    out = tmp_path / 'report'
    assert cli.main(['eval', str(gold), '--pred', str(pred), '--report', str(out), '--k', '1']) == 0
    data = json.loads((out / 'summary.json').read_text(encoding='utf-8'))
    assert data['k'] == 1
    at_1 = score_corpus([items[id] for id in items], k=1, lemma_key=lemma_key)
    everything = score_corpus([items[id] for id in items], lemma_key=lemma_key)
    assert data['at_k']['exact']['micro_p'] == pytest.approx(at_1.exact.micro_p) == 0.5
    assert data['exact']['micro_p'] == pytest.approx(everything.exact.micro_p) == 0.6
    assert '>exact@1<' in (out / 'report.html').read_text(encoding='utf-8')
