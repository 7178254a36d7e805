"""The README as a new user reads it: its Python blocks and its shell examples run as written.

Python blocks and ``$ command`` sessions run in a scratch folder holding a copy of
``samples/`` and ``news.jsonl`` / ``news.jsonl.gz`` made of them (15 articles: id, title, text),
so that nothing here needs ``../shared``. A session's output must be what the README shows
(timings aside). The Dask block starts its own local cluster, as the README says; the ``s3://``
and ``tcp://`` line runs with the local file and a local scheduler in their place. Every other
indented command is either the synopsis of "Command line" or named in ``NOT_RUN`` with the
reason; a new command nobody put in one of the two fails ``test_every_shell_example_is_known``.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / 'README.md'
TIMEOUT = 600
NOT_RUN = {  # README command (comment stripped) -> why this test does not run it
    "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/extractor tag samples/01_*.txt":
        'sets up a venv; its tag command is the "$ extractor tag samples/01_*.txt" session',
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -q":
        'CI runs it (.ci/run); it is this suite',
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[serve]' && .venv/bin/extractor serve":
        'sets up a venv and serves until stopped: tests/test_serve.py and tests/test_browser.py '
        'start the service',
    "extractor serve [--host 127.0.0.1] [--port 8000] [--profile NAME] [--workers N]":
        'a synopsis',
}
DASK_LOCAL = 'extractor batch news.jsonl.gz -o tags.jsonl --engine dask'
DASK_REMOTE = ('extractor batch s3://bucket/news.jsonl.gz -o tags.jsonl --engine dask '
               '--scheduler tcp://10.0.0.5:8786')


def readme() -> str:
    return README.read_text(encoding='utf-8')


def python_blocks() -> list[str]:
    return re.findall(r'^```python\n(.*?)^```', readme(), re.S | re.M)


def shell_blocks() -> list[tuple[str, list[str]]]:
    """(the heading above, the lines) of every indented block outside code fences."""
    blocks: list[tuple[str, list[str]]] = []
    heading, fenced, current = '', False, None
    for line in readme().splitlines():
        if line.startswith('```'):
            fenced = not fenced
        if fenced:
            continue
        if line.startswith('#') and not line.startswith('    '):
            heading = line
        if line.startswith('    ') and line.strip():
            if current is None:
                current = []
                blocks.append((heading, current))
            current.append(line[4:])
        elif line.strip():
            current = None
    return blocks


def sessions() -> list[tuple[str, list[str]]]:
    """(command, the output lines the README shows) of every ``$ command``."""
    found: list[tuple[str, list[str]]] = []
    for _, lines in shell_blocks():
        for line in lines:
            if line.startswith('$ '):
                found.append((line[2:], []))
            elif found and lines[0].startswith('$ '):
                found[-1][1].append(line)
    return found


def commands() -> list[tuple[str, str]]:
    """(heading, command with its comment stripped) of the indented lines that are commands
    and not part of a ``$`` session."""
    found = []
    for heading, lines in shell_blocks():
        if lines[0].startswith('$ '):
            continue
        for line in lines:
            if line.startswith(('extractor ', 'python3 ', 'dask ', 'zcat ', 'cat ')):
                found.append((heading, re.sub(r'\s+#\s.*$', '', line).strip()))
    return found


def extractor() -> str:
    script = Path(sys.executable).with_name('extractor')
    return str(script) if script.exists() else f'{sys.executable} -m extractor.cli'


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    assert command.startswith('extractor ')
    line = extractor() + command[len('extractor'):]
    return subprocess.run(['bash', '-c', line], cwd=cwd, capture_output=True, text=True,
                          timeout=TIMEOUT)


@pytest.fixture(scope='module')
def workdir(tmp_path_factory) -> Path:
    from extractor import read_article

    folder = tmp_path_factory.mktemp('readme')
    shutil.copytree(ROOT / 'samples', folder / 'samples')
    rows = []
    for path in sorted((ROOT / 'samples').glob('*.txt')):
        article = read_article(path)
        body = article.text[len(article.title):].lstrip('\n')
        rows.append({'id': path.stem, 'title': article.title, 'text': body})
    lines = ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows)
    (folder / 'news.jsonl').write_text(lines, encoding='utf-8')
    import gzip

    (folder / 'news.jsonl.gz').write_bytes(gzip.compress(lines.encode('utf-8')))
    return folder


def test_every_shell_example_is_known():
    runs = {command for command, _ in sessions()} | {DASK_LOCAL, DASK_REMOTE}
    unknown = [(heading, command) for heading, command in commands()
               if command not in NOT_RUN and command not in runs and heading != '## Command line']
    assert not unknown, f'README commands this test neither runs nor names in NOT_RUN: {unknown}'
    assert len(python_blocks()) >= 3 and len(sessions()) >= 3


def test_the_setup_lines_stay_first():
    """CI runs the README's second `python3 -m venv` line (.ci/run)."""
    lines = readme().splitlines()
    assert [line.strip() for line in lines[2:5]] == [c for c in NOT_RUN if c.startswith('python3')]


