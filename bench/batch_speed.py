"""Batch speed and memory: docs/s at -j 1, -j 2 and Dask, peak RSS per process, 2,000 vs N docs.

    python bench/batch_speed.py                      # 2,000 dev docs (ng + rt), -j 1 and -j 2
    python bench/batch_speed.py --big 50000          # also memory at 2,000 vs 50,000 docs
    python bench/batch_speed.py --dask               # also the Dask engine beside -j 2
    python bench/batch_speed.py --docs 200 --chars 500 --big 5000   # a quick look

Each run is ``python -m extractor.cli batch`` in a subprocess; its process tree is sampled from
/proc (VmHWM, the peak RSS of each process) or, without /proc, by getrusage of the children.
Not a test: it prints a table.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]


def dev_docs(folder: Path, n: int, chars: int) -> list[dict]:
    """The first ``n`` documents of ng then rt dev, texts cut to ``chars`` (0: whole)."""
    rows: list[dict] = []
    for name in ('ng', 'rt'):
        with gzip.open(folder / f'{name}.dev.jsonl.gz', 'rt', encoding='utf-8') as handle:
            for line in handle:
                row = json.loads(line)
                if chars:
                    row['text'] = row['text'][:chars]
                rows.append({'id': row['id'], 'title': row['title'], 'text': row['text']})
                if len(rows) >= n:
                    return rows
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    with open(path, 'w', encoding='utf-8') as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + '\n')
    return path


def write_archive(path: Path, rows: list[dict], n: int) -> Path:
    """A tar.gz of ``n`` text files cycling through ``rows``, written without holding it whole."""
    with tarfile.open(path, 'w:gz') as archive:
        for i in range(n):
            row = rows[i % len(rows)]
            data = f"{row['title']}\n{row['text']}\n".encode('utf-8')
            info = tarfile.TarInfo(f'docs/{i // 1000:03d}/{i:06d}.txt')
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def tree(pid: int) -> dict[int, int]:
    """``pid`` and all its descendants (Linux /proc), each with its parent."""
    children: dict[int, list[int]] = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            ppid = int(stat.read_text().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = {pid: 0}, [pid]
    while todo:
        parent = todo.pop()
        for child in children.get(parent, []):
            found[child] = parent
            todo.append(child)
    return found


def peak_kb(pid: int) -> int:
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def role(pid: int, parent: int, main: int) -> str:
    """main, forkserver, tracker or worker (workers are forked by the forkserver under it)."""
    if pid == main:
        return 'main'
    try:
        cmdline = Path(f'/proc/{pid}/cmdline').read_bytes()
    except OSError:
        return 'gone'
    if parent == main and b'forkserver' in cmdline:
        return 'forkserver'
    if b'resource_tracker' in cmdline:
        return 'tracker'
    return 'worker'


def run(inputs: list[Path], jobs: int, out: Path, profile: str = '', engine: str = 'local') -> dict:
    """One batch run: seconds, docs, peak RSS of the main process and of the largest worker."""
    if out.exists():
        out.unlink()
    command = [sys.executable, '-m', 'extractor.cli', 'batch', *map(str, inputs), '-o', str(out),
               '-j', str(jobs), '--engine', engine] + (['--profile', profile] if profile else [])
    env = {**os.environ, 'PYTHONPATH': str(REPO)}
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    peaks: dict[int, tuple[str, int]] = {}
    proc_fs = Path('/proc/self/status').exists()
    while proc.poll() is None:
        if proc_fs:
            for pid, parent in tree(proc.pid).items():
                kb = peak_kb(pid)
                if kb:
                    peaks[pid] = (role(pid, parent, proc.pid), max(kb, peaks.get(pid, ('', 0))[1]))
        time.sleep(0.25)
    seconds = time.monotonic() - started
    log = proc.stderr.read() if proc.stderr else ''
    if proc.returncode not in (0, 1):
        raise SystemExit(f'{" ".join(command)} failed ({proc.returncode}):\n{log}')
    with open(out, 'rb') as handle:
        docs = sum(1 for _ in handle)
    main = max((kb for r, kb in peaks.values() if r == 'main'), default=0)
    worker = max((kb for r, kb in peaks.values() if r == 'worker'), default=0)
    if not peaks:  # no /proc: the largest child process is all we can know
        main = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {'docs': docs, 'seconds': seconds, 'main_mb': main / 1024, 'worker_mb': worker / 1024,
            'summary': log.strip().splitlines()[-1] if log.strip() else ''}


def table(rows: list[tuple[str, dict]]) -> Iterator[str]:
    yield f"{'run':<22} {'docs':>7} {'seconds':>9} {'docs/s':>8} {'main MB':>9} {'worker MB':>10}"
    for name, r in rows:
        worker = f"{r['worker_mb']:.0f}" if r['worker_mb'] else '-'
        yield (f"{name:<22} {r['docs']:>7} {r['seconds']:>9.1f} {r['docs'] / r['seconds']:>8.2f} "
               f"{r['main_mb']:>9.0f} {worker:>10}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--docs', type=int, default=2000, help='dev documents (default 2000)')
    parser.add_argument('--chars', type=int, default=0,
                        help='cut each text to this many characters (default: whole texts)')
    parser.add_argument('--jobs', default='1,2', help='-j values to compare (default 1,2)')
    parser.add_argument('--big', type=int, default=0,
                        help='also compare memory at --docs vs this many docs (tar.gz, -j max)')
    parser.add_argument('--profile', default='', help='tagger profile (default: the default)')
    parser.add_argument('--dask', action='store_true',
                        help='also the Dask engine on a local cluster of max(--jobs) workers')
    parser.add_argument('--datasets', type=Path,
                        default=Path(os.environ.get('EXTRACTOR_DATASETS',
                                                    REPO.parent / 'shared' / 'datasets')))
    args = parser.parse_args()
    jobs = [int(j) for j in args.jobs.split(',')]
    rows: list[tuple[str, dict]] = []
    with tempfile.TemporaryDirectory(prefix='batch-speed-') as tmp:
        folder = Path(tmp)
        docs = dev_docs(args.datasets, args.docs, args.chars)
        src = write_jsonl(folder / 'dev.jsonl', docs)
        for j in jobs:
            rows.append((f'-j {j} jsonl', run([src], j, folder / f'out-{j}.jsonl', args.profile)))
            print(list(table(rows[-1:]))[1], file=sys.stderr)  # as it goes: runs are long
        if args.dask:
            j = max(jobs)
            rows.append((f'dask {j} workers jsonl', run([src], j, folder / 'out-dask.jsonl',
                                                        args.profile, 'dask')))
            print(list(table(rows[-1:]))[1], file=sys.stderr)
        if args.big:
            j = max(jobs)
            for n in (len(docs), args.big):
                archive = write_archive(folder / f'docs-{n}.tar.gz', docs, n)
                out = folder / f'big-{n}.jsonl'
                rows.append((f'-j {j} tar.gz x{n}', run([archive], j, out, args.profile)))
                print(list(table(rows[-1:]))[1], file=sys.stderr)
                archive.unlink()
    print('\n'.join(table(rows)))
    by_name = dict(rows)
    base = by_name.get(f'-j {jobs[0]} jsonl')
    for j in jobs[1:]:
        other = by_name[f'-j {j} jsonl']
        print(f"speed-up -j {j} / -j {jobs[0]}: "
              f"{(other['docs'] / other['seconds']) / (base['docs'] / base['seconds']):.2f}x")
    if args.big:
        j = max(jobs)
        small, big = by_name[f'-j {j} tar.gz x{len(docs)}'], by_name[f'-j {j} tar.gz x{args.big}']
        for key, label in (('main_mb', 'main'), ('worker_mb', 'worker')):
            if small[key]:
                print(f'peak RSS {label} at {args.big} / {len(docs)} docs: '
                      f'{big[key] / small[key]:.2f}x')


if __name__ == '__main__':
    main()
