"""The Dask engine on a 2-worker LocalCluster: same records as the local engine, models loaded
once per worker, a killed worker loses and repeats nothing."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip('distributed', reason='the Dask engine needs: pip install "extractor[dask]"')

from extractor.engines import batch  # noqa: E402
from extractor.engines import cluster as dask_engine  # noqa: E402

from helpers import CachedTagger, read_jsonl, short_dev  # noqa: E402

BAD_LINES = [
    '{"id": "broken", "text": "Москва',  # broken JSON
    '{"id": "no-text", "title": "Заголовок"}',
    '{"id": "empty", "text": "   "}',
]


@pytest.fixture(scope='module')
def client():
    from distributed import Client

    client, cluster = dask_engine.connect(workers=2)
    assert isinstance(client, Client)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope='module')
def archive(tmp_path_factory, datasets) -> Path:
    """200 dev documents (cut short, to be quick) with three bad records among them."""
    rows = short_dev(200, chars=300)
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    for offset, bad in zip((10, 90, 150), BAD_LINES):
        lines.insert(offset, bad)
    path = tmp_path_factory.mktemp('dask') / 'docs.jsonl'
    path.write_text('\n'.join(lines) + '\n', encoding='utf-8')
    return path


@pytest.fixture(scope='module')
def local_records(archive, tmp_path_factory, tagger) -> list[dict]:
    out = tmp_path_factory.mktemp('local') / 'local.jsonl'
    cached = CachedTagger(tagger)
    batch.run_batch([archive], out, jobs=1, tagger_factory=lambda profile: cached)
    return read_jsonl(out)


def test_dask_engine_gives_the_local_records_and_loads_models_once(client, archive, local_records,
                                                                    tmp_path):
    out = tmp_path / 'dask.jsonl'
    summary = batch.run_batch([archive], out, cluster=batch.Cluster(client=client), batch_size=8)
    records = read_jsonl(out)
    assert records == local_records
    assert summary.failed == 3 and summary.tagged == 200
    assert {r['id'] for r in records if 'error' in r} == {'docs.jsonl:11', 'no-text', 'empty'}
    loads = client.run(dask_engine.loads)
    assert sorted(loads.values()) == [1, 1], loads  # both workers worked, each built one tagger


def test_killed_worker_loses_and_repeats_nothing(client, archive, local_records, tmp_path):
    out = tmp_path / 'killed.jsonl'
    result: dict = {}

    def run() -> None:
        try:
            result['summary'] = batch.run_batch([archive], out, batch_size=4,
                                                cluster=batch.Cluster(partitions=4, client=client))
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            result['error'] = e

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.exists() and out.stat().st_size, 'no output before the deadline'
    assert thread.is_alive(), 'the run ended before the kill'
    pids = client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    thread.join(300)
    assert not thread.is_alive() and 'error' not in result, result.get('error')
    records = read_jsonl(out)
    assert [r['id'] for r in records] == [r['id'] for r in local_records]
    assert records == local_records


def test_tag_bag_and_tag_ddf(client):
    import dask.bag as db
    import dask.dataframe as dd
    import pandas as pd

    texts = ['Президент России Владимир Путин прилетел в Казань.', '', 'Глава Ростова-на-Дону '
             'Алексей Логвиненко принял участие в сессии в Санкт-Петербурге.']
    bag = db.from_sequence([(f'd{i}', t) for i, t in enumerate(texts)], npartitions=2)
    out = dask_engine.tag_bag(bag).compute()
    assert [r['id'] for r in out] == ['d0', 'd1', 'd2']
    assert 'error' in out[1] and out[2]['tags']
    assert 'Санкт-Петербург' in [e['normal'] for e in out[2]['entities']]
    frame = pd.DataFrame({'id': ['a', 'b', 'c'], 'text': texts})
    tagged = dask_engine.tag_ddf(dd.from_pandas(frame, npartitions=2)).compute()
    assert list(tagged['id']) == ['a', 'b', 'c']
    assert [bool(t) for t in tagged['tags']] == [True, False, True]
    assert tagged['error'].iloc[1] and tagged['error'].isna().sum() == 2


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, 'distributed', None)
    with pytest.raises(ImportError, match=r'pip install "extractor\[dask\]"'):
        dask_engine.connect()


def test_tag_ddf_writes_parquet_with_the_meta_its_partitions_have(client, tmp_path):
    """The README's ``tag_ddf(...).to_parquet(dir)``: the meta's dtypes are the partitions'
    dtypes, and the files read back as the computed frame."""
    import dask.dataframe as dd
    import pandas as pd

    frame = pd.DataFrame({'id': ['a', 'b', 'c'], 'title': ['Визит', None, 'Сессия'],
                          'text': ['Президент России Владимир Путин прилетел в Казань.', '',
                                   'Алексей Логвиненко выступил в Санкт-Петербурге.']})
    tagged = dask_engine.tag_ddf(dd.from_pandas(frame, npartitions=2))
    computed = tagged.compute()
    assert dict(tagged._meta.dtypes) == dict(computed.dtypes)
    tagged.to_parquet(tmp_path / 'tags')
    back = dd.read_parquet(tmp_path / 'tags', dtype_backend='pyarrow').compute()
    assert list(back['id']) == ['a', 'b', 'c']
    assert [list(t) for t in back['tags']] == [list(t) for t in computed['tags']]
    assert computed['tags'].iloc[0] and not len(computed['tags'].iloc[1])
    assert 'Санкт-Петербург' in [e['normal'] for e in back['entities'].iloc[2]]
    assert back['error'].iloc[1] == 'empty text' and back['error'].isna().sum() == 2
    pandas_back = pd.read_parquet(tmp_path / 'tags', dtype_backend='pyarrow')
    assert list(pandas_back['id']) == ['a', 'b', 'c']


def test_tag_ddf_never_overwrites_a_column(client):
    import dask.dataframe as dd
    import pandas as pd

    frame = dd.from_pandas(pd.DataFrame({'id': ['a'], 'text': ['Путин прилетел в Казань.'],
                                         'tags': ['#Казань']}), npartitions=1)
    with pytest.raises(ValueError, match=r"already has 'tags'.*prefix='pred_'"):
        dask_engine.tag_ddf(frame)
    tagged = dask_engine.tag_ddf(frame, prefix='pred_').compute()
    assert list(tagged['tags']) == ['#Казань'] and 'Казань' in list(tagged['pred_tags'].iloc[0])
    with pytest.raises(ValueError, match=r"no text column 'body' \(its columns: id, text, tags\)"):
        dask_engine.tag_ddf(frame, text='body', prefix='pred_')


def test_read_articles_gives_one_document_per_file(client, tmp_path, tagger, monkeypatch):
    """Whole files, read as ``read_article`` reads them (any encoding, no gold line): the
    records of ``tag_bag`` are the library's tags of each file's article."""
    from extractor import read_article

    samples = sorted((Path(__file__).parents[1] / 'samples').glob('0[1-3]_*.txt'))
    folder = tmp_path / 'articles'
    folder.mkdir()
    for number, sample in enumerate(samples):
        text = sample.read_text(encoding='utf-8')
        (folder / sample.name).write_bytes(text.encode('cp1251' if number == 1 else 'utf-8'))
    (folder / 'zz_binary.txt').write_bytes(bytes(range(256)) * 4)
    monkeypatch.chdir(tmp_path)
    bag = dask_engine.read_articles('articles/*.txt')
    pairs = bag.compute()
    assert [p[0] for p in pairs[:3]] == [f'articles/{s.name}' for s in samples]
    assert all('#' not in text.splitlines()[-1] for _, text in pairs[:3])  # no gold line
    records = dask_engine.tag_bag(bag).compute()
    assert len(records) == 4
    assert records[3]['id'] == 'articles/zz_binary.txt' and 'error' in records[3]
    for sample, record in zip(samples, records):
        expected = tagger(read_article(folder / sample.name).text)
        assert record['tags'] == [t.text for t in expected.tags]
