"""The library as the README shows it: an article file read with ``read_article`` (gold line and
footer never tagged), a title given apart, ``top`` / ``least`` for one call."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractor import read_article
from extractor.article import join_title

SAMPLE = Path(__file__).resolve().parents[1] / 'samples' / '07_zambia_mfa_visit.txt'


def test_read_article_splits_off_the_gold_line_and_the_footer_in_any_encoding(tmp_path):
    raw = SAMPLE.read_text(encoding='utf-8')
    article = read_article(SAMPLE)
    assert article.tags and article.title == raw.splitlines()[0].strip()
    assert raw.startswith(article.text) and '#' not in article.text
    plain = raw.replace('—', '-').replace('«', '"').replace('»', '"')  # what koi8-r can hold
    for encoding in ('utf-8', 'cp1251', 'utf-16', 'koi8-r'):
        path = tmp_path / f'{encoding}.txt'
        path.write_bytes((plain + 'Подпишитесь на наш канал\n').encode(encoding))
        other = read_article(path)
        assert other.text == article.text.replace('—', '-').replace('«', '"').replace('»', '"')
        assert other.tags == article.tags
        assert other.footer.endswith('Подпишитесь на наш канал')
    page = tmp_path / 'page.html'
    page.write_text(f'<html><body><h1>{article.title}</h1><p>Текст статьи.</p></body></html>',
                    encoding='utf-8')
    assert read_article(page).title == article.title
    with pytest.raises(OSError):
        read_article(tmp_path / 'missing.txt')


def test_the_tagger_reads_what_read_article_gives_not_the_gold_line(tagger):
    """The README's way gives the CLI's tags; the file's raw text would have the gold line
    and the footer tagged too (tags with mentions there)."""
    from extractor.cli import read_input

    raw = SAMPLE.read_text(encoding='utf-8')
    article = read_article(SAMPLE)
    right = [t.text for t in tagger(article.text).tags]
    assert right == [t.text for t in tagger(read_input(str(SAMPLE))).tags]  # extractor tag
    wrong = tagger(raw).tags
    assert any(start >= len(article.text) for t in wrong for start, _ in t.mentions)


def test_title_top_and_least_for_one_call(tagger):
    article = read_article(SAMPLE)
    body = article.text[len(article.title):].lstrip()
    with_title = [t.text for t in tagger(body, title=article.title).tags]
    assert with_title == [t.text for t in tagger(join_title(article.title, body)).tags]
    assert with_title == [t.text for t in tagger(article.text).tags]
    assert [t.text for t in tagger(article.text, top=3).tags] == with_title[:3]
    more = [t.text for t in tagger(article.text, least=len(with_title) + 3).tags]
    assert len(more) == len(with_title) + 3 and more[:len(with_title)] == with_title
    assert tagger.top != 3 and tagger.least is None  # for that call only
    piped = list(tagger.pipe([('a', article.text)], top=2))
    assert [t.text for t in piped[0].tags] == with_title[:2] and piped[0].id == 'a'
