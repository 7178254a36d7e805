"""Candidates and their raw features for every training record, on worker processes, cached.

Extraction tags each text as the tagger does, up to the candidates (no ranking), and offers
every spelling of every candidate: the trees learn which ones editors choose.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from ..analysis.candidates import Candidate, candidates
from ..analysis.phrases import other_number
from ..engines.pool import ordered_map
from ..evaluate import GoldRecord, record_text
from ..ranking.features import raw_features
from ..ranking.lemmas import bag
from ..tags import tag_key
from .data import Sample, group_key


_worker = None


def _init_worker(batch_size: int) -> None:
    global _worker
    from ..tagger import Tagger

    _worker = Tagger(profile='heuristic', batch_size=batch_size)


def _extract(chunk: list) -> list:
    out = []
    others = partial(other_number, vocab=_worker.models.vocab)
    for doc in _worker.pipe(chunk, ranked=False, errors='yield'):
        cands = candidates(doc) if doc.error is None else []
        for cand in cands:  # every spelling: the trees learn which ones editors choose
            cand.resolve(others)
        out.append((doc.id, cands, raw_features(doc, cands, _worker.models.embedding), bag(doc)))
    return out


def extract(records: list[GoldRecord], jobs: int = 1, batch_size: int = 16,
            progress: Optional[Callable[[int], None]] = None,
            cache: Optional[Path] = None) -> list[Sample]:
    """Candidates and their raw features for every record, on ``jobs`` processes.

    With ``cache`` (a folder), what was extracted from a text by this very code is kept in
    a JSONL file and reused, so that training several profiles tags each text once.
    """
    texts = {r.id: record_text(r) for r in records}
    stored = load_cache(cache)
    todo = [(r.id, texts[r.id]) for r in records if text_hash(texts[r.id]) not in stored]
    if progress and len(todo) < len(records):
        progress(len(records) - len(todo))
    fresh = []
    chunks = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    if jobs > 1 and len(chunks) > 1:
        results = ordered_map(_extract, chunks, jobs, _init_worker, (batch_size,))
    else:
        if chunks:
            _init_worker(batch_size)
        results = map(_extract, chunks)
    for result in results:
        fresh += result
        progress and progress(len(result))
    for id, cands, raw, counts in fresh:
        stored[text_hash(texts[id])] = (cands, raw, counts)
    save_cache(cache, {text_hash(texts[id]): stored[text_hash(texts[id])] for id, *_ in fresh})
    samples = []
    for r in records:
        cands, raw, counts = stored[text_hash(texts[r.id])]
        samples.append(Sample(r.id, group_key(r.text), {tag_key(t) for t in r.tags} - {''},
                              cands, raw, counts))
    return samples


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode('utf-8')).hexdigest()


def cache_file(cache: Path) -> Path:
    """One file per version of the extraction code: any change to it starts afresh."""
    code = hashlib.sha1()
    for path in sorted(Path(__file__).parent.parent.rglob('*.py')):  # the whole package
        code.update(path.read_bytes())
    return cache / f'samples-{code.hexdigest()[:12]}.jsonl.gz'


def load_cache(cache: Optional[Path]) -> dict:
    if cache is None or not cache_file(cache).is_file():
        return {}
    stored = {}
    try:
        with gzip.open(cache_file(cache), 'rt', encoding='utf-8') as file:
            for line in file:
                data = json.loads(line)
                cands = [Candidate(k, kind, [tuple(m) for m in mentions], Counter(forms), Counter(types),
                                   Counter(variants))
                         for k, kind, mentions, forms, types, variants in data['cands']]
                raw = np.array(data['raw'], dtype=np.float64).reshape(len(cands), -1)
                stored[data['hash']] = (cands, raw, Counter(data['bag']))
    except (OSError, EOFError, ValueError, RecursionError):  # a torn last line: keep the rest
        pass
    return stored


def save_cache(cache: Optional[Path], entries: dict) -> None:
    if cache is None or not entries:
        return
    cache.mkdir(parents=True, exist_ok=True)
    with gzip.open(cache_file(cache), 'at', encoding='utf-8') as file:
        for key, (cands, raw, counts) in entries.items():
            data = {'hash': key, 'raw': raw.tolist(), 'bag': counts,
                    'cands': [[c.key, c.kind, c.mentions, c.forms, c.types, c.variants]
                              for c in cands]}
            file.write(json.dumps(data, ensure_ascii=False) + '\n')
