"""Helpers the engine tests share: dev documents, inputs in every format, a fake tagger."""
from __future__ import annotations

import bz2
import copy
import csv
import gzip
import io
import json
import os
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from extractor.doc import Doc, Entity, Tag

REPO = Path(__file__).resolve().parents[1]
FORMATS = ('jsonl', 'jsonl.gz', 'jsonl.bz2', 'csv', 'csv.gz', 'parquet', 'dir', 'txt', 'tar',
           'tar.gz', 'zip', 'stdin')


def datasets_dir() -> Path:
    return Path(os.environ.get('EXTRACTOR_DATASETS', REPO.parent / 'shared' / 'datasets'))


def load_dev(n: int = 20, names: tuple = ('ng',)) -> list[dict]:
    """The first ``n`` documents (id, title, text, tags) of the dev sets; skip when absent."""
    rows: list[dict] = []
    for name in names:
        path = datasets_dir() / f'{name}.dev.jsonl.gz'
        if not path.exists():
            pytest.skip(f'{path} not found (set EXTRACTOR_DATASETS to the shared datasets folder)')
        with gzip.open(path, 'rt', encoding='utf-8') as handle:
            for line in handle:
                rows.append(json.loads(line))
                if len(rows) >= n:
                    return rows
    return rows


def doc_key(rid: str) -> str:
    """'doc07', whatever the format made of the id ('sub/doc07.txt', 'doc07')."""
    return re.search(r'doc\d+', rid.rsplit('/', 1)[-1]).group()


def seed_article(doc: dict) -> str:
    """A document as a text file in the seed format: title, body, gold tags, footer."""
    tags = ' '.join('#' + t for t in doc.get('tags', ['тег']))
    return f"{doc['title']}\n{doc['text']}\n\n{tags}\nПодпишитесь\n"


def write_inputs(docs: list[dict], folder: Path) -> dict[str, list[str]]:
    """The same documents (ids doc00, doc01, ...) as every input format; format -> inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{'id': f'doc{i:02d}', 'title': d['title'], 'text': d['text']}
            for i, d in enumerate(docs)]
    jsonl = ''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows).encode('utf-8')
    (folder / 'docs.jsonl').write_bytes(jsonl)
    (folder / 'docs.jsonl.gz').write_bytes(gzip.compress(jsonl))
    (folder / 'docs.jsonl.bz2').write_bytes(bz2.compress(jsonl))
    text = io.StringIO()
    out = csv.DictWriter(text, ['id', 'title', 'text'])
    out.writeheader()
    out.writerows(rows)
    (folder / 'docs.csv').write_bytes(text.getvalue().encode('utf-8'))
    (folder / 'docs.csv.gz').write_bytes(gzip.compress(text.getvalue().encode('utf-8')))
    import pandas as pd

    pd.DataFrame(rows).to_parquet(folder / 'docs.parquet')
    tree = folder / 'tree'
    names = []
    for i, doc in enumerate(docs):
        name = f'doc{i:02d}.txt' if i % 2 == 0 else f'sub/doc{i:02d}.txt'  # recursion too
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(seed_article(doc).encode('utf-8'))
        names.append(name)
    for suffix, mode in (('tar', 'w'), ('tar.gz', 'w:gz')):
        with tarfile.open(folder / f'docs.{suffix}', mode) as archive:
            for name in names:
                archive.add(tree / name, arcname=name)
    with zipfile.ZipFile(folder / 'docs.zip', 'w', zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(tree / name, arcname=name)
    inputs = {f: [str(folder / f'docs.{f}')] for f in FORMATS if f not in ('dir', 'txt', 'stdin')}
    inputs['dir'] = [str(tree)]
    inputs['txt'] = [str(tree / name) for name in names]
    inputs['stdin'] = ['-']
    return inputs


def feed_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, 'stdin', io.TextIOWrapper(io.BytesIO(data), encoding='utf-8'))


def squash(text: str) -> str:
    return ' '.join(text.split())


class FakeTagger:
    """Capitalized words as tags and PER entities; a text with BOOM fails."""

    def pipe(self, items, batch_size=32, errors='raise'):
        for item in items:
            rid, text = item if isinstance(item, tuple) else (None, item)
            if 'BOOM' in text:
                if errors == 'raise':
                    raise RuntimeError('boom')
                yield Doc(text=text, id=rid, error='RuntimeError: boom')
                continue
            found = list(re.finditer(r'\b[А-ЯЁA-Z][а-яёa-z]+', text))
            words = list(dict.fromkeys(m.group() for m in found))
            yield Doc(text=text, id=rid, tags=[Tag(w, 'TOPIC', 1.0) for w in words[:5]],
                      entities=[Entity(m.start(), m.end(), 'PER', m.group(), m.group())
                                for m in found[:3]])


def fake_factory(profile=None) -> FakeTagger:
    return FakeTagger()


class StopAfter(FakeTagger):
    """Raises KeyboardInterrupt on its ``n``-th pipe call: a Ctrl-C in the middle of a run."""

    def __init__(self, n: int) -> None:
        self.calls, self.n = 0, n

    def pipe(self, items, batch_size=32, errors='raise'):
        self.calls += 1
        if self.calls >= self.n:
            raise KeyboardInterrupt
        return super().pipe(items, batch_size, errors)


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if str(path).endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8') as handle:
        return [json.loads(line) for line in handle]


def short_docs(n: int) -> list[dict]:
    return [{'id': f'd{i}', 'title': f'Заголовок {i}', 'text': f'Иван Петров приехал в Москву {i}.'}
            for i in range(n)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows), 'utf-8')
    return path


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


def short_dev(n: int, chars: int = 400) -> list[dict]:
    """``n`` dev documents (ng, then rt) cut to about ``chars`` characters: quick to tag."""
    rows = load_dev(n, names=('ng', 'rt'))
    for row in rows:
        row['text'] = row['text'][:chars].rsplit(' ', 1)[0]
    return rows
