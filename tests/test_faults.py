"""Hostile input and faults, round 2 (issue 30): no input stops a run, nothing is lost,
nothing is left behind. Engine tests use the fake tagger (fast); the subprocess tests start
the real command line."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.engines import batch, readers, writers
from helpers import REPO, fake_factory, read_jsonl, write_jsonl

DEEP = '{"id": "deep", "text": ' + '[' * 100_000 + ']' * 100_000 + '}'
GOOD = [{'id': 'a', 'text': 'Иван Петров приехал в Москву.'},
        {'id': 'b', 'text': 'Мэр Казани Ильсур Метшин открыл мост.'}]


def cli(*args: str, timeout: int = 600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'extractor.cli', *args], capture_output=True,
                          text=True, cwd=REPO, timeout=timeout, stdin=subprocess.DEVNULL, **kwargs)


def assert_one_line_error(result: subprocess.CompletedProcess, name: str) -> None:
    assert result.returncode != 0, result
    assert 'Traceback' not in result.stderr, result.stderr
    assert any(name in line for line in result.stderr.splitlines()), result.stderr


def deep_jsonl(path: Path) -> Path:
    lines = [json.dumps(GOOD[0], ensure_ascii=False), DEEP, json.dumps(GOOD[1], ensure_ascii=False)]
    data = ('\n'.join(lines) + '\n').encode('utf-8')
    path.write_bytes(gzip.compress(data) if path.name.endswith('.gz') else data)
    return path


# ---------------------------------------------------------------- 2. deeply nested JSON

@pytest.mark.parametrize('name', ['in.jsonl', 'in.jsonl.gz'])
def test_a_deeply_nested_line_is_an_error_record(tmp_path, name):
    path = deep_jsonl(tmp_path / name)
    records = list(readers.read_records([path]))
    assert [r.id for r in records] == ['a', f'{name}:2', 'b']
    assert 'nested too deeply' in records[1].error and records[0].error is records[2].error is None


@pytest.mark.parametrize('jobs', [1, 2])
def test_batch_tags_around_a_deeply_nested_line_and_resumes(tmp_path, jobs):
    path = deep_jsonl(tmp_path / 'in.jsonl.gz')
    out = tmp_path / 'out.jsonl'
    summary = batch.run_batch([path], out, jobs=jobs, tagger_factory=fake_factory)
    assert (summary.tagged, summary.failed) == (2, 1)
    assert [r['id'] for r in read_jsonl(out)] == ['a', 'in.jsonl.gz:2', 'b']
    with open(out, 'a', encoding='utf-8') as handle:  # an output line nested too deeply
        handle.write(DEEP + '\n')
    assert writers.done_ids(out) == {'a', 'in.jsonl.gz:2', 'b'}
    again = batch.run_batch([path], out, jobs=1, resume=True, tagger_factory=fake_factory)
    assert again.skipped == 3


def test_gold_and_predictions_with_a_deeply_nested_line(tmp_path):
    from extractor.evaluate import GoldError, read_gold, read_predictions
    from extractor.training.data import read_records

    gold = tmp_path / 'gold.jsonl'
    gold.write_text('\n'.join([json.dumps({**GOOD[0], 'tags': ['Москва']}, ensure_ascii=False), DEEP,
                               json.dumps({**GOOD[1], 'tags': ['Казань']}, ensure_ascii=False)]) + '\n',
                    encoding='utf-8')
    found = list(read_gold(gold))
    assert isinstance(found[1], GoldError) and 'nested too deeply' in str(found[1])
    assert [r.id for r in found if not isinstance(r, GoldError)] == ['a', 'b']
    skipped: list = []
    assert [r.id for r in read_records([str(gold)], skipped)] == ['a', 'b']
    assert [e.line for e in skipped] == [2]
    pred = tmp_path / 'pred.jsonl'
    pred.write_text(json.dumps({'id': 'a', 'tags': ['Москва']}) + '\n' + DEEP + '\n', encoding='utf-8')
    with pytest.raises(ValueError, match=r'pred.jsonl:2: .*nested too deeply'):
        read_predictions(pred)


@pytest.mark.parametrize('line', ['[1, 2]', '"id"', '5', 'null', '{"tags": ["a"]}',
                                  '{"id": "a", "tags": [1, 2]}', '{"id": "a", "tags": "Москва"}'])
def test_eval_pred_with_a_bad_line_says_which(tmp_path, line):
    gold = tmp_path / 'gold.jsonl'
    gold.write_text(json.dumps({**GOOD[0], 'tags': ['Москва']}, ensure_ascii=False) + '\n',
                    encoding='utf-8')
    pred = tmp_path / 'pred.jsonl'
    pred.write_text(line + '\n', encoding='utf-8')
    assert_one_line_error(cli('eval', str(gold), '--pred', str(pred)), f'{pred}:1')


# ---------------------------------------------------------------- CSV with an unclosed quote

@pytest.mark.parametrize('rest', ['2,"Мэр Казани"\n3,Мост открыт\n', '2,Мэр Казани\n3,Мост открыт\n'])
def test_csv_unclosed_quote_is_one_error_record_and_the_rest_is_read(tmp_path, rest):
    path = tmp_path / 'in.csv'
    path.write_text('id,text\n1,"Иван Петров приехал\n' + rest + '4,"с ""кавычками""\nи строкой"\n',
                    encoding='utf-8')
    records = list(readers.read_records([path]))
    assert [r.id for r in records] == ['in.csv:1', '2', '3', '4']
    assert 'row 1 (line 2): broken CSV' in records[0].error
    assert [r.text for r in records[1:]] == ['Мэр Казани', 'Мост открыт', 'с "кавычками"\nи строкой']


# ---------------------------------------------------------------- training reports bad lines

def test_train_warns_of_bad_gold_lines(tmp_path):
    from extractor.training.train import train

    gold = tmp_path / 'gold.jsonl.gz'
    rows = [json.dumps({'id': str(i), 'text': f'Текст {i}.', 'tags': ['Москва']}) for i in range(3)]
    data = gzip.compress(('\n'.join(rows[:2] + ['{"id": "broken', DEEP] + rows[2:]) + '\n').encode())
    gold.write_bytes(data[:-20])  # truncated as well
    said: list[str] = []
    with pytest.raises(ValueError, match='at least'):
        train([str(gold)], 'x', tmp_path, use_all=True, log=said.append)
    warnings = [line for line in said if line.startswith('warning:')]
    assert any(':3: bad JSON' in line for line in warnings), said
    assert any(':4: bad JSON: nested too deeply' in line for line in warnings), said
    assert any('unreadable' in line for line in warnings), said
    assert 'skipped 3 bad gold record(s)' in warnings[-1], said


# ---------------------------------------------------------------- 3. a directory loses no file

def test_a_directory_reports_each_bad_entry_and_tags_the_rest(tmp_path):
    root = tmp_path / 'news'
    (root / 'sub').mkdir(parents=True)
    for name in ('a.txt', 'm.txt', 'sub/z.txt'):
        (root / name).write_text('Заголовок\nИван Петров приехал в Москву.\n', encoding='utf-8')
    (root / 'b dangling.txt').symlink_to(tmp_path / 'nowhere.txt')
    (root / 'c loop.txt').symlink_to(root / 'c loop.txt')
    os.mkfifo(root / 'd fifo.txt')  # opening it would wait for a writer for ever
    records = list(readers.read_records([root]))
    assert [r.id for r in records] == ['a.txt', 'b dangling.txt', 'c loop.txt', 'd fifo.txt',
                                       'm.txt', 'sub/z.txt']
    errors = {r.id: r.error for r in records if r.error}
    assert set(errors) == {'b dangling.txt', 'c loop.txt', 'd fifo.txt'}
    for rid, error in errors.items():
        assert str(root / rid) in error, error
    assert 'not a regular file' in errors['d fifo.txt']


def test_unreadable_file_and_folder_are_error_records(tmp_path, monkeypatch):
    # as chmod 000 makes them (simulated: root reads through chmod 000)
    root = tmp_path / 'news'
    (root / 'closed').mkdir(parents=True)
    for name in ('closed/x.txt', 'secret.txt', 'z.txt'):
        (root / name).write_text('Иван Петров приехал в Москву.', encoding='utf-8')
    scandir, opener = os.scandir, open

    def refuse(path, *args):
        if Path(path).name in ('closed', 'secret.txt'):
            raise PermissionError(13, 'Permission denied', str(path))
        return (scandir if not args else opener)(path, *args)

    monkeypatch.setattr(os, 'scandir', refuse)
    monkeypatch.setattr(readers, 'open', refuse, raising=False)
    records = list(readers.read_records([root]))
    assert [r.id for r in records] == ['secret.txt', 'z.txt', 'closed']
    assert f'{root / "secret.txt"}: cannot read: Permission denied' == records[0].error
    assert f'{root / "closed"}: cannot list the folder: Permission denied' == records[2].error
    assert records[1].error is None


def test_batch_of_a_directory_with_a_fifo_does_not_hang(tmp_path):
    root = tmp_path / 'news'
    root.mkdir()
    (root / 'a.txt').write_text('Иван Петров приехал в Москву.', encoding='utf-8')
    os.mkfifo(root / 'b.txt')
    out = tmp_path / 'out.jsonl'
    result = cli('batch', str(root), '-o', str(out), '-j', '1', timeout=300)
    assert result.returncode == 1, result.stderr  # done, one record failed
    assert [('error' in r) for r in read_jsonl(out)] == [False, True]


@pytest.mark.skipif(not Path('/dev/zero').exists(), reason='needs /dev/zero')
def test_tag_dev_zero_is_refused_in_one_line():
    assert_one_line_error(cli('tag', '/dev/zero', timeout=120), '/dev/zero')


# ---------------------------------------------------------------- 7. model files

def _damage(folder: Path, file: str, how: str) -> None:
    path = folder / file
    data = path.read_bytes()
    if how == 'truncated':
        path.write_bytes(data[:len(data) // 2])
    elif how == 'empty':
        path.write_bytes(b'')
    elif how == 'garbage':
        path.write_bytes(b'\xff\xfe not a profile file \x00' * 10)
    elif how == 'other arrays':
        import numpy as np
        np.savez(path, something=np.arange(3))
    else:  # a JSON edit: "field=value"
        name, value = how.split('=', 1)
        meta = json.loads(data)
        meta[name] = json.loads(value)
        path.write_text(json.dumps(meta), encoding='utf-8')


DAMAGE = [('ranker.npz', 'truncated'), ('ranker.npz', 'empty'), ('ranker.npz', 'garbage'),
          ('ranker.npz', 'other arrays'), ('house.npz', 'truncated'), ('neighbours.npz', 'garbage'),
          ('house.npz', 'other arrays'), ('ranker.json', 'empty'), ('ranker.json', 'truncated'),
          ('lookups.json', 'truncated'), ('lookups.json', 'garbage'), ('ranker.json', 'features="abc"'),
          ('ranker.json', 'features=[1, 2]'), ('ranker.json', 'least="8"'), ('ranker.json', 'borrow=1'),
          ('lookups.json', 'df=[]'), ('lookups.json', 'n_docs=null'), ('lookups.json', 'variants="no"')]


@pytest.fixture(scope='module')
def intact(tmp_path_factory) -> Path:
    import shutil

    from extractor.resources import profile_dir

    folder = tmp_path_factory.mktemp('models') / 'default'
    shutil.copytree(profile_dir('default'), folder)
    return folder


@pytest.mark.parametrize('file, how', DAMAGE)
def test_a_broken_profile_file_is_one_clear_error_naming_it(intact, tmp_path, file, how):
    import shutil

    from extractor.ranking import profile
    from extractor.resources import ProfileError

    folder = tmp_path / 'broken'
    shutil.copytree(intact, folder)
    _damage(folder, file, how)
    with pytest.raises(ProfileError) as caught:
        profile.load(folder)
    message = str(caught.value)
    assert message.startswith(str(folder / file) + ': '), message
    assert '\n' not in message and len(message) < 400, message


def test_cli_tag_with_a_broken_profile_says_which_file(intact, tmp_path):
    import shutil

    shutil.copytree(intact, tmp_path / 'broken')
    _damage(tmp_path / 'broken', 'ranker.npz', 'truncated')
    sample = REPO / 'samples' / '01_spartak_rotor.txt'
    env = {**os.environ, 'EXTRACTOR_MODELS': str(tmp_path)}
    result = cli('tag', str(sample), '--profile', 'broken', env=env)
    assert_one_line_error(result, str(tmp_path / 'broken' / 'ranker.npz'))
    src = write_jsonl(tmp_path / 'in.jsonl', GOOD)
    result = cli('batch', str(src), '-o', str(tmp_path / 'out.jsonl'), '-j', '2', '--profile', 'broken',
                 env=env)
    assert result.returncode == 2, result.stderr
    assert_one_line_error(result, str(tmp_path / 'broken' / 'ranker.npz'))


@pytest.mark.parametrize('kind', ['missing', 'a file'])
def test_extractor_models_that_is_no_folder_is_an_error(tmp_path, kind):
    from extractor import Tagger
    from extractor.resources import ModelNotFound

    path = tmp_path / 'models'
    if kind == 'a file':
        path.write_text('x')
    sample = REPO / 'samples' / '01_spartak_rotor.txt'
    result = cli('tag', str(sample), env={**os.environ, 'EXTRACTOR_MODELS': str(path)})
    assert_one_line_error(result, f'$EXTRACTOR_MODELS is {str(path)!r}')
    with pytest.raises(ModelNotFound, match='models is'):
        Tagger(models=str(path))


# ---------------------------------------------------------------- the rest of the command line

UNWRITABLE = Path('/proc/extractor-test')  # not creatable, even by root


@pytest.mark.skipif(not Path('/proc/self').exists(), reason='needs Linux /proc')
def test_eval_report_and_train_out_to_an_unwritable_folder_fail_first_in_one_line(tmp_path):
    gold = tmp_path / 'gold.jsonl'
    rows = [{'id': str(i), 'text': f'Иван Петров приехал в Москву {i}.', 'tags': ['Москва']}
            for i in range(12)]
    write_jsonl(gold, rows)
    pred = write_jsonl(tmp_path / 'pred.jsonl', [{'id': r['id'], 'tags': r['tags']} for r in rows])
    report = UNWRITABLE / 'report'
    assert_one_line_error(cli('eval', str(gold), '--pred', str(pred), '--report', str(report)),
                          str(report))
    result = cli('train', str(gold), '--profile', 'x', '--out', str(UNWRITABLE), '--all')
    assert_one_line_error(result, str(UNWRITABLE))
    assert 'extracting' not in result.stderr and 'training documents' not in result.stderr
