"""The batch engine with the real Tagger: formats agree, ids exactly once, kills and --resume."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.article import join_title
from extractor.engines import batch, writers
from extractor.engines.frames import tag_dataframe
from helpers import (FORMATS, REPO, CachedTagger, FakeTagger, StopAfter, doc_key, fake_factory,
                     feed_stdin, load_dev, read_jsonl, short_dev, short_docs, write_inputs,
                     write_jsonl)


@pytest.fixture(scope='module')
def cached(tagger) -> CachedTagger:
    """conftest's session Tagger behind a cache."""
    return CachedTagger(tagger)


def batch_command() -> list[str]:
    return [sys.executable, '-m', 'extractor.cli', 'batch']


def start(args: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, 'PYTHONPATH': str(REPO)}
    with open(log, 'ab') as err:
        return subprocess.Popen(batch_command() + args, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)


def run(args: list[str], log: Path, timeout: float = 240) -> int:
    proc = start(args, log)
    try:
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b'\n') if path.exists() else 0


def wait_for_lines(proc: subprocess.Popen, path: Path, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while lines_in(path) < n:
        assert proc.poll() is None, f'the run ended (status {proc.returncode}) before {n} lines'
        assert time.monotonic() < deadline, f'no {n} lines in {path} after {timeout} s'
        time.sleep(0.05)


def processes() -> list[tuple[int, list[str]]]:
    """(pid, the fields of /proc/PID/stat after the command) of every process."""
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            found.append((int(stat.parent.name), stat.read_text().rsplit(')', 1)[1].split()))
        except OSError:
            continue
    return found


def children(pid: int) -> list[int]:
    return [child for child, fields in processes() if int(fields[1]) == pid]


def workers(pid: int) -> list[int]:
    """Pool workers of a batch run: children of its forkserver (or of the run under spawn)."""
    found = []
    for child in children(pid):
        cmdline = Path(f'/proc/{child}/cmdline').read_bytes()
        if b'forkserver' in cmdline:
            found += children(child)
        elif b'resource_tracker' not in cmdline:
            found.append(child)
    return found


def assert_exactly_once(path: Path, ids: list[str]) -> list[dict]:
    rows = read_jsonl(path)
    got = [r['id'] for r in rows]
    assert len(got) == len(set(got)), 'an id twice'
    assert sorted(got) == sorted(ids), 'ids missing or unknown'
    return rows


# ---------------------------------------------------------------------------- with a fake tagger

def test_run_batch_exactly_once_with_errors(tmp_path):
    rows = short_docs(70) + [{'id': 'boom', 'text': 'Это BOOM'}, {'id': 'blank', 'text': ''}]
    rows.insert(5, {'id': 'd1', 'text': 'Повтор id'})
    src = write_jsonl(tmp_path / 'in.jsonl', rows)
    with open(src, 'a', encoding='utf-8') as handle:
        handle.write('{broken\n')
    out = tmp_path / 'out.jsonl'
    summary = batch.run_batch([src], out, jobs=1, batch_size=8, tagger_factory=fake_factory)
    got = read_jsonl(out)
    ids = [r['id'] for r in got]
    assert len(ids) == len(set(ids)) == 74
    assert ids[:7] == ['d0', 'd1', 'd2', 'd3', 'd4', 'd1#2', 'd5']
    errors = {r['id']: r['error'] for r in got if 'error' in r}
    assert errors['boom'] == 'RuntimeError: boom' and errors['blank'] == 'empty text'
    assert errors['in.jsonl:74'].startswith('line 74: invalid JSON')
    assert got[0]['tags'] == ['Заголовок', 'Иван', 'Петров', 'Москву']
    assert got[0]['entities'][1] == {'start': 12, 'stop': 16, 'type': 'PER', 'text': 'Иван',
                                     'normal': 'Иван'}
    assert (summary.read, summary.tagged, summary.failed, summary.skipped, summary.renamed) == \
        (74, 71, 3, 0, 1)
    assert '1 repeated ids made unique' in str(summary)


def test_interrupted_run_resumes_exactly_once(tmp_path):
    src = write_jsonl(tmp_path / 'in.jsonl', short_docs(100))
    out = tmp_path / 'out.jsonl'
    with pytest.raises(batch.BatchAborted) as caught:
        batch.run_batch([src], out, jobs=1, batch_size=10, tagger_factory=lambda p: StopAfter(4))
    assert caught.value.interrupted and caught.value.summary.tagged == 30
    with open(out, 'ab') as handle:
        handle.write(b'{"id": "d30", "ta')  # as if killed while writing
    with pytest.raises(FileExistsError):
        batch.run_batch([src], out, jobs=1, tagger_factory=fake_factory)
    summary = batch.run_batch([src], out, jobs=1, resume=True, batch_size=10,
                              tagger_factory=fake_factory)
    assert (summary.skipped, summary.tagged) == (30, 70)
    assert [r['id'] for r in read_jsonl(out)] == [f'd{i}' for i in range(100)]
    summary = batch.run_batch([src], out, jobs=1, resume=True, tagger_factory=fake_factory)
    assert (summary.skipped, summary.tagged) == (100, 0)


@pytest.mark.parametrize('suffix', ['jsonl.gz', 'csv', 'parquet'])
def test_resume_other_outputs(tmp_path, suffix):
    src = write_jsonl(tmp_path / 'in.jsonl', short_docs(40))
    out = tmp_path / f'out.{suffix}'
    with pytest.raises(batch.BatchAborted):
        batch.run_batch([src], out, jobs=1, batch_size=10, tagger_factory=lambda p: StopAfter(3))
    summary = batch.run_batch([src], out, jobs=1, resume=True, batch_size=10,
                              tagger_factory=fake_factory)
    assert (summary.skipped, summary.tagged) == (20, 20)
    assert writers.done_ids(out) == {f'd{i}' for i in range(40)}


def test_pool_keeps_order(tmp_path):
    src = write_jsonl(tmp_path / 'in.jsonl', short_docs(100))
    out = tmp_path / 'out.parquet'
    summary = batch.run_batch([src], out, jobs=2, batch_size=7, tagger_factory=fake_factory)
    import pandas as pd

    df = pd.read_parquet(out)
    assert list(df['id']) == [f'd{i}' for i in range(100)] and summary.tagged == 100
    assert list(df['tags'][3]) == ['Заголовок', 'Иван', 'Петров', 'Москву']


def test_several_inputs_in_one_run(tmp_path):
    a = write_jsonl(tmp_path / 'a.jsonl', short_docs(3))
    b = write_jsonl(tmp_path / 'b.jsonl', short_docs(2) + [{'text': 'Без id'}])
    out = tmp_path / 'out.jsonl'
    batch.run_batch([a, b], out, jobs=1, tagger_factory=fake_factory)
    assert [r['id'] for r in read_jsonl(out)] == ['d0', 'd1', 'd2', 'd0#2', 'd1#2', 'b.jsonl:3']


def test_tag_dataframe():
    import pandas as pd

    df = pd.DataFrame({'id': ['x', 'y', 'z'], 'title': ['Заголовок', None, 'Ещё'],
                       'text': ['Иван Петров', 'Мария', None]})
    result = tag_dataframe(df, tagger=FakeTagger())
    assert list(result.columns) == ['id', 'title', 'text', 'tags', 'entities', 'error']
    assert result['tags'].tolist() == [['Заголовок', 'Иван', 'Петров'], ['Мария'], []]
    assert result['error'].tolist() == [None, None, "row 3: missing text field 'text'"]
    assert 'tags' not in df.columns  # a copy
    no_id = tag_dataframe(df[['text']], tagger=FakeTagger())
    assert no_id['entities'][0][0]['text'] == 'Иван'


def test_tag_dataframe_never_overwrites_a_column():
    import pandas as pd

    from extractor import tag_dataframe as public

    df = pd.DataFrame({'id': ['x'], 'text': ['Иван Петров'], 'tags': [['Золото']], 'error': ['']})
    with pytest.raises(ValueError, match=r"already has 'tags', 'error'.*prefix='pred_' "
                                         r"\(columns pred_tags, pred_entities, pred_error\)"):
        tag_dataframe(df, tagger=FakeTagger())
    result = public(df, tagger=FakeTagger(), prefix='pred_')
    assert result['tags'].tolist() == [['Золото']] and result['error'].tolist() == ['']
    assert result['pred_tags'].tolist() == [['Иван', 'Петров']]
    with pytest.raises(ValueError, match="already has 'pred_tags'.*prefix='extractor_'"):
        tag_dataframe(result, tagger=FakeTagger(), prefix='pred_')
    with pytest.raises(ValueError, match=r"no text column 'body' \(its columns: id, text, tags, error\)"):
        tag_dataframe(df, text='body', tagger=FakeTagger(), prefix='p_')


def test_cli_arguments_and_usage_errors(tmp_path, capsys):
    from extractor.cli import main

    with pytest.raises(SystemExit):
        main(['batch', '--help'])
    assert 'example' in capsys.readouterr().out
    out = tmp_path / 'out.jsonl'
    out.write_text('{"id": "a"}\n')
    src = write_jsonl(tmp_path / 'in.jsonl', short_docs(2))
    assert main(['batch', str(src), '-o', str(out)]) == 2
    assert 'exists; use --resume or remove it' in capsys.readouterr().err
    assert main(['batch', str(tmp_path / 'no.jsonl'), '-o', str(tmp_path / 'o.jsonl')]) == 2
    assert not (tmp_path / 'o.jsonl').exists()  # nothing created before inputs are checked
    (tmp_path / 'o.parquet').write_bytes(b'PAR1')  # what a killed run wrote before
    assert main(['batch', str(src), '-o', str(tmp_path / 'o.parquet'), '--resume']) == 2
    assert 'not a readable Parquet file' in capsys.readouterr().err


# ---------------------------------------------------------------------------- tests

def test_every_format_gives_the_same_tags(tmp_path, monkeypatch, cached):
    docs = load_dev(20)
    inputs = write_inputs(docs, tmp_path / 'in')
    results = {}
    for fmt in FORMATS:
        if fmt == 'stdin':
            feed_stdin(monkeypatch, (tmp_path / 'in' / 'docs.jsonl').read_bytes())
        out = tmp_path / f'out-{fmt}.jsonl'
        summary = batch.run_batch(inputs[fmt], out, jobs=1, tagger_factory=lambda p: cached)
        assert (summary.read, summary.tagged, summary.failed) == (20, 20, 0), fmt
        rows = read_jsonl(out)
        assert len({r['id'] for r in rows}) == 20, fmt
        results[fmt] = {doc_key(r['id']): r['tags'] for r in rows}
    expected = results['jsonl']
    assert len(expected) == 20 and all(expected.values())
    for fmt, tags in results.items():
        assert tags == expected, f'{fmt} gives other tags than jsonl'


def test_bad_records_become_error_records(tmp_path, cached):
    src = tmp_path / 'in.jsonl'
    write_jsonl(src, [{'id': 'good', 'title': 'Путин прибыл в Москву',
                       'text': 'Визит продлится два дня.'},
                      {'id': 'empty', 'text': ''}, {'id': 'notext', 'body': 'Текст'}])
    with open(src, 'a', encoding='utf-8') as handle:
        handle.write('{"id": "broken", \n')
    tree = tmp_path / 'tree'
    tree.mkdir()
    (tree / 'binary.txt').write_bytes(bytes(range(256)))
    text = 'Путин прибыл в Москву.\nВизит продлится два дня.'
    (tree / 'cp1251.txt').write_bytes(text.encode('cp1251'))
    out = tmp_path / 'out.jsonl'
    summary = batch.run_batch([src, tree], out, jobs=1, tagger_factory=lambda p: cached)
    rows = {r['id']: r for r in read_jsonl(out)}
    assert list(rows) == ['good', 'empty', 'notext', 'in.jsonl:4', 'binary.txt', 'cp1251.txt']
    for id in ('good', 'cp1251.txt'):  # tagged, the old encoding read right
        assert rows[id]['tags'] and 'Москва' in [e['normal'] for e in rows[id]['entities']]
    assert rows['empty']['error'] == 'empty text'
    assert rows['notext']['error'] == "line 3: missing text field 'text'"
    assert rows['in.jsonl:4']['error'].startswith('line 4: invalid JSON')
    assert rows['binary.txt']['error'].startswith('cannot decode text')
    assert (summary.tagged, summary.failed) == (2, 4)


def test_killed_run_resumes_exactly_once(tmp_path, cached):
    docs = short_dev(200)
    src = write_jsonl(tmp_path / 'in.jsonl', docs)
    out, log = tmp_path / 'out.jsonl', tmp_path / 'log.txt'
    args = [str(src), '-o', str(out), '-j', '2', '--batch-size', '8']
    proc = start(args, log)
    try:
        wait_for_lines(proc, out, 40)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run, its forkserver and its workers
        proc.wait(30)
    assert lines_in(out) < 200, 'the run ended before the kill'
    with open(out, 'ab') as handle:
        handle.write(b'{"id": "half-writ')  # as if killed in the middle of a line
    assert run(args, log) == 2  # an existing output needs --resume
    assert run(args + ['--resume'], log) == 0, log.read_text()
    rows = assert_exactly_once(out, [d['id'] for d in docs])
    assert 'skipped by resume' in log.read_text()
    # the pool tags as the library does in this process
    first = {r['id']: r['tags'] for r in rows[:20]}
    for doc in cached.pipe([(d['id'], join_title(d['title'], d['text'])) for d in docs[:20]],
                           errors='yield'):
        assert first[doc.id] == [t.text for t in doc.tags], doc.id


def test_killed_worker_stops_the_run_then_resume(tmp_path):
    docs = short_dev(200)
    src = write_jsonl(tmp_path / 'in.jsonl', docs)
    out, log = tmp_path / 'out.csv', tmp_path / 'log.txt'
    args = [str(src), '-o', str(out), '-j', '2', '--batch-size', '8']
    proc = start(args, log)
    try:
        wait_for_lines(proc, out, 20)
        pids = workers(proc.pid)
        assert pids, 'no worker processes found'
        os.kill(pids[0], signal.SIGKILL)
        assert proc.wait(60) == 1
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert 'worker process died' in log.read_text()
    assert run(args + ['--resume'], log) == 0, log.read_text()
    assert writers.done_ids(out) == {d['id'] for d in docs}
    assert lines_in(out) == 201  # the header and one line per document


def run_group(pgid: int) -> list[int]:
    """The processes of a run started in its own session: its forkserver, resource tracker
    and workers are in its process group, even when re-parented to init."""
    return [pid for pid, fields in processes() if int(fields[3]) == pgid and fields[0] != 'Z']


def wait_for_none(pgid: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := run_group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


@pytest.mark.skipif(not Path('/proc/self/stat').exists(), reason='needs Linux /proc')
def test_sigterm_stops_cleanly_and_sigkill_leaves_no_process(tmp_path):
    docs = short_dev(200)
    src = write_jsonl(tmp_path / 'in.jsonl', docs)
    out, log = tmp_path / 'out.jsonl', tmp_path / 'log.txt'
    args = [str(src), '-o', str(out), '-j', '2', '--batch-size', '8']
    for sig, flag in ((signal.SIGTERM, []), (signal.SIGKILL, ['--resume'])):
        proc = start(args + flag, log)
        try:
            wait_for_lines(proc, out, lines_in(out) + 16)
            assert len(run_group(proc.pid)) >= 4  # the run, forkserver, tracker, 2 workers
            os.kill(proc.pid, sig)  # the parent alone: its workers must notice
            status = proc.wait(60)
            alive = wait_for_none(proc.pid, 10)
        finally:
            for pid in run_group(proc.pid):
                os.kill(pid, signal.SIGKILL)
        assert not alive, f'{sig.name}: processes of the run still alive: {alive}'
        if sig == signal.SIGTERM:
            assert status == 143, log.read_text()
            text = log.read_text()
            assert 'terminated (SIGTERM); rerun with --resume' in text and 'tagged ' in text, text
            assert out.read_bytes().endswith(b'\n')  # flushed on a record boundary
        assert lines_in(out) < 200, 'the run ended before the signal'
    assert run(args + ['--resume'], log) == 0, log.read_text()
    assert_exactly_once(out, [d['id'] for d in docs])
