"""Speed against natasha's own pipeline, on the same documents, in one run.

    python bench/speed.py                    # 500 ng dev documents, one round
    python bench/speed.py --rounds 3         # three rounds, natasha and ours alternating
    python bench/speed.py --n 100 --rounds 1 # a quick look

Each measurement runs in a fresh subprocess (one process, one BLAS thread), loads its models,
tags one warm-up text, then times the documents: so docs/s exclude model loading and the peak
RSS (VmHWM) is that system's alone. natasha's pipeline is what its README shows: segment, morph
tagger, syntax parser, NER, span normalization, here over a pymorphy3 vocabulary (natasha's own
``MorphVocab`` needs pymorphy2, which does not run on Python 3.11). Ours is ``Tagger()`` with
the default profile, scored against the documents' gold tags with PROTOCOL.md's scorer, so a
speed-up that costs quality shows. Last, the cold-start wall time of ``extractor tag FILE``.
Not a test: it prints a table.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# One BLAS thread, set before numpy loads (here and, through the environment, in children).
for _name in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[_name] = '1'

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def datasets() -> Path:
    return Path(os.environ.get('EXTRACTOR_DATASETS') or REPO.parent / 'shared' / 'datasets')


def read_docs(path: Path, n: int) -> list[dict]:
    rows = []
    with gzip.open(path, 'rt', encoding='utf-8') as handle:
        for line in handle:
            row = json.loads(line)
            rows.append({'id': str(row['id']), 'text': f"{row['title']}\n{row['text']}",
                         'tags': row.get('tags') or []})
            if len(rows) >= n:
                break
    return rows


def peak_rss_mb() -> float:
    try:
        with open('/proc/self/status') as handle:
            for line in handle:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_natasha(texts: list[str]) -> dict:
    from natasha import (Doc, NewsEmbedding, NewsMorphTagger, NewsNERTagger,
                         NewsSyntaxParser, Segmenter)
    from extractor.analysis.morph import Vocab
    segmenter, emb, vocab = Segmenter(), NewsEmbedding(), Vocab()
    morph, syntax, ner = NewsMorphTagger(emb), NewsSyntaxParser(emb), NewsNERTagger(emb)

    def process(text: str) -> list[str]:
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_morph(morph)
        doc.parse_syntax(syntax)
        doc.tag_ner(ner)
        for span in doc.spans:
            span.normalize(vocab)
        return [span.normal for span in doc.spans]

    process('Прогрев моделей в Москве.')
    start = time.perf_counter()
    outputs = [process(text) for text in texts]
    return {'seconds': time.perf_counter() - start, 'outputs': outputs}


def run_ours(texts: list[str], batch_size: int) -> dict:
    from extractor import Tagger
    tagger = Tagger()
    tagger('Прогрев моделей в Москве.')
    start = time.perf_counter()
    outputs = [[tag.text for tag in doc.tags] for doc in tagger.pipe(texts, batch_size=batch_size)]
    return {'seconds': time.perf_counter() - start, 'outputs': outputs}


def child(args: argparse.Namespace) -> None:
    """One measurement, in this (fresh) process; prints one JSON line."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    docs = read_docs(args.data, args.n)
    texts = [d['text'] for d in docs]
    result = run_natasha(texts) if args.system == 'natasha' else run_ours(texts, args.batch_size)
    result['rss_mb'] = peak_rss_mb()
    print(json.dumps(result, ensure_ascii=False))


def measure(system: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, '--system', system, '--n', str(args.n),
               '--data', str(args.data), '--batch-size', str(args.batch_size)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f'{system} run failed:\n{done.stderr[-3000:]}')
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result['docs_per_s'] = args.n / result['seconds']
    return result


def cold_start(sample: Path) -> float:
    script = Path(sys.executable).with_name('extractor')
    command = [str(script)] if script.exists() else [sys.executable, str(REPO / 'cli.py')]
    start = time.perf_counter()
    done = subprocess.run(command + ['tag', str(sample)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f'extractor tag failed:\n{done.stderr[-2000:]}')
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--n', type=int, default=500, help='documents (default 500)')
    parser.add_argument('--data', type=Path, default=None,
                        help='a JSONL(.gz) of id, title, text, tags (default: ng.dev from '
                             '$EXTRACTOR_DATASETS or ../shared/datasets)')
    parser.add_argument('--rounds', type=int, default=1, help='measurements of each system')
    parser.add_argument('--batch-size', type=int, default=32, help="our Tagger's batch size")
    parser.add_argument('--system', choices=('natasha', 'ours'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data = args.data or datasets() / 'ng.dev.jsonl.gz'
    if not args.data.exists():
        sys.exit(f'no documents at {args.data}: give --data or set EXTRACTOR_DATASETS')
    if args.system:
        return child(args)

    from extractor.evaluate import score_corpus
    docs = read_docs(args.data, args.n)
    args.n = len(docs)
    print(f'{args.n} documents of {args.data.name}, {sum(len(d["text"]) for d in docs) / args.n:.0f} '
          f'characters on average; one process, one BLAS thread; {os.cpu_count()} cores')
    print(f'{"round":>5}  {"natasha d/s":>11}  {"ours d/s":>9}  {"ratio":>6}  '
          f'{"natasha MB":>10}  {"ours MB":>8}  {"our F1":>7}')
    ratios = []
    for number in range(1, args.rounds + 1):
        base = measure('natasha', args)
        ours = measure('ours', args)
        summary = score_corpus((pred, d['tags']) for pred, d in zip(ours['outputs'], docs))
        f1 = summary.exact.macro_f1
        ratio = ours['docs_per_s'] / base['docs_per_s']
        ratios.append(ratio)
        print(f'{number:>5}  {base["docs_per_s"]:>11.2f}  {ours["docs_per_s"]:>9.2f}  {ratio:>5.2f}x  '
              f'{base["rss_mb"]:>10.0f}  {ours["rss_mb"]:>8.0f}  {f1:>7.3f}', flush=True)
    if args.rounds > 1:
        print(f'median ratio {statistics.median(ratios):.2f}x')
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / 'article.txt'
        sample.write_text(docs[0]['text'], encoding='utf-8')
        walls = [cold_start(sample) for _ in range(3)]
    print(f'cold start, extractor tag on one article: {min(walls):.2f} s '
          f'(best of 3: {", ".join(f"{w:.2f}" for w in walls)})')


if __name__ == '__main__':
    main()
