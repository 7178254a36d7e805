"""Batch feedback: inputs counted cheaply, the progress line (total, %, ETA, "loading models",
lines on a non-terminal), and a wrong --text-field stopped before anything runs."""
from __future__ import annotations

import bz2
import gzip
import io
import json
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from extractor.engines import batch
from extractor.engines.batch import BatchSummary
from extractor.engines.probe import check_text_field, count_input, count_inputs
from extractor.engines.progress import Progress, duration
from extractor.engines.records import Fields
from helpers import FakeTagger, fake_factory, write_jsonl

ARTICLE = 'Заголовок\nИван Петров приехал в Москву.\n\n#Иван Петров\n'


def rows(n: int) -> list[dict]:
    return [{'id': f'd{i}', 'title': 'Заголовок', 'text': f'Иван Петров {i}'} for i in range(n)]


def test_inputs_are_counted_in_every_format(tmp_path):
    import pandas as pd

    lines = ''.join(json.dumps(r, ensure_ascii=False) + '\n\n' for r in rows(5)).encode()
    (tmp_path / 'a.jsonl').write_bytes(lines)  # blank lines between: not records
    (tmp_path / 'a.jsonl.gz').write_bytes(gzip.compress(lines))
    (tmp_path / 'a.jsonl.bz2').write_bytes(bz2.compress(lines))
    (tmp_path / 'a.csv').write_text('id,text\n1,"две\nстроки"\n2,одна\n', encoding='utf-8')
    pd.DataFrame(rows(7)).to_parquet(tmp_path / 'a.parquet')
    tree = tmp_path / 'tree'
    for name in ('a.txt', 'sub/b.txt', 'sub/c.md', '.hidden/d.txt', '.e.txt'):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(ARTICLE, encoding='utf-8')
    with tarfile.open(tmp_path / 'a.tar.gz', 'w:gz') as archive:
        for name in ('a.txt', 'sub/b.txt', 'sub/c.md'):
            archive.add(tree / name, arcname=name)
    with zipfile.ZipFile(tmp_path / 'a.zip', 'w') as archive:
        for name in ('a.txt', 'sub/b.txt', '__MACOSX/x.txt'):
            archive.writestr(name, ARTICLE)
    counts = {name: count_input(str(tmp_path / name)) for name in
              ('a.jsonl', 'a.jsonl.gz', 'a.jsonl.bz2', 'a.csv', 'a.parquet', 'tree', 'tree/a.txt',
               'a.tar.gz', 'a.zip')}
    assert counts == {'a.jsonl': 5, 'a.jsonl.gz': 5, 'a.jsonl.bz2': 5, 'a.csv': 2,
                      'a.parquet': 7, 'tree': 2, 'tree/a.txt': 1, 'a.tar.gz': 2, 'a.zip': 2}
    assert count_inputs([tmp_path / 'a.jsonl', tmp_path / 'tree']) == 7
    assert count_inputs([tmp_path / 'a.jsonl', '-']) is None  # stdin: unknown
    assert count_input('s3://bucket/news.jsonl.gz') is None
    (tmp_path / 'broken.tar.gz').write_bytes(b'not a tar')
    assert count_input(str(tmp_path / 'broken.tar.gz')) is None  # the run reports it, not this
    # the count agrees with what a run reads
    summary = batch.run_batch([tmp_path / 'a.jsonl', tree, tmp_path / 'a.zip'],
                              tmp_path / 'out.jsonl', jobs=1, tagger_factory=fake_factory,
                              progress=False)
    assert summary.read == count_inputs([tmp_path / 'a.jsonl', tree, tmp_path / 'a.zip'])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_progress_line_says_loading_then_done_total_share_rate_and_eta(tmp_path):
    source = write_jsonl(tmp_path / 'in.jsonl', rows(100))
    clock, summary, out = Clock(), BatchSummary(), io.StringIO()
    progress = Progress([source], summary, live=False, every=3600, stream=out, clock=clock)
    try:
        for _ in range(100):  # the count runs in the background
            if progress.total is not None:
                break
            time.sleep(0.01)
        assert progress.total == 100
        assert out.getvalue() == 'extractor batch: loading models\n'
        clock.now += 9
        assert progress.line() == 'loading models (9s)'
        summary.tagged = 10
        progress.update()  # the first chunk: the models are loaded
        assert out.getvalue().splitlines()[-1] == ('extractor batch: models loaded, a first chunk '
                                                   'tagged in 9s; tagged 10 of 100 (10%)')
        clock.now += 20
        summary.tagged, summary.failed = 48, 2
        assert progress.line() == 'tagged 50 of 100 (50%), 2 failed, 2.0 docs/s, ETA 25s'
        summary.tagged = 98
        assert progress.line().endswith('(100%), 2 failed, 4.5 docs/s')
    finally:
        progress.close()
    unknown = Progress(['-'], BatchSummary(tagged=5), live=False, every=3600, stream=io.StringIO(),
                       clock=clock)
    unknown.update()
    clock.now += 10
    unknown.summary.tagged = 25
    assert unknown.line() == 'tagged 25, 2.0 docs/s'  # stdin: no total, no ETA
    unknown.close()
    assert duration(59.6) == '1m 00s' and duration(3 * 3600 + 61) == '3h 01m'


