"""What a killed ``extractor batch -j 2`` leaves behind: its processes alive N s after a signal.

    python bench/orphans.py                    # SIGTERM, then SIGKILL; 15 s each
    python bench/orphans.py --root DIR         # another checkout (an older commit), before/after

Starts ``extractor batch -j 2`` on 400 short dev articles (ng, ``$EXTRACTOR_DATASETS`` or
``../shared/datasets``) in a session of its own, waits for its first 16 output lines, sends the
signal to the batch process alone (as a supervisor or the OOM killer does), and counts the
processes of its session (the run, its fork server, resource tracker and workers) still alive
``--wait`` seconds later; then kills what is left. Prints the exit status, what was alive and
the end of the run's stderr (the summary, on SIGTERM). Not a test: ``tests/test_batch.py`` holds
the behaviour.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def datasets() -> Path:
    return Path(os.environ.get('EXTRACTOR_DATASETS') or ROOT.parent / 'shared' / 'datasets')


def session(sid: int) -> list[int]:
    """Live processes of session ``sid`` (zombies aside)."""
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def command(pid: int) -> str:
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().replace(b'\0', b' ').decode()[:90]
    except OSError:
        return '?'


def trial(name: str, root: Path, folder: Path, wait: float) -> dict:
    source, out, log = folder / 'in.jsonl', folder / f'out-{name}.jsonl', folder / f'log-{name}.txt'
    with open(log, 'wb') as err:
        run = subprocess.Popen([sys.executable, '-m', 'extractor.cli', 'batch', str(source), '-o',
                                str(out), '-j', '2', '--batch-size', '8'], cwd=root, stdout=err,
                               stderr=err, start_new_session=True,
                               env={**os.environ, 'PYTHONPATH': str(root)})
    deadline = time.monotonic() + 300
    while not out.exists() or out.read_bytes().count(b'\n') < 16:
        if run.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f'the run ended or stalled before 16 lines: {log.read_text()[-800:]}')
        time.sleep(0.1)
    before = session(run.pid)
    run.send_signal(getattr(signal, name))
    status = run.wait(120)
    time.sleep(wait)
    alive = session(run.pid)
    result = {'signal': name, 'status': status, 'processes_before': len(before),
              'alive_after_s': wait, 'alive': len(alive), 'which': [command(p) for p in alive],
              'stderr': log.read_text(errors='replace').strip().splitlines()[-2:]}
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--root', default=str(ROOT), help='the checkout to run (default: this one)')
    parser.add_argument('--wait', type=float, default=15, help='seconds after the signal (15)')
    parser.add_argument('--signals', default='SIGTERM,SIGKILL')
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='orphans-') as temp:
        folder = Path(temp)
        rows = []
        with gzip.open(datasets() / 'ng.dev.jsonl.gz', 'rt', encoding='utf-8') as lines:
            for line in lines:
                record = json.loads(line)
                rows.append({'id': str(record['id']), 'text': record['text'][:600]})
                if len(rows) == 400:
                    break
        (folder / 'in.jsonl').write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n'
                                                 for r in rows), encoding='utf-8')
        for name in args.signals.split(','):
            result = trial(name, Path(args.root), folder, args.wait)
            print(f"{name}: exit status {result['status']}, {result['processes_before']} processes "
                  f"before, {result['alive']} alive {args.wait:.0f} s after"
                  + ''.join(f'\n  alive: {c}' for c in result['which'])
                  + ''.join(f'\n  stderr: {line}' for line in result['stderr']), flush=True)
            print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == '__main__':
    main()