def test_sessions_print_what_the_readme_shows(workdir):
    def timeless(lines: list[str]) -> list[str]:  # what varies from run to run: times, rates
        return [re.sub(r'\d+(\.\d+)? ?(s|docs/s)\b', 'T', line) for line in lines]

    (workdir / 'tags.jsonl').unlink(missing_ok=True)
    for command, shown in sessions():
        result = shell(command, workdir)
        printed = (result.stdout + result.stderr).splitlines()
        assert timeless(printed) == timeless(shown), (command, result.stderr)
        if 'error' not in '\n'.join(shown):
            assert result.returncode == 0, (command, result.stderr)
        else:
            assert result.returncode == 2, command
    tags = [json.loads(line) for line in (workdir / 'tags.jsonl').read_text().splitlines()]
    assert len(tags) == 15 and all(r['tags'] for r in tags)


def test_library_blocks(workdir, monkeypatch, capsys):
    """The Library section's two blocks, as one session (the second uses the first's names)."""
    monkeypatch.chdir(workdir)
    library = [b for b in python_blocks() if 'engines.cluster' not in b]
    assert len(library) == 2
    names: dict = {}
    exec(compile('\n'.join(library), 'README.md', 'exec'), names)  # noqa: S102 - our README
    article, doc = names['article'], names['doc']
    assert article.title and article.title in article.text.splitlines()[0]
    assert article.tags and not any(line.lstrip().startswith('#') for line in article.text.splitlines())
    tags = [t.text for t in names['tagger'](article.text).tags]
    assert tags and len(doc.tags) <= 5  # the second tagger() call: top=5
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("a ['") and printed[1] == 'b text must be a string, not NoneType'
    text, start = names['text'], names['start']
    assert names['tagger'].normalize(text, start, len(text) - 1) == 'Алексей Логвиненко'
    tagged = names['tagged']
    assert list(tagged.columns) == ['id', 'title', 'text', 'tags', 'pred_tags', 'pred_entities',
                                    'pred_error']
    assert tagged['tags'][0] == article.tags and tagged['pred_tags'][0] == tags
    with pytest.raises(ValueError, match="already has 'tags'"):
        names['tag_dataframe'](names['df'], tagger=names['tagger'])


def test_dask_block(workdir):
    """The Dask block on the local cluster it starts; run with ``-c``, as typed at a prompt."""
    pytest.importorskip('distributed', reason='the Dask block needs: pip install "extractor[dask]"')
    (block,) = [b for b in python_blocks() if 'engines.cluster' in b]
    check = '''
import json
print('RESULT', json.dumps({
    'records': [[r['id'], r.get('tags'), r.get('error')] for r in records],
    'back': [[row.id, list(row.tags), row.error if isinstance(row.error, str) else None]
             for row in back.itertuples()],
    'dtypes': [str(d) for d in tagged._meta.dtypes]}, ensure_ascii=False))
'''
    result = subprocess.run([sys.executable, '-c', block + check], cwd=workdir,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout.split('RESULT ', 1)[1])
    ids = [f'samples/{p.name}' for p in sorted((ROOT / 'samples').glob('*.txt'))]
    assert [r[0] for r in data['records']] == ids and all(r[1] for r in data['records'])
    assert sorted(data['back']) == sorted(data['records'])  # the Parquet files: the same tags
    assert 'list<item: string>[pyarrow]' in data['dtypes']
    cli = shell('extractor tag samples/01_spartak_rotor.txt --format json', workdir)
    first = json.loads(cli.stdout)
    assert data['records'][0][1] == [t['text'] for t in first['tags']]  # what the CLI tags


def test_dask_command_lines(workdir):
    """The two ``--engine dask`` lines: as written, and with the local file and a local
    scheduler in place of ``s3://`` and ``tcp://10.0.0.5:8786``."""
    pytest.importorskip('distributed', reason='the Dask engine needs: pip install "extractor[dask]"')
    from extractor.engines.cluster import connect

    for command in (DASK_LOCAL, DASK_REMOTE):
        assert command in [c for _, c in commands()]
    (workdir / 'tags.jsonl').unlink(missing_ok=True)
    result = shell(DASK_LOCAL, workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = (workdir / 'tags.jsonl').read_text(encoding='utf-8')
    assert len(expected.splitlines()) == 15
    (workdir / 'tags.jsonl').unlink()
    client, cluster = connect(workers=1)
    try:
        address = client.scheduler.address
        remote = DASK_REMOTE.replace('s3://bucket/news.jsonl.gz', 'news.jsonl.gz')
        result = shell(remote.replace('tcp://10.0.0.5:8786', address), workdir)
        assert result.returncode == 0, result.stderr[-3000:]
    finally:
        client.close()
        cluster.close()
    assert (workdir / 'tags.jsonl').read_text(encoding='utf-8') == expected
