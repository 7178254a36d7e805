"""Hostile input: the tagger never crashes, never hangs, never loses a record (issue #8).

Property tests run a bounded number of examples (about a minute in all); the long run:

    EXTRACTOR_HYPOTHESIS_EXAMPLES=10000 python -m pytest -q tests/test_robust.py -k property

The nasty corpus is generated here, in code; ``--runslow`` adds the 10 MB article.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractor import Doc
from extractor.analysis import pipeline
from extractor.analysis.clean import clean_text
from extractor.engines.markup import looks_like_html, strip_html
from extractor.tags import MAX_TAG_CHARS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / 'samples'
EXAMPLES = int(os.environ.get('EXTRACTOR_HYPOTHESIS_EXAMPLES') or 40)
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])
# Hang guards, not speed tests: generous enough for a loaded 2-core machine.
EXAMPLE_SECONDS = 60  # one example (tagged twice) must take less
DOC_SECONDS = 120  # one nasty document (but the 10 MB one) must take less

# ---------------------------------------------------------------- invariants


def check_doc(doc: Doc, text: str) -> None:
    """Everything a caller relies on, whatever the input."""
    assert isinstance(doc, Doc)
    assert doc.error is None, doc.error
    assert doc.text == text
    size = len(text)
    for kind in ('tokens', 'sentences', 'entities', 'phrases'):
        for span in getattr(doc, kind):
            assert 0 <= span.start <= span.stop <= size, (kind, span)
            assert text[span.start:span.stop] == span.text, (kind, span)
    for token in doc.tokens:
        assert token.start < token.stop, token
    for sentence in doc.sentences:
        assert sentence.tokens, sentence
        for index in sentence.tokens:
            token = doc.tokens[index]
            assert sentence.start <= token.start <= token.stop <= sentence.stop, (sentence, token)
    for tag in doc.tags:
        assert isinstance(tag.text, str) and tag.text, tag
        assert tag.text == tag.text.strip(), tag
        assert len(tag.text.splitlines()) == 1, tag  # no '\n', nor any other line break
        assert clean_text(tag.text) == tag.text, tag  # no NUL, surrogate or control char
        assert not any(unicodedata.category(c) == 'Cf' for c in tag.text), tag  # nor a format one
        assert len(tag.text) <= MAX_TAG_CHARS, tag
        for start, stop in tag.mentions:
            assert 0 <= start < stop <= size, tag
    json.dumps(doc.as_json(), ensure_ascii=False)


# ---------------------------------------------------------------- strategies

WORDS = ('Путин', 'прибыл', 'в', 'Казань', 'Глава', 'Ростова-на-Дону', 'Алексей', 'Логвиненко',
         '«Газпром»', 'заявил', 'что', 'санкции', 'ЦБ', 'правительства', 'Москвы', 'мэр', 'США',
         'Сбербанк', 'выборы', 'губернатор', 'Санкт-Петербурга', 'ООН', 'iPhone', 'Kазань', 'Пyтин',
         '2024', '15:30', '5%', '.', ',', '!', '?', '—', '«', '»', '"', '(', ')', '*')
SPECIALS = ('\x00', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1c', '\x7f', '\x85', '\x9f',
            '\ud800', '\udbff', '\udc00', '\udfff', '\u0301', '\u0336', '\u0489', '\u200b', '\u200d',
            '\u200e', '\u202e', '\u2028', '\u2029', '\ufeff', '\ufffd', '\uffff', '\xa0', '\xad',
            '😀', '🇷🇺', '👨\u200d👩\u200d👧', '𝐊𝐚𝐳𝐚𝐧𝐬', '\U0010ffff', 'שלום', 'مرحبا', '中文',
            '\n', '\r\n', '\r', '\t', ' ', '  ', '\n\n', '<p>', '&laquo;', '-\n')
# Every code point, surrogates and controls included.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=200)
NEWS_TEXT = st.lists(st.one_of(st.sampled_from(WORDS).map(lambda w: w + ' '), st.sampled_from(WORDS),
                               st.sampled_from(SPECIALS), st.text(ANY_CHAR, max_size=6)),
                     max_size=60).map(''.join)
TEXTS = st.one_of(NEWS_TEXT, ANY_TEXT)


@pytest.fixture(scope='module')
def warm(tagger):
    """The models loaded before any example is timed."""
    tagger('Путин прибыл в Казань.')
    return tagger


@PROPERTY
@given(text=TEXTS)
def test_property_any_text_gives_a_sound_doc(warm, text):
    started = time.perf_counter()
    doc = warm(text)
    check_doc(doc, text)
    again = warm(text)
    assert again.as_json() == doc.as_json()  # the same input, the same output
    assert time.perf_counter() - started < EXAMPLE_SECONDS


@PROPERTY
@given(items=st.lists(st.one_of(TEXTS, st.tuples(st.text(max_size=5), TEXTS)), max_size=6))
def test_property_pipe_loses_no_record(warm, items):
    docs = list(warm.pipe(items + [None], batch_size=4, errors='yield'))
    assert len(docs) == len(items) + 1
    for item, doc in zip(items, docs):
        text = item[1] if isinstance(item, tuple) else item
        assert doc.id == (item[0] if isinstance(item, tuple) else None)
        check_doc(doc, text)
    assert docs[-1].error  # not a string: an error record, not a gap


@settings(max_examples=EXAMPLES * 10, deadline=None, database=None)
@given(text=st.one_of(ANY_TEXT, NEWS_TEXT))
def test_property_clean_text_keeps_offsets(text):
    cleaned = clean_text(text)
    assert len(cleaned) == len(text)
    assert clean_text(cleaned) == cleaned
    cleaned.encode('utf-8')  # no lone surrogate left
    assert all(ord(c) <= 0xFFFF for c in cleaned)
    assert not re.search('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]', cleaned)
    for a, b in zip(text, cleaned):
        assert a == b or b in ' \n'
    if text == cleaned:
        assert clean_text(text) is text  # nothing to do: no copy


@settings(max_examples=EXAMPLES * 10, deadline=None, database=None)
@given(text=st.lists(st.one_of(st.sampled_from(('<p>', '</p>', '<script>', '</script>', '<br/>',
                                                '<div class="a">', '</div>', '<!--', '-->', '&amp;',
                                                '&laquo;', '&#0;', '<', '>', '&')),
                               st.sampled_from(WORDS), ANY_TEXT), max_size=30).map(''.join))
def test_property_strip_html_never_raises(text):
    assert isinstance(strip_html(text), str)
    assert isinstance(looks_like_html(text), bool)


def test_clean_text_examples():
    assert clean_text('a\x00b\ud800c😀d\x1ce\x85f\u2028g\x7f\t\r\n') == 'a b c d\ne\nf\ng \t\r\n'
    text = 'Путин прибыл в Казань.'
    assert clean_text(text) is text


# ---------------------------------------------------------------- the nasty corpus


def sample_text() -> str:
    return '\n'.join(p.read_text(encoding='utf-8') for p in sorted(SAMPLES.glob('*.txt')))


def article(size: int) -> str:
    base = sample_text()
    return (base * (size // len(base) + 1))[:size]


NEWS = 'Глава Ростова-на-Дону Алексей Логвиненко прибыл в Санкт-Петербург на заседание «Газпрома».'
HTML = '''<!DOCTYPE html><html><head><meta charset="utf-8"><title>Логвиненко прибыл в Петербург</title>
<style>.news { color: red } /* Сергей Шойгу */</style>
<script>var x = "<p>Сергей Шойгу встретился с Биньямином Нетаньяху</p>"; if (a < b && c > d) {}</script>
</head><body><nav><a href="/">Главная</a></nav>
<h1>Глава&nbsp;Ростова-на-Дону прибыл в&nbsp;Петербург</h1>
<p>Глава Ростова-на-Дону Алексей Логвиненко выступил на форуме &laquo;Газпрома&raquo; &mdash; об этом
сообщает пресс-служба администрации.<br>Встреча прошла в&nbsp;Санкт-Петербурге.</p>
<!-- <p>Скрытый комментарий про Шойгу</p> -->
<noscript>Включите JavaScript, Шойгу</noscript><p>Конец &#171;статьи&#187; &amp; подпись.</p>
</body></html>'''


def mojibake() -> dict[str, str]:
    raw = NEWS.encode('cp1251')
    return {'cp1251 as utf-8 (replace)': raw.decode('utf-8', 'replace'),
            'cp1251 as utf-8 (surrogateescape)': raw.decode('utf-8', 'surrogateescape'),
            'cp1251 as latin-1': raw.decode('latin-1'),
            'utf-8 as cp1251': NEWS.encode('utf-8').decode('cp1251', 'replace')}


NASTY = {
    'empty': lambda: '',
    'whitespace only': lambda: ' \n\t\r\n \xa0\u3000 ',
    'one letter': lambda: 'я',
    'one dot': lambda: '.',
    'one emoji': lambda: '😀',
    'one surrogate': lambda: '\udc80',
    'one NUL': lambda: '\x00',
    'punctuation only': lambda: '«»"!?.,;:—*()[]{}' * 200,
    'digits only': lambda: '1 234 567,89 ₽ 12:30 2024-01-01 +7 (495) 123-45-67 ' * 50,
    'token of 10,000 letters': lambda: 'Путин ' + 'ж' * 10_000 + ' прибыл в Казань.',
    'token of 10,000 letters alone': lambda: 'Ж' * 10_000,
    'NUL bytes': lambda: NEWS.replace(' ', '\x00 ', 3) + '\x00' * 100,
    'C0 and C1 controls': lambda: ''.join(map(chr, range(32))) + NEWS + ''.join(map(chr, range(127, 160))),
    'lone surrogates': lambda: 'Мама пут\ud800ина и Ка\udfffзань. ' + NEWS + ' \udc00\udbff',
    'emoji and astral': lambda: '😀 ' + NEWS.replace(' ', ' 🇷🇺 ', 4) + ' 𝐊𝐚𝐳𝐚𝐧𝐬 👨\u200d👩\u200d👧 \U0010ffff',
    'combining marks': lambda: 'Пу\u0301тин К̷̢а̸з̵а̶н̴ь̷ ' + NEWS + '\u0301\u0301',
    'RTL and bidi controls': lambda: 'שלום \u202e' + NEWS + '\u202c مرحبا \u200f',
    'mixed Latin and Cyrillic': lambda: 'Пyтин пpибыл в Kазань. Moscow Москва ООН UN Сбер-Bank.',
    'zero-width and soft hyphens': lambda: NEWS.replace('о', 'о\u200b').replace('а', 'а\xad'),
    'HTML page, unstripped': lambda: HTML,
    'broken lines': lambda: '\n'.join(textwrap.wrap(NEWS * 5, 11, break_long_words=True)),
    'one word per line, CR only': lambda: '\r'.join(NEWS.split() * 20),
    'CRLF and form feeds': lambda: (NEWS + '\r\n\x0c').join(['', '', '']) * 10,
    'unicode line separators': lambda: NEWS.replace(' ', '\u2028', 3) + '\u2029' + NEWS,
    'no full stop in 5,000 words': lambda: ' '.join(re.sub(r'[.!?]', ' ', sample_text()).split()[:5000]),
    'thousands of tiny sentences': lambda: 'Да. Нет! ' * 2000,
    'BOM and noncharacters': lambda: '\ufeff' + NEWS + '\ufffe\uffff\ufdd0',
    'private use': lambda: '\ue000\uf8ff ' + NEWS,
    'format characters in names': lambda: NEWS.replace('Алексей', 'Алексей\u202e').replace(
        'Логвиненко', '\u2066Логвиненко\u2069').replace('Газпрома', '\ufeffГаз\u200dпрома\u200e'),
    'a 100,000-letter name': lambda: 'Компания ' + 'Ж' * 100_000 + ' открыла офис в Казани.',
    **{name: (lambda text=text: text) for name, text in mojibake().items()},
}


@pytest.mark.parametrize('name', sorted(NASTY))
def test_nasty_document(warm, name):
    text = NASTY[name]()
    started = time.perf_counter()
    doc = warm(text)
    seconds = time.perf_counter() - started
    check_doc(doc, text)
    assert seconds < DOC_SECONDS, f'{name}: {seconds:.1f} s'


def test_nasty_corpus_in_one_pipe_loses_nothing(warm):
    names = [n for n in sorted(NASTY) if len(NASTY[n]()) < 20_000]
    items = [(name, NASTY[name]()) for name in names]
    docs = list(warm.pipe(items, batch_size=8, errors='yield'))
    assert [d.id for d in docs] == names
    for (name, text), doc in zip(items, docs):
        check_doc(doc, text)


def test_junk_inside_a_word_is_masked_not_fatal(warm):
    # pymorphy3 cannot look up a word holding a lone surrogate (UnicodeEncodeError).
    text = 'Губернатор пут\ud800ина и мэр Ка\udfffзани подписали соглашение.'
    doc = warm(text)
    check_doc(doc, text)
    assert any(t.text == 'Губернатор' for t in doc.tokens)


def test_batch_writes_records_holding_lone_surrogates(warm, tmp_path):
    # JSON may escape a lone surrogate ("\ud800"); json.loads gives it back as is, and the
    # entity texts, sliced from the caller's text, carry it into the output record.
    from extractor.engines.batch import run_batch

    source = tmp_path / 'in.jsonl'
    rows = [{'id': 'junk', 'text': 'Губернатор Санкт-Петер\udfffбурга Александр Бег\ud800лов заявил.'},
            {'id': 'plain', 'text': NEWS}]
    source.write_text(''.join(json.dumps(r) + '\n' for r in rows), encoding='ascii')
    out = tmp_path / 'out.jsonl'
    summary = run_batch([source], out, jobs=1, tagger_factory=lambda profile: warm, progress=False)
    records = [json.loads(line) for line in out.read_text(encoding='utf-8').splitlines()]
    assert [r['id'] for r in records] == ['junk', 'plain'], records
    assert all('error' not in r for r in records), records
    assert summary.tagged == 2


def test_normalize_survives_junk(warm):
    text = 'Встреча с Пут\ud800иным прошла в Казани.'
    assert isinstance(warm.normalize(text, 10, 18), str)


def test_html_tags_come_from_visible_text_only(warm):
    assert looks_like_html(HTML)
    text = strip_html(HTML)
    assert '&laquo;' not in text and '«Газпрома»' in text and '«статьи» & подпись' in text
    assert 'Шойгу' not in text and 'color' not in text and 'var x' not in text
    assert 'Логвиненко прибыл в Петербург' in text.splitlines()[0]  # the <title>
    assert 'Глава Ростова-на-Дону прибыл в Петербург' in text.splitlines()  # &nbsp; -> space
    doc = warm(text)
    check_doc(doc, text)
    assert doc.tags
    assert not any('Шойгу' in t.text or 'Нетаньяху' in t.text for t in doc.tags)


@pytest.mark.parametrize('text', [NEWS, 'a < b, но c > d.', 'Цена <100 руб.>', sample_text()[:3000]])
def test_plain_text_does_not_look_like_html(text):
    assert not looks_like_html(text)


def test_strip_html_fragments():
    assert strip_html('Пу<b>тин</b> прибыл<br>в Казань') == 'Путин прибыл\nв Казань'
    assert strip_html('<p>один</p><p>два</p>') == 'один\n\nдва'
    assert strip_html('<ul><li>а<li>б</ul>') == 'а\nб'
    assert strip_html('до<script>никогда') == 'до'  # an unclosed script hides the rest
    assert strip_html('<iframe>скрыто</body>видно') == 'видно'
    assert 'a  b' in strip_html('<pre>a  b\n c</pre>')  # spacing kept in <pre>
    assert strip_html('') == ''


# ---------------------------------------------------------------- long documents


def test_long_document_in_windows_matches_whole(warm, monkeypatch):
    text = article(12_000)
    whole = warm(text)
    monkeypatch.setattr(pipeline, 'LONG', 1_000)
    monkeypatch.setattr(pipeline, 'WINDOW', 7)
    windowed = warm(text)
    check_doc(windowed, text)
    assert [(t.start, t.stop) for t in windowed.tokens] == [(t.start, t.stop) for t in whole.tokens]
    assert [(s.start, s.stop, s.tokens) for s in windowed.sentences] == \
        [(s.start, s.stop, s.tokens) for s in whole.sentences]
    assert [(e.start, e.stop, e.type) for e in windowed.entities] == \
        [(e.start, e.stop, e.type) for e in whole.entities]
    assert windowed.tags


def test_overlong_document_is_cut_and_says_so(warm, monkeypatch, caplog):
    text = article(30_000)
    monkeypatch.setattr(pipeline, 'LONG', 1_000)
    monkeypatch.setattr(pipeline, 'MAX_CHARS', 5_000)  # as the analysis reads it
    with caplog.at_level(logging.WARNING, logger='extractor.analysis.pipeline'):
        doc = warm(text)
    check_doc(doc, text)
    assert doc.tokens and doc.tokens[-1].stop <= 5_000
    assert 'only the first' in caplog.text


def test_overlong_sentence_is_split(warm):
    text = ' '.join(['слово'] * 1000)
    doc = warm(text)
    check_doc(doc, text)
    assert len(doc.sentences) >= 1000 // 300
    assert max(len(s.tokens) for s in doc.sentences) <= 300


def cpu_seconds(function, *args) -> float:
    started = time.process_time()
    function(*args)
    return time.process_time() - started


def growth(function, make, small: int, factor: int = 8) -> float:
    """CPU time of ``function(make(small * factor))`` over that of ``function(make(small))``,
    (the small one best of three): about ``factor`` when linear, ``factor ** 2`` when quadratic."""
    one = min(cpu_seconds(function, make(small)) for _ in range(3))
    many = cpu_seconds(function, make(small * factor))
    return many / max(one, 1e-3)


def test_sentences_are_razdels():
    from razdel import sentenize

    from extractor.analysis.segment import sentences

    for text in [sample_text(), '!' * 1000, 'Да. Нет! ' * 50, 'а.' * 300, *(f() for f in NASTY.values())]:
        assert [(s.start, s.stop, s.text) for s in sentences(text)] == \
            [(s.start, s.stop, s.text) for s in sentenize(text)]


def test_segmenting_a_run_of_punctuation_takes_linear_time():
    # razdel's sentenize and the token buffer grew a run of '!' by copying it once per mark:
    # '!' * 1_000_000 took a minute, most of it copying
    from extractor.analysis.segment import segment

    ratio = growth(lambda text: segment(Doc(text)), lambda n: '!' * n, 50_000, 10)
    assert ratio < 15, ratio


def test_kind_forms_take_linear_time():
    # islice(doc.tokens, first) walked every token before each place: entities x tokens
    from extractor.analysis.morph import Vocab
    from extractor.analysis.phrases import kind_forms
    from extractor.doc import Entity, Token

    def doc(n: int) -> Doc:
        text = 'Москва ' * n
        return Doc(text, tokens=[Token(7 * i, 7 * i + 6, 'Москва', 'москва', 'PROPN') for i in range(n)],
                   entities=[Entity(7 * i, 7 * i + 6, 'LOC', 'Москва', 'Москва') for i in range(n)])

    vocab = Vocab()
    ratio = growth(lambda d: list(kind_forms(d, vocab)), doc, 5_000)
    assert ratio < 20, ratio


TEN_MB = '''
import json, resource, sys, time
from pathlib import Path
from extractor import Tagger
tagger = Tagger()
tagger('Путин прибыл в Казань.')
base = '\\n'.join(p.read_text(encoding='utf-8') for p in sorted(Path('samples').glob('*.txt')))
text = (base * (10_000_000 // len(base) + 1))[:10_000_000]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
doc = tagger(text)
seconds = time.perf_counter() - started
growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
ok = doc.error is None and all(text[x.start:x.stop] == x.text
                               for x in doc.tokens + doc.sentences + doc.entities + doc.phrases)
print(json.dumps({'mb': growth, 'seconds': seconds, 'ok': ok, 'tags': [t.text for t in doc.tags],
                  'tokens': len(doc.tokens)}))
'''
TEN_MB_RSS_GROWTH_MB = 600  # measured: about 175 MB (1 MB tagged, windows of 1,000 sentences)


@pytest.mark.slow
def test_ten_megabyte_article_in_bounded_memory():
    result = subprocess.run([sys.executable, '-c', TEN_MB], capture_output=True, text=True, cwd=ROOT,
                            timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report['ok'] and report['tags'] and report['tokens']
    assert report['mb'] < TEN_MB_RSS_GROWTH_MB, report


DENSE = '''
import json, resource, sys, time
from extractor import Tagger
tagger = Tagger()
tagger('Путин прибыл в Казань.')
with open('/proc/self/status') as status:
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith('VmSize:'))
cap = size + (1 << 30)  # the models loaded, and 1 GB more
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
names = ('Алексей Логвиненко', 'Москва', 'Санкт-Петербург', '«Газпром»', 'Владимир Путин',
         'Ростов-на-Дону', 'Сбербанк', 'ООН', 'Казань', 'Сергей Шойгу', 'Волгоград', 'Зенит')
size = int(sys.argv[1])
texts = {'names': ', '.join(names * (size // 150 + 1))[:size],
         'one name': 'Москва ' * (size // 7)}
report = {}
for name, text in texts.items():
    started = time.perf_counter()
    doc = tagger(text)
    report[name] = {'seconds': round(time.perf_counter() - started, 1), 'error': doc.error,
                    'tags': [t.text for t in doc.tags], 'entities': len(doc.entities)}
print(json.dumps(report, ensure_ascii=False))
'''


def dense_entities(size: int) -> dict:
    """Tag ``size`` characters of names, and of one name repeated, in a subprocess whose
    address space is capped at the loaded models plus 1 GB: a blow-up fails there, with
    MemoryError, and never takes the machine down."""
    env = {**os.environ, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}
    result = subprocess.run([sys.executable, '-c', DENSE, str(size)], capture_output=True, text=True,
                            cwd=ROOT, timeout=1800, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for name, figures in report.items():
        assert figures['error'] is None, (name, figures)
        assert figures['tags'] and figures['entities'] > size // 20, (name, figures)
    return report


def test_dense_entities_in_bounded_memory():
    dense_entities(300_000)


@pytest.mark.slow
def test_a_megabyte_of_names_in_bounded_memory():
    # before: mentions x entities arrays, 6.5 GB for 1 MB of names, 23 GB and more for one name
    dense_entities(1_000_000)


# ---------------------------------------------------------------- nothing executes user data

UNSAFE = re.compile(r'pickle\.loads?\(|cPickle|marshal\.loads?\(|shelve\.open|joblib\.load|torch\.load'
                    r'|dill\.|(?<![\w.])eval\(|(?<![\w.])exec\(|yaml\.(?:unsafe_|full_)?load\('
                    r'|allow_pickle\s*=\s*True')


def test_nothing_executes_or_unpickles_user_data():
    sources = sorted((ROOT / 'extractor').rglob('*.py')) + [ROOT / 'cli.py']
    found = [f'{path.relative_to(ROOT)}:{number}: {line.strip()}'
             for path in sources
             for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1)
             if UNSAFE.search(line)]
    assert not found, found
    for path in sources:  # np.load only with allow_pickle=False, spelled out
        for line in path.read_text(encoding='utf-8').splitlines():
            if re.search(r'\b(?:np|numpy)\.load\(', line):
                assert 'allow_pickle=False' in line, f'{path}: {line.strip()}'


# ---------------------------------------------------------------- the command line under faults


def cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / 'cli.py'), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_clean_failure(result: subprocess.CompletedProcess, name: str) -> None:
    """A non-zero status and one clear line naming ``name`` on stderr; no traceback."""
    assert result.returncode != 0, result
    assert 'Traceback' not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if name in line]
    assert lines, result.stderr
    assert all(len(line) < 400 for line in lines), lines


def test_cli_tag_missing_file(tmp_path):
    path = tmp_path / 'нет такого.txt'
    assert_clean_failure(cli('tag', str(path)), str(path))


def test_cli_tag_directory(tmp_path):
    assert_clean_failure(cli('tag', str(tmp_path)), str(tmp_path))


@pytest.mark.skipif(not hasattr(os, 'geteuid') or os.geteuid() == 0,
                    reason='running as root: chmod 000 does not stop root from reading')
def test_cli_tag_unreadable_file(tmp_path):
    path = tmp_path / 'secret.txt'
    path.write_text(NEWS, encoding='utf-8')
    path.chmod(0)
    try:
        assert_clean_failure(cli('tag', str(path)), str(path))
    finally:
        path.chmod(0o600)


@pytest.mark.skipif(not Path('/proc/self/mem').exists(), reason='needs Linux /proc')
def test_cli_tag_file_failing_to_read():
    # Reading /proc/self/mem from offset 0 fails with EIO, even for root.
    assert_clean_failure(cli('tag', '/proc/self/mem'), '/proc/self/mem')


def test_cli_tag_binary_junk(tmp_path):
    path = tmp_path / 'junk.txt'
    path.write_bytes(b'\xff\xfe\x00\x81' + os.urandom(2000))
    assert_clean_failure(cli('tag', str(path)), str(path))


def test_cli_tag_invalid_utf8_on_stdin():
    # A strict stdin (an ordinary UTF-8 locale) must not end in a UnicodeDecodeError traceback:
    # either a one-line error, or the text tagged with the bad bytes replaced.
    env = {**os.environ, 'PYTHONIOENCODING': 'utf-8:strict'}
    result = subprocess.run([sys.executable, str(ROOT / 'cli.py'), 'tag', '-'], cwd=ROOT, env=env,
                            input=NEWS.encode('cp1251') + b'\xff\xfe\x00', capture_output=True,
                            timeout=600)
    stderr = result.stderr.decode('utf-8', 'replace')
    assert 'Traceback' not in stderr, stderr
    if result.returncode:
        assert stderr.startswith('extractor: error:') and len(stderr.splitlines()) == 1, stderr


@pytest.fixture(scope='module')
def batch_input(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('batch') / 'in.jsonl'
    path.write_text(json.dumps({'id': '1', 'text': NEWS}, ensure_ascii=False) + '\n', encoding='utf-8')
    return path


@pytest.mark.skipif(not Path('/dev/full').exists(), reason='needs /dev/full')
def test_cli_batch_disk_full(batch_input):
    assert_clean_failure(cli('batch', str(batch_input), '-o', '/dev/full'), '/dev/full')


def test_cli_batch_output_not_writable(batch_input):
    out = Path('/proc/extractor-test/tags.jsonl')  # not creatable, even by root
    assert_clean_failure(cli('batch', str(batch_input), '-o', str(out)), str(out.parent))


def test_cli_eval_truncated_gzip_reports_the_line_and_carries_on(tmp_path):
    rows = [{'id': str(i), 'title': 'Новости', 'text': f'{NEWS} Номер {i}.', 'tags': ['Алексей Логвиненко']}
            for i in range(400)]
    data = gzip.compress(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows).encode('utf-8'))
    gold = tmp_path / 'gold.jsonl.gz'
    gold.write_bytes(data[:len(data) // 2])
    pred = tmp_path / 'pred.jsonl'
    pred.write_text(''.join(json.dumps({'id': r['id'], 'tags': r['tags']}, ensure_ascii=False) + '\n'
                            for r in rows), encoding='utf-8')
    result = cli('eval', str(gold), '--pred', str(pred))
    assert_clean_failure(result, str(gold))
    assert re.search(re.escape(str(gold)) + r':\d+', result.stderr), result.stderr  # names the line
    assert 'F1' in result.stdout  # the records before the damage were scored
