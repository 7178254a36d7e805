"""Do two versions of the code tag alike? Snapshot the tags, then compare with a snapshot.

    python bench/same_tags.py --write before.json.gz      # on the old code
    python bench/same_tags.py --compare before.json.gz    # on the new: exit 1 on any difference

Tags (text, kind, score) and entities (offsets, type, normal form) of ``samples/`` and of the
first ``--n`` (300) articles of each dev corpus (ng, rt, seedstyle) under ``default``, and of
ng's and rt's under their own profiles. For refactoring, where the tags must not change.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPORA = ('ng', 'rt', 'seedstyle')
RUNS = [('default', name) for name in ('samples',) + CORPORA] + [('ng', 'ng'), ('rt', 'rt')]


def datasets() -> Path:
    path = Path(os.environ.get('EXTRACTOR_DATASETS') or ROOT.parent / 'shared' / 'datasets')
    if not path.is_dir():
        sys.exit(f'corpora not found at {path}: set EXTRACTOR_DATASETS')
    return path


def articles(name: str, n: int) -> list[tuple[str, str]]:
    """(id, text the tagger reads) of ``samples/`` or the first ``n`` records of a corpus."""
    from extractor import read_article

    if name == 'samples':
        return [(p.name, read_article(p).text) for p in sorted((ROOT / 'samples').glob('*.txt'))]
    out = []
    with gzip.open(datasets() / f'{name}.dev.jsonl.gz', 'rt', encoding='utf-8') as file:
        for line in file:
            record = json.loads(line)
            title, text = record.get('title') or '', record['text']
            if title and not text.lstrip().startswith(title.strip()):
                text = f'{title}\n{text}'
            out.append((str(record['id']), text))
            if len(out) >= n:
                break
    return out


def snapshot(n: int) -> dict:
    from extractor import Tagger

    result, shared = {}, None
    for profile, name in RUNS:
        tagger = Tagger(profile=profile) if shared is None else Tagger(profile=profile,
                                                                        share=shared)
        shared = shared or tagger
        started = time.perf_counter()
        docs = {}
        for doc in tagger.pipe(articles(name, n), errors='yield'):
            docs[doc.id] = {'error': doc.error,
                            'tags': [[t.text, t.kind, t.score] for t in doc.tags],
                            'entities': [[e.start, e.stop, e.type, e.normal] for e in doc.entities]}
        result[f'{profile}/{name}'] = docs
        print(f'{profile}/{name}: {len(docs)} documents, {time.perf_counter() - started:.0f} s',
              file=sys.stderr)
    return result


def compare(old: dict, new: dict) -> int:
    """Print each difference; the number of documents that differ."""
    differ = 0
    for run, docs in old.items():
        for id, before in docs.items():
            after = new.get(run, {}).get(id)
            if after != before:
                differ += 1
                if differ <= 20:
                    print(f'{run} {id}:\n  before {before and before["tags"]}\n'
                          f'  after  {after and after["tags"]}')
    total = sum(len(docs) for docs in old.values())
    print(f'{total - differ} of {total} documents tag the same; {differ} differ')
    return differ


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--write', metavar='FILE', help='write a snapshot (.json.gz)')
    group.add_argument('--compare', metavar='FILE', help='compare with a snapshot; exit 1 if any differs')
    parser.add_argument('--n', type=int, default=300, help='articles of each corpus (default 300)')
    args = parser.parse_args()
    current = snapshot(args.n)
    if args.write:
        with gzip.open(args.write, 'wt', encoding='utf-8') as file:
            json.dump(current, file, ensure_ascii=False)
        return 0
    with gzip.open(args.compare, 'rt', encoding='utf-8') as file:
        return 1 if compare(json.load(file), current) else 0


if __name__ == '__main__':
    sys.exit(main())
