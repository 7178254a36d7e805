"""Hostile inputs: max RSS and wall time of ``extractor tag FILE`` on texts built to be hard.

    python bench/hostile.py                       # every case
    python bench/hostile.py --cases names,repeated --cap-gb 3

Each case is written to a file under a temporary folder and tagged by ``extractor tag`` in a
fresh subprocess under an address-space cap (``--cap-gb``, default 4 GB), so that a case that
blows up cannot take the machine down: it fails with MemoryError or is killed, and the table
says so. Max RSS is the child's ``ru_maxrss`` (models included: ~300 MB of it is loading).
Not a test: it prints a table (``--json`` for one JSON line).

Cases: ``article`` (the samples repeated to 5 MB), ``names`` (1 MB of people's, places' and
organizations' names), ``repeated`` (``'Москва ' * 150000``), ``bangs`` (``'!' * 1_000_000``),
``word`` (one 100,000-letter word), ``letters`` (one of 1,000,000), ``initials``
(``'А.' * 500_000``), ``quotes`` (500,000 « then as many »), ``format`` (a news sentence strewn
with Cf characters).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = ('Алексей Логвиненко', 'Москва', 'Санкт-Петербург', '«Газпром»', 'Владимир Путин',
         'Ростов-на-Дону', 'Сбербанк', 'ООН', 'Казань', 'Сергей Шойгу', 'Волгоград', 'Зенит',
         'Андрей Королёв', 'Минфин', 'Германия', 'Ангела Меркель', 'НАТО', 'Екатеринбург')


def sample_text() -> str:
    return '\n'.join(p.read_text(encoding='utf-8') for p in sorted((REPO / 'samples').glob('*.txt')))


def _names(size: int) -> str:
    out, n = [], 0
    while n < size:
        for name in NAMES:
            out.append(name)
            n += len(name) + 2
    return ', '.join(out)[:size]


CASES = {
    'article': lambda: (sample_text() * (5_000_000 // len(sample_text()) + 1))[:5_000_000],
    'names': lambda: _names(1_000_000),
    'repeated': lambda: 'Москва ' * 150_000,
    'bangs': lambda: '!' * 1_000_000,
    'word': lambda: 'Путин встретился с ' + 'Ж' * 100_000 + ' в Казани.',
    'letters': lambda: 'Ж' * 1_000_000,
    'initials': lambda: 'А.' * 500_000,
    'quotes': lambda: '«' * 500_000 + '»' * 500_000,
    'format': lambda: 'Глава Ростова-на-Дону\u202e Алексей\u200b Логвиненко\u200d прибыл в '
                      '\ufeffКазань\u200e и\u2066 Санкт-Петербург\u2069.' * 20,
}


def run(name: str, folder: Path, cap_gb: float, timeout: float) -> dict:
    path = folder / f'{name}.txt'
    text = CASES[name]()
    path.write_text(text, encoding='utf-8')
    cap = int(cap_gb * 2 ** 30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, '-m', 'extractor.cli', 'tag', str(path)],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=limit, env={**os.environ, 'OPENBLAS_NUM_THREADS': '1'})
    try:
        out, err = process.communicate(timeout=timeout)
        status = process.returncode
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        status = 'timeout'
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the largest child so far
    tags = out.decode('utf-8', 'replace').split(' #')
    return {'case': name, 'chars': len(text),
            'status': status, 'seconds': round(seconds, 1),
            'max_rss_mb': round(usage.ru_maxrss / 1024), 'tags': len(tags) if out.strip() else 0,
            'longest_tag': max(map(len, tags)) if out.strip() else 0,
            'error': err.decode('utf-8', 'replace').strip().splitlines()[-1:] if status else []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', default=','.join(CASES), help='comma-separated case names')
    parser.add_argument('--cap-gb', type=float, default=4.0, help='address-space cap per run')
    parser.add_argument('--timeout', type=float, default=900, help='seconds per run')
    parser.add_argument('--json', action='store_true', help='one JSON line per case')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='hostile-') as temp:
        for name in args.cases.split(','):
            # ru_maxrss of RUSAGE_CHILDREN is the maximum over all children: one child per
            # case, in its own python, so that each figure is that case's alone
            if len(args.cases.split(',')) > 1:
                result = json.loads(subprocess.run(
                    [sys.executable, __file__, '--cases', name, '--cap-gb', str(args.cap_gb),
                     '--timeout', str(args.timeout), '--json'], capture_output=True, text=True,
                    check=True).stdout)
            else:
                result = run(name, Path(temp), args.cap_gb, args.timeout)
            if args.json:
                print(json.dumps(result, ensure_ascii=False), flush=True)
            else:
                print(f"{result['case']:<9} {result['chars']:>9,} chars  status {result['status']!s:<7} "
                      f"{result['seconds']:>7.1f} s  max RSS {result['max_rss_mb']:>6} MB  "
                      f"{result['tags']} tags (longest {result['longest_tag']})"
                      + (f"  {result['error']}" if result['error'] else ''), flush=True)


if __name__ == '__main__':
    main()
