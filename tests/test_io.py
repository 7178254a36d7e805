"""Readers, decoding, writers and resume logic of the engines, with a fake tagger (fast)."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from extractor.engines import decode, readers, writers
from extractor.engines.records import Fields
from helpers import (FORMATS, datasets_dir, doc_key, feed_stdin, load_dev, read_jsonl, squash,
                     write_inputs, write_jsonl)


# ---------------------------------------------------------------------------- decoding

RUSSIAN = ('Глава администрации Ростова-на-Дону Алексей Логвиненко принял участие в деловой '
           'сессии. «Умные» города — это будущее, считает он. Ёлки и №5.')


@pytest.mark.parametrize('encoding', ['utf-8', 'utf-8-sig', 'utf-16', 'utf-16-le', 'utf-16-be',
                                      'cp1251', 'koi8-r'])
def test_decode_encodings(encoding):
    text = RUSSIAN
    if encoding == 'koi8-r':  # koi8-r has no «», — or №
        text = text.translate(str.maketrans('«»—№', '""-N'))
    assert decode.decode_bytes(text.encode(encoding)) == text


@pytest.mark.parametrize('encoding', ['cp1251', 'koi8-r'])
def test_decode_short_and_shouting(encoding):
    for text in ('Привет, мир', 'Путин прибыл в Москву.', 'ГЛАВА РОСТОВА Алексей Логвиненко'):
        assert decode.decode_bytes(text.encode(encoding)) == text


def test_decode_dev_documents():
    for doc in load_dev(20):
        text = doc['title'] + '\n' + doc['text']
        for encoding in ('cp1251', 'koi8-r', 'utf-16'):
            data = text.encode(encoding, errors='replace')
            assert decode.decode_bytes(data) == data.decode(encoding), (doc['id'], encoding)


@pytest.mark.parametrize('data', [
    bytes(range(256)) * 4,                          # binary
    b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' * 10,    # an image
    b'\x01\x02\x03\x04\x05\x06\x07\x08 abc' * 10,   # control characters
    b'\xef\xbb\xbf\xff\xfe broken',                # UTF-8 BOM, then invalid UTF-8
])
def test_decode_undecodable(data):
    with pytest.raises(UnicodeDecodeError) as caught:
        decode.decode_bytes(data)
    assert str(caught.value).startswith('cannot decode text:')


def test_decode_ascii_and_empty():
    assert decode.decode_bytes(b'plain ascii') == 'plain ascii'
    assert decode.decode_bytes(b'') == ''


# ---------------------------------------------------------------------------- readers

@pytest.fixture(scope='module')
def dev_inputs(tmp_path_factory) -> tuple[list[dict], dict[str, list[str]], Path]:
    docs = load_dev(20)
    folder = tmp_path_factory.mktemp('inputs')
    return docs, write_inputs(docs, folder), folder


@pytest.mark.parametrize('fmt', FORMATS)
def test_every_format_reads_the_same_documents(fmt, dev_inputs, monkeypatch):
    docs, inputs, folder = dev_inputs
    if fmt == 'stdin':
        feed_stdin(monkeypatch, (folder / 'docs.jsonl').read_bytes())
    records = list(readers.read_records(inputs[fmt]))
    if fmt == 'dir':  # a directory is read in path order: doc00, doc02, ..., sub/doc01, ...
        records.sort(key=lambda r: doc_key(r.id))
    assert [doc_key(r.id) for r in records] == [f'doc{i:02d}' for i in range(20)]
    assert all(r.error is None for r in records)
    for record, doc in zip(records, docs):
        assert squash(record.text) == squash(doc['title'] + '\n' + doc['text'])
    if fmt in ('dir', 'tar', 'tar.gz', 'zip'):
        assert records[1].id == 'sub/doc01.txt'
    if fmt in ('jsonl', 'csv', 'parquet', 'stdin'):
        assert records[0].id == 'doc00'


def test_ids_without_an_id_field(tmp_path, monkeypatch):
    rows = [{'text': f'Текст {i}'} for i in range(3)]
    path = write_jsonl(tmp_path / 'a.jsonl', rows)
    (tmp_path / 'a.csv').write_text('text\nпервый\nвторой\n', 'utf-8')
    assert [r.id for r in readers.read_records([path])] == ['a.jsonl:1', 'a.jsonl:2', 'a.jsonl:3']
    assert [r.id for r in readers.read_records([tmp_path / 'a.csv'])] == ['a.csv:1', 'a.csv:2']
    feed_stdin(monkeypatch, path.read_bytes())
    assert [r.id for r in readers.read_records(['-'])] == ['stdin:1', 'stdin:2', 'stdin:3']


def test_id_text_and_title_fields(tmp_path):
    path = write_jsonl(tmp_path / 'a.jsonl', [{'url': 'u1', 'body': 'Текст', 'head': 'Заголовок',
                                               'id': 'ignored'}])
    [record] = readers.read_records([path], Fields('url', 'body', 'head'))
    assert (record.id, record.text) == ('u1', 'Заголовок\nТекст')
    [record] = readers.read_records([path], Fields('url', 'body', None))
    assert record.text == 'Текст'


def test_bad_records_become_errors(tmp_path):
    lines = [
        json.dumps({'id': 'ok1', 'text': 'Хороший текст'}, ensure_ascii=False),
        '{"id": "broken", "text": ',
        json.dumps({'id': 'notext', 'body': 'x'}),
        json.dumps({'id': 'empty', 'text': '  \n'}),
        '[1, 2]',
        json.dumps({'id': 'number', 'text': 5}),
        '',
        json.dumps({'id': 'ok2', 'text': 'Ещё текст'}, ensure_ascii=False),
    ]
    path = tmp_path / 'bad.jsonl'
    latin = b'{"id": "latin", "text": "\xff"}\n'
    path.write_bytes(('\n'.join(lines) + '\n').encode('utf-8') + latin)
    records = list(readers.read_records([path]))
    got = {r.id: r.error for r in records}
    assert got['ok1'] is None and got['ok2'] is None
    assert got['bad.jsonl:2'].startswith('line 2: invalid JSON: ')
    assert got['notext'] == "line 3: missing text field 'text'"
    assert got['empty'] == 'empty text'
    assert got['bad.jsonl:5'] == 'line 5: not a JSON object'
    assert got['number'] == "line 6: text field 'text' is not a string"
    assert got['bad.jsonl:9'].startswith('line 9: invalid UTF-8')
    assert len(records) == 8  # the blank line is no record


def test_text_files_in_any_encoding(tmp_path):
    tree = tmp_path / 'tree'
    tree.mkdir()
    texts = {'a.txt': ('utf-8', RUSSIAN), 'b.txt': ('utf-8-sig', RUSSIAN),
             'c.txt': ('utf-16', RUSSIAN), 'd.txt': ('cp1251', RUSSIAN),
             'e.txt': ('koi8-r', 'Заголовок\nТекст статьи про Ростов-на-Дону и его мэра.')}
    for name, (encoding, text) in texts.items():
        (tree / name).write_bytes(text.encode(encoding))
    (tree / 'f.txt').write_bytes(bytes(range(256)))
    (tree / 'g.txt').write_bytes(b'   \n')
    (tree / 'skip.md').write_text('not a text file')
    records = {r.id: r for r in readers.read_records([tree])}
    assert sorted(records) == ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', 'f.txt', 'g.txt']
    for name, (_, text) in texts.items():
        assert records[name].text == text and records[name].error is None
    assert records['f.txt'].error.startswith('cannot decode text:')
    assert records['g.txt'].error == 'empty text'


def test_seed_article_drops_gold_tags(tmp_path):
    seed = datasets_dir() / 'seed'
    files = sorted(seed.glob('*.txt')) if seed.exists() else []
    if not files:
        pytest.skip(f'no seed articles in {seed}')
    try:
        import extractor.article  # noqa: F401
    except ImportError:
        pytest.skip('extractor.article is not there yet')
    [record] = readers.read_records([files[0]])
    assert record.id == str(files[0])
    assert '#' not in record.text.splitlines()[-1] and 'Подпишитесь' not in record.text


def test_broken_inputs_give_an_error_record_and_the_run_goes_on(tmp_path):
    rows = [{'id': f'd{i}', 'text': 'Текст ' * 2000 + str(i)} for i in range(50)]
    data = gzip.compress(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows).encode())
    (tmp_path / 'cut.jsonl.gz').write_bytes(data[:len(data) // 2])
    with tarfile.open(tmp_path / 'cut.tar.gz', 'w:gz') as archive:
        for i in range(20):
            data = os.urandom(5000).hex().encode()  # incompressible: the cut hits late members
            info = tarfile.TarInfo(f'{i}.txt')
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    data = (tmp_path / 'cut.tar.gz').read_bytes()
    (tmp_path / 'cut.tar.gz').write_bytes(data[:len(data) // 2])
    (tmp_path / 'cp1251.csv').write_bytes('id,text\na,Текст\n'.encode('cp1251'))
    (tmp_path / 'fine.jsonl').write_text('{"id": "last", "text": "Конец"}\n')
    inputs = [tmp_path / n for n in ('cut.jsonl.gz', 'cut.tar.gz', 'cp1251.csv', 'fine.jsonl')]
    records = list(readers.read_records(inputs))
    errors = {r.id: r.error for r in records if r.error}
    assert set(errors) == {str(p) for p in inputs[:3]}
    assert all(e.startswith('cannot read on: ') for e in errors.values())
    ids = [r.id for r in records]
    assert 'd0' in ids and 'd49' not in ids and '0.txt' in ids and '19.txt' not in ids
    assert ids[-1] == 'last'


def test_unknown_and_missing_inputs(tmp_path):
    (tmp_path / 'a.docx').write_bytes(b'x')
    with pytest.raises(ValueError, match='unknown input format'):
        readers.check_inputs([tmp_path / 'a.docx'])
    with pytest.raises(FileNotFoundError):
        readers.check_inputs([tmp_path / 'missing.jsonl'])


def test_archives_are_streamed(tmp_path):
    """tar members come one at a time: the reader works on a pipe-like, unseekable stream."""
    path = tmp_path / 'a.tar.gz'
    with tarfile.open(path, 'w:gz') as archive:
        for i in range(3):
            data = f'Текст {i}'.encode('cp1251')
            info = tarfile.TarInfo(f'd/{i}.txt')
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    records = readers.read_records([path])
    assert next(records).id == 'd/0.txt'  # lazily: nothing more read yet
    assert [r.text for r in records] == ['Текст 1', 'Текст 2']


# ---------------------------------------------------------------------------- writers

OUT = [{'id': 'a', 'tags': ['Москва', 'Путин'],
        'entities': [{'start': 0, 'stop': 5, 'type': 'PER', 'text': 'Путин', 'normal': 'Путин'}]},
       {'id': 'b', 'error': 'empty text'},
       {'id': 'c,"q"\nx', 'tags': [], 'entities': []}]


@pytest.mark.parametrize('suffix', ['jsonl', 'jsonl.gz', 'csv', 'parquet'])
def test_writers_round_trip(tmp_path, suffix):
    path = tmp_path / f'out.{suffix}'
    with writers.open_writer(path) as writer:
        writer.write(OUT[:2])
        writer.write(OUT[2:])
    if suffix == 'parquet':
        import pandas as pd

        df = pd.read_parquet(path)
        assert list(df['id']) == ['a', 'b', 'c,"q"\nx']
        assert list(df['tags'][0]) == ['Москва', 'Путин'] and df['error'][1] == 'empty text'
        assert df['entities'][0][0]['normal'] == 'Путин'
        return
    assert writers.done_ids(path) == {'a', 'b', 'c,"q"\nx'}
    if suffix == 'csv':
        with open(path, newline='', encoding='utf-8') as handle:
            rows = list(csv.DictReader(handle))
        assert json.loads(rows[0]['tags']) == ['Москва', 'Путин']
        assert rows[1]['error'] == 'empty text'
    else:
        assert read_jsonl(path) == OUT


@pytest.mark.parametrize('suffix', ['jsonl', 'jsonl.gz', 'csv', 'parquet'])
def test_existing_output_needs_resume(tmp_path, suffix):
    path = tmp_path / f'out.{suffix}'
    path.write_bytes(b'x')
    with pytest.raises(FileExistsError, match='exists; use --resume or remove it'):
        writers.open_writer(path)
    if suffix == 'parquet':  # not a Parquet file: resume refuses it, naming it
        with pytest.raises(ValueError, match=f'{path}: not a readable Parquet file'):
            writers.open_writer(path, resume=True)


@pytest.mark.skipif(os.name != 'posix', reason='the output lock is POSIX flock')
def test_one_run_per_output(tmp_path):
    path = tmp_path / 'out.jsonl'
    with writers.open_writer(path) as writer:
        with pytest.raises(writers.OutputBusy, match='being written by another run'):
            writers.open_writer(path, resume=True)
        writer.write(OUT[:1])
    with writers.open_writer(path, resume=True) as writer:  # free again once closed
        writer.write(OUT[1:2])
    assert writers.done_ids(path) == {'a', 'b'}


def test_resume_cuts_half_written_jsonl(tmp_path):
    path = tmp_path / 'out.jsonl'
    with writers.open_writer(path) as writer:
        writer.write(OUT[:2])
    with open(path, 'ab') as handle:
        handle.write(b'{"id": "c", "tags": ["\xd0')  # killed mid-line, mid-character
    assert writers.done_ids(path) == {'a', 'b'}
    with writers.open_writer(path, resume=True) as writer:
        writer.write(OUT[2:])
    assert [r['id'] for r in read_jsonl(path)] == ['a', 'b', 'c,"q"\nx']


def test_resume_repairs_truncated_gzip(tmp_path):
    path = tmp_path / 'out.jsonl.gz'
    with writers.open_writer(path) as writer:
        writer.write(OUT[:2])
        writer.write([{'id': f'x{i}', 'tags': ['т' * 50]} for i in range(50)])
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # the last member lost its end
    ids = writers.done_ids(path)
    assert {'a', 'b'} <= ids and len(ids) < 52
    with writers.open_writer(path, resume=True) as writer:
        writer.write([{'id': 'z', 'tags': []}])
    written = ['a', 'b'] + [f'x{i}' for i in range(50)]
    assert [r['id'] for r in read_jsonl(path)] == written[:len(ids)] + ['z']  # readable again


def test_resume_cuts_half_written_csv(tmp_path):
    path = tmp_path / 'out.csv'
    with writers.open_writer(path) as writer:
        writer.write(OUT)
    with open(path, 'ab') as handle:
        handle.write(b'd,"[""half')  # inside a quoted field
    assert writers.done_ids(path) == {'a', 'b', 'c,"q"\nx'}
    with writers.open_writer(path, resume=True) as writer:
        writer.write([{'id': 'd', 'tags': ['x'], 'entities': []}])
    with open(path, newline='', encoding='utf-8') as handle:
        assert [r['id'] for r in csv.DictReader(handle)] == ['a', 'b', 'c,"q"\nx', 'd']


def test_resume_on_half_written_csv_header(tmp_path):
    path = tmp_path / 'out.csv'
    path.write_bytes(b'id,ta')
    assert writers.done_ids(path) == set()
    with writers.open_writer(path, resume=True) as writer:
        writer.write(OUT[:1])
    assert path.read_text('utf-8').startswith('id,tags,entities,error\na,')




def test_parquet_output_keeps_what_was_written_when_killed(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / 'out.parquet'
    records = [{'id': f'd{i}', 'tags': ['Москва'], 'entities': []} for i in range(25)]
    writer = writers.ParquetWriter(path, rows=10)
    for start in (0, 8, 16):
        writer.write(records[start:start + 8])
    writer._lock.close()  # killed: no close(), no footer; the kill frees the lock
    assert not path.exists()
    assert writers.done_ids(path) == {f'd{i}' for i in range(16)}  # two complete parts
    with pytest.raises(FileExistsError, match='parts of a stopped run; use --resume'):
        writers.open_writer(path)
    with writers.open_writer(path, resume=True) as writer:
        writer.write(records[16:])
    assert not os.path.exists(writers.parts_dir(str(path)))
    assert pq.read_table(path).column('id').to_pylist() == [r['id'] for r in records]
    with writers.open_writer(path, resume=True) as writer:  # resume a finished output: append
        writer.write([{'id': 'd25', 'error': 'empty text'}, records[0]])  # d0 again: kept once
    table = pq.read_table(path)
    assert table.column('id').to_pylist() == [r['id'] for r in records] + ['d25']
    assert table.column('error').to_pylist()[-1] == 'empty text'
