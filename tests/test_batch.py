"""The batch engine with the real Tagger: formats agree, ids exactly once, kills and --resume."""
from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor import batch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # test_io's helpers, any import mode
from test_io import (FORMATS, REPO, doc_key, feed_stdin, load_dev, read_jsonl, write_inputs,
                     write_jsonl)


class CachedTagger:
    """The real Tagger, remembering documents by text: formats that give the same text cost once."""

    def __init__(self, tagger) -> None:
        self.tagger = tagger
        self.cache: dict = {}

    def pipe(self, items, batch_size=32, errors='raise'):
        items = list(items)
        todo = [(rid, text) for rid, text in items if text not in self.cache]
        for (_, text), doc in zip(todo, self.tagger.pipe(todo, batch_size, errors=errors)):
            self.cache[text] = doc
        for rid, text in items:
            doc = copy.copy(self.cache[text])
            doc.id = rid
            yield doc


@pytest.fixture(scope='module')
def cached(tagger) -> CachedTagger:
    """conftest's session Tagger behind a cache."""
    return CachedTagger(tagger)


def short_dev(n: int, chars: int = 400) -> list[dict]:
    """``n`` dev documents (ng, then rt) cut to about ``chars`` characters: quick to tag."""
    rows = load_dev(n, names=('ng', 'rt'))
    for row in rows:
        row['text'] = row['text'][:chars].rsplit(' ', 1)[0]
    return rows


def batch_command() -> list[str]:
    """``python -m cli batch`` once cli.py has the subcommand, else this package's own entry."""
    cli = REPO / 'cli.py'
    if cli.exists() and 'run_from_args' in cli.read_text(encoding='utf-8'):
        return [sys.executable, '-m', 'cli', 'batch']
    return [sys.executable, '-m', 'extractor.batch']


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


def children(pid: int) -> list[int]:
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


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
    for doc in cached.pipe([(d['id'], d['title'] + '\n' + d['text']) for d in docs[:20]],
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
    from extractor.io import done_ids

    assert done_ids(out) == {d['id'] for d in docs}
    assert lines_in(out) == 201  # the header and one line per document