def test_a_terminal_gets_one_line_redrawn_and_a_log_a_line_every_n_seconds(tmp_path, capsys,
                                                                          monkeypatch):
    source = write_jsonl(tmp_path / 'in.jsonl', rows(12))

    class Slow(FakeTagger):
        def pipe(self, items, batch_size=32, errors='raise'):
            time.sleep(0.15)
            yield from super().pipe(items, batch_size, errors)

    batch.run_batch([source], tmp_path / 'log.jsonl', jobs=1, batch_size=2,
                    tagger_factory=lambda profile: Slow(), progress_every=0.05)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == 'extractor batch: loading models'
    assert any(line.startswith('extractor batch: models loaded') for line in lines)
    assert any(' of 12 (' in line and 'docs/s, ETA' in line for line in lines), lines
    assert all(line.startswith('extractor batch: ') and '\r' not in line for line in lines)
    monkeypatch.setattr(sys.stderr, 'isatty', lambda: True, raising=False)
    batch.run_batch([source], tmp_path / 'tty.jsonl', jobs=1, batch_size=4,
                    tagger_factory=lambda profile: Slow())
    err = capsys.readouterr().err
    assert err.startswith('\r\x1b[Kloading models') and err.endswith('\n')
    assert err.rsplit('\r\x1b[K', 1)[1].startswith('tagged 12 of 12 (100%), ')
    assert '\n' not in err[:-1]  # one line, redrawn in place
    batch.run_batch([source], tmp_path / 'quiet.jsonl', jobs=1, tagger_factory=fake_factory,
                    progress=False)
    assert capsys.readouterr().err == ''


def test_the_cli_counts_and_reports_progress_on_a_pipe(tmp_path):
    import subprocess

    source = write_jsonl(tmp_path / 'in.jsonl', [{'id': 'a', 'text': 'Путин прибыл в Казань.'}])
    result = subprocess.run([sys.executable, '-m', 'extractor.cli', 'batch', str(source), '-o',
                             str(tmp_path / 'out.jsonl'), '-j', '1', '--profile', 'heuristic'],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == 'extractor batch: loading models'
    assert 'tagged 1 of 1 (100%)' in lines[1] and lines[-1].startswith('extractor batch: read 1,')


@pytest.mark.parametrize('name', ['in.jsonl', 'in.jsonl.gz', 'in.csv', 'in.parquet', '-'])
def test_a_wrong_text_field_stops_at_once_naming_the_fields(tmp_path, name, monkeypatch, capsys):
    import pandas as pd

    from extractor.cli import main

    records = [{'id': f'd{i}', 'headline': 'Заголовок', 'body': 'Иван Петров'} for i in range(60)]
    if name == '-':
        data = ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in records).encode()
        monkeypatch.setattr(sys, 'stdin', io.TextIOWrapper(io.BufferedReader(io.BytesIO(data)),
                                                           encoding='utf-8'))
        source = '-'
    else:
        source = str(tmp_path / name)
        if name == 'in.jsonl':
            write_jsonl(Path(source), records)
        elif name == 'in.jsonl.gz':
            Path(source).write_bytes(gzip.compress(
                ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in records).encode()))
        else:
            frame = pd.DataFrame(records)
            frame.to_csv(source, index=False) if name == 'in.csv' else frame.to_parquet(source)
    out = tmp_path / 'out.jsonl'
    started = time.monotonic()
    assert main(['batch', source, '-o', str(out), '-j', '1']) == 2
    assert time.monotonic() - started < 5  # no models loaded, nothing tagged
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and 'docs/s' not in err
    assert "text field 'text'" in err or "text column 'text'" in err
    assert 'id, headline, body' in err and '--text-field' in err
    assert not out.exists()
    if name != '-':  # the right field runs
        assert main(['batch', source, '-o', str(out), '--text-field', 'body',
                     '--title-field', 'headline', '--profile', 'heuristic', '-j', '1',
                     '--progress-every', '0']) == 0


def test_records_that_have_the_field_somewhere_are_not_stopped(tmp_path):
    mixed = [{'id': 'a', 'body': 'x'}, {'id': 'b', 'text': 'Иван'}, 'not json']
    path = tmp_path / 'mixed.jsonl'
    path.write_text('\n'.join(r if isinstance(r, str) else json.dumps(r) for r in mixed) + '\n')
    check_text_field([path], Fields())  # one record has it: the others are error records
    check_text_field([tmp_path], Fields(text='body'))  # a folder of articles has no fields
    with pytest.raises(ValueError, match=r"none of the first 2 records has a text field 'body2'"
                                         r"; their fields: id, body, text"):
        check_text_field([path], Fields(text='body2'))


def test_a_count_stops_when_the_run_is_over(tmp_path):
    import threading

    path = tmp_path / 'big.jsonl'
    path.write_text('{"id": 1, "text": "x"}\n' * 5000)
    stop = threading.Event()
    assert count_inputs([path], stop) == 5000
    (tmp_path / 'a.txt').write_text(ARTICLE, encoding='utf-8')
    assert count_input(str(tmp_path), stop) == 1
    stop.set()
    assert count_inputs([path], stop) is None and count_input(str(tmp_path), stop) is None
