"""Load on ``extractor serve`` over loopback: throughput, latency, memory, and a malformed burst.

    python bench/serve_load.py [--requests 500] [--concurrency 16] [--workers 2,1]

For each worker count, starts ``extractor serve --workers N`` on a free 127.0.0.1 port, waits
until every worker is ready and warms it up. Each server then gets the same ``--requests``
POST /v1/tag requests (real articles, title and text, of the ng and rt dev corpora in
``$EXTRACTOR_DATASETS`` or ``../shared/datasets``), ``--concurrency`` at a time on keep-alive
connections (a thread each, http.client: a cheap client, as the machine has 2 cores), in
``--rounds`` rounds where the servers take turns: a load that comes and goes on the machine
falls on both alike, and before each round the bench waits for idle cores (``--wait-idle``).
Prints requests/s, p50/p95/p99 latency, errors, 5xx, the server's peak RSS (all its processes,
from /proc) and the cores used by the server, the client and everything else; then a burst of
malformed requests (bad JSON, non-UTF-8, wrong types, over-cap bodies, raw garbage) and one
valid request, to show the server still answers; then the throughput ratio of the first worker
count to the last. Bounded: every request has a timeout, nothing is retried.

    python bench/serve_load.py --hostile [--seconds 60] [--root DIR]

The hostile cases (issue 30), on one server of one worker each (``--root``: serve that checkout
instead, e.g. an older commit's, for a before/after): small valid requests one after the other
while two clients send maximal batches (32 items, some 1.7 MB) back to back: their p50/p99 and
rate, and what the batches got; 200 clients sending a request head a byte a second, beside
small valid requests: how many of the 200 connections are still open after 10, 20 and 30 s
and the small requests' p99; 100 concurrent maximal batches: the statuses and the server's
peak RSS.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = '127.0.0.1'  # loopback only
TIMEOUT = 120


def datasets() -> Path:
    return Path(os.environ.get('EXTRACTOR_DATASETS') or ROOT.parent / 'shared' / 'datasets')


def articles(count: int) -> list[bytes]:
    """``count`` request bodies, ng and rt articles taken in turn."""
    sources = []
    for name in ('ng', 'rt'):
        path = datasets() / f'{name}.dev.jsonl.gz'
        with gzip.open(path, 'rt', encoding='utf-8') as file:
            sources.append([json.loads(line) for line in itertools.islice(file, count)])
    bodies = [json.dumps({'title': r['title'], 'text': r['text']}, ensure_ascii=False).encode()
              for pair in zip(*sources) for r in pair]
    return bodies[:count]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(connection: http.client.HTTPConnection, method: str, path: str, body: bytes = b'',
            headers: dict | None = None) -> tuple[int, bytes]:
    connection.request(method, path, body=body or None,
                       headers={'Content-Type': 'application/json', **(headers or {})})
    response = connection.getresponse()
    return response.status, response.read()


# ---------------------------------------------------------------- the machine

TICK = os.sysconf('SC_CLK_TCK')


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path('/proc/stat').read_text().split('\n', 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / TICK


def cpu_seconds(pids: list[int]) -> float:
    """CPU seconds used so far by ``pids`` (all their threads)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def wait_idle(limit: float) -> float:
    """Wait up to ``limit`` seconds for the machine to be idle (< 0.25 busy cores over 2 s);
    the busy cores last seen."""
    deadline = time.monotonic() + limit
    while True:
        before = busy_seconds()
        time.sleep(2)
        cores = (busy_seconds() - before) / 2
        if cores < 0.25 or time.monotonic() > deadline:
            return cores


# ---------------------------------------------------------------- the server

def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path('/proc').iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / 'stat').read_text().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f'/proc/{pid}/status').read_text().splitlines():
                if line.startswith('VmRSS:'):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Server:
    """``extractor serve --workers N`` in a subprocess; its RSS sampled while it runs."""

    def __init__(self, workers: int, root: Path = ROOT):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'cli', 'serve', '--port', str(self.port), '--workers', str(workers)],
            cwd=root, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, 'PYTHONPATH': str(root)})
        self.workers = workers
        self.peak = 0.0
        self.sampling = True
        self.sampler = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while self.sampling:
            self.peak = max(self.peak, rss_mb(descendants(self.process.pid)))
            time.sleep(0.2)

    def wait_ready(self) -> float:
        """Seconds until 4 x workers fresh connections in a row get 200 from /readyz."""
        started, streak = time.monotonic(), 0
        while streak < 4 * self.workers:
            if self.process.poll() is not None or time.monotonic() - started > TIMEOUT:
                self.log.seek(0)
                raise SystemExit(f'server did not start:\n{self.log.read().decode()[-2000:]}')
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                status, _ = request(connection, 'GET', '/readyz')
                connection.close()
                streak = streak + 1 if status == 200 else 0
            except OSError:
                streak = 0
                time.sleep(0.1)
        self.sampler.start()
        return time.monotonic() - started

    def stop(self) -> None:
        self.sampling = False
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------- load

class Tally:
    """Latencies, statuses, seconds and CPU seconds of one server's load, over its rounds."""

    def __init__(self):
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.seconds = 0.0
        self.cpu = [0.0, 0.0, 0.0]  # the machine, the server, this client

    def summary(self) -> dict:
        latencies = sorted(self.latencies)

        def quantile(q: float) -> float:
            return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]

        machine, server, client = self.cpu
        return {'requests': len(latencies), 'seconds': round(self.seconds, 2),
                'req_per_s': round(len(latencies) / self.seconds, 2),
                'p50_ms': round(quantile(0.50), 1), 'p95_ms': round(quantile(0.95), 1),
                'p99_ms': round(quantile(0.99), 1),
                'errors': sum(n for key, n in self.statuses.items() if key != '200'),
                'server_errors': sum(n for key, n in self.statuses.items() if key.startswith('5')),
                'statuses': self.statuses, 'server_cores': round(server / self.seconds, 2),
                'req_per_server_core_s': round(len(latencies) / server, 2) if server else None,
                'client_cores': round(client / self.seconds, 2),
                'other_cores': round(max(0.0, machine - server - client) / self.seconds, 2)}


def load(port: int, bodies: list[bytes], concurrency: int, server_pid: int, tally: Tally) -> None:
    """Every body POSTed to /v1/tag once, ``concurrency`` connections at a time; counted in
    ``tally`` with the CPU used by the server, by this client and by the whole machine."""
    queue = iter(range(len(bodies)))
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                break
            started = time.perf_counter()
            try:
                status, data = request(connection, 'POST', '/v1/tag', bodies[index])
                key = str(status) if status != 200 or 'tags' in json.loads(data) else 'bad-200'
            except (OSError, http.client.HTTPException, ValueError) as error:
                key = type(error).__name__
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            with lock:
                tally.latencies.append(time.perf_counter() - started)
                tally.statuses[key] = tally.statuses.get(key, 0) + 1
        connection.close()

    pids = descendants(server_pid)
    before = (busy_seconds(), cpu_seconds(pids), cpu_seconds([os.getpid()]))
    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.seconds += time.perf_counter() - started
    after = (busy_seconds(), cpu_seconds(pids), cpu_seconds([os.getpid()]))
    for index in range(3):
        tally.cpu[index] += after[index] - before[index]


MALFORMED = [
    ('invalid JSON', b'{"text": "\xd0\x9c\xd0\xb8\xd1\x80', {}),
    ('not UTF-8', b'{"text": "\xff\xfe\xfa"}', {}),
    ('wrong type', b'{"text": 42}', {}),
    ('array body', b'[1, 2, 3]', {}),
    ('lone surrogate', b'{"text": "\\udc00"}', {}),
    ('bad option', b'{"text": "a", "top": -5, "style": "shout"}', {}),
    ('unknown profile', b'{"text": "a", "profile": "../../etc"}', {}),
    ('deep nesting', b'[' * 100_000 + b']' * 100_000, {}),
    ('text/plain', b'text', {'Content-Type': 'text/plain'}),
    ('batch over limit', json.dumps({'items': [{'text': 'a'}] * 500}).encode(), {}),
    ('batch of junk', b'{"items": [1, null, {"text": []}, "x"]}', {}),
]


def malformed(port: int, rounds: int) -> dict:
    """Each malformed request ``rounds`` times, an over-cap body and raw garbage a few times."""
    statuses: dict[str, int] = {}

    def count(key: str) -> None:
        statuses[key] = statuses.get(key, 0) + 1

    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    for _ in range(rounds):
        for name, body, headers in MALFORMED:
            path = '/v1/tag/batch' if name.startswith('batch') else '/v1/tag'
            try:
                count(str(request(connection, 'POST', path, body, headers)[0]))
            except (OSError, http.client.HTTPException) as error:
                count(type(error).__name__)
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.close()
    big = b'{"text": "' + b'a' * (3 * 1024 * 1024) + b'"}'
    for _ in range(3):
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            count(str(request(connection, 'POST', '/v1/tag', big)[0]))
        except (OSError, http.client.HTTPException) as error:  # the server may close mid-upload
            count(type(error).__name__)
        connection.close()
    for garbage in (b'\x00\xff GARBAGE\r\n\r\n', b'POST /v1/tag HTTP/1.1\r\nContent-Length: x\r\n\r\n',
                    b'GET / HTTP/9.9\r\n\r\n'):
        with socket.create_connection((HOST, port), timeout=10) as sock:
            sock.sendall(garbage)
            try:
                reply = sock.recv(64)
                count('raw ' + (reply.split(b' ')[1].decode() if reply.startswith(b'HTTP/') else 'closed'))
            except OSError as error:
                count(type(error).__name__)
    return statuses


def still_answers(port: int, body: bytes) -> dict:
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    status, data = request(connection, 'POST', '/v1/tag', body)
    connection.close()
    return {'status': status, 'tags': len(json.loads(data).get('tags', []))}


# ---------------------------------------------------------------- hostile cases (issue 30)

def maximal_batch(items: int = 32, chars: int = 27_000) -> bytes:
    """A batch of ``items`` texts of about ``chars`` characters each (dev articles run
    together): some 1.7 MB, under the 2 MiB body cap and the 100,000 characters of a text."""
    texts, text = [], ''
    for body in articles(400):
        text += json.loads(body)['text'] + '\n'
        if len(text) >= chars:
            texts.append(text[:chars])
            text = ''
            if len(texts) == items:
                break
    return json.dumps({'items': [{'text': t} for t in texts]}, ensure_ascii=False).encode()


def quantiles(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    if not latencies:
        return {'n': 0}

    def at(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    return {'n': len(latencies), 'p50_ms': at(0.5), 'p99_ms': at(0.99), 'max_ms': at(1.0)}


def small_requests(port: int, bodies: list[bytes], seconds: float, out: dict) -> None:
    """Small valid requests one after the other for ``seconds``: latencies and statuses."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    stop = time.monotonic() + seconds
    connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    for body in itertools.cycle(bodies):
        if time.monotonic() > stop:
            break
        started = time.perf_counter()
        try:
            key = str(request(connection, 'POST', '/v1/tag', body)[0])
        except (OSError, http.client.HTTPException) as error:
            key = type(error).__name__
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
        latencies.append(time.perf_counter() - started)
        statuses[key] = statuses.get(key, 0) + 1
    connection.close()
    out.update(quantiles(latencies), statuses=statuses,
               req_per_s=round(len(latencies) / seconds, 2))


def batches(port: int, body: bytes, stop: threading.Event, out: dict) -> None:
    """Maximal batches back to back until ``stop``: their statuses."""
    connection = http.client.HTTPConnection(HOST, port, timeout=600)
    while not stop.is_set():
        try:
            key = str(request(connection, 'POST', '/v1/tag/batch', body)[0])
        except (OSError, http.client.HTTPException) as error:
            key = type(error).__name__
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=600)
        out[key] = out.get(key, 0) + 1
        if key != '200':
            time.sleep(1)  # 503 Retry-After, or a failure: not a busy loop
    connection.close()


def fairness(port: int, small: list[bytes], big: bytes, seconds: float) -> dict:
    stop, result, got = threading.Event(), {}, [{}, {}]
    senders = [threading.Thread(target=batches, args=(port, big, stop, got[i])) for i in range(2)]
    for sender in senders:
        sender.start()
    time.sleep(2)  # both batches in
    small_requests(port, small, seconds, result)
    stop.set()
    for sender in senders:
        sender.join()
    return {'small': result, 'batches': got}


def slow_clients(port: int, small: list[bytes], clients: int = 200, seconds: float = 30) -> dict:
    """``clients`` connections sending a request head a byte a second, and small requests
    beside them: how many connections are open after 10, 20, 30 s; the small requests."""
    head = (b'POST /v1/tag HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
            b'X-Padding: ' + b'a' * 200 + b'\r\n')
    sockets = []
    for _ in range(clients):
        sock = socket.create_connection((HOST, port), timeout=10)
        sock.setblocking(False)
        sockets.append(sock)
    result: dict = {}
    beside = threading.Thread(target=small_requests, args=(port, small, seconds, result))
    beside.start()
    open_at, started, sent = {}, time.monotonic(), 0
    while time.monotonic() - started < seconds + 0.5:
        for sock in list(sockets):
            try:
                if sock.recv(1024) == b'':
                    raise ConnectionResetError
            except BlockingIOError:
                pass
            except OSError:
                sockets.remove(sock)
                sock.close()
                continue
            try:
                sock.send(head[sent % len(head):sent % len(head) + 1])
            except BlockingIOError:
                pass
            except OSError:
                sockets.remove(sock)
                sock.close()
        sent += 1
        elapsed = time.monotonic() - started
        for mark in (10, 20, 30):
            if elapsed >= mark and mark not in open_at:
                open_at[mark] = len(sockets)
        time.sleep(1)
    beside.join()
    for sock in sockets:
        sock.close()
    return {'clients': clients, 'open_after_s': open_at, 'small': result}


def memory(server: Server, big: bytes, clients: int = 100, hold: float = 30) -> dict:
    """``clients`` maximal batches at once; after ``hold`` seconds, the statuses so far and
    the server's peak RSS (the server is stopped then: the rest would take many minutes)."""
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    before = rss_mb(descendants(server.process.pid))
    server.peak = before

    def send() -> None:
        connection = http.client.HTTPConnection(HOST, server.port, timeout=900)
        try:
            key = str(request(connection, 'POST', '/v1/tag/batch', big)[0])
        except (OSError, http.client.HTTPException) as error:
            key = type(error).__name__
        connection.close()
        with lock:
            statuses[key] = statuses.get(key, 0) + 1

    for _ in range(clients):
        threading.Thread(target=send, daemon=True).start()
    time.sleep(hold)
    with lock:
        answered = dict(statuses)
    return {'clients': clients, 'answered_in_s': hold, 'statuses': answered,
            'waiting': clients - sum(answered.values()), 'rss_before_mb': round(before),
            'peak_rss_mb': round(server.peak)}


def hostile(args: argparse.Namespace) -> None:
    small = [json.dumps({'text': json.loads(b)['text'][:600]}, ensure_ascii=False).encode()
             for b in articles(40)]
    big = maximal_batch()
    print(f'small requests of 600 characters; maximal batches of {len(big) / 1e6:.2f} MB; '
          f'serving {args.root}')
    results = {}
    for case in args.cases.split(','):
        server = Server(1, Path(args.root))
        try:
            server.wait_ready()
            load(server.port, small * 2, 4, server.process.pid, Tally())  # warm-up
            if case == 'fairness':
                alone: dict = {}
                small_requests(server.port, small, 10, alone)
                results['small alone'] = alone
                results[case] = fairness(server.port, small, big, args.seconds)
            elif case == 'slow':
                results[case] = slow_clients(server.port, small)
            else:
                results[case] = memory(server, big)
        finally:
            server.stop()
        print(case, json.dumps(results[case] if case in results else results, ensure_ascii=False),
              flush=True)
    if 'fairness' in results:
        alone, fair = results['small alone'], results['fairness']['small']
        print(f"small requests alone: p50 {alone['p50_ms']} ms, p99 {alone['p99_ms']} ms")
        print(f"small requests while two clients send maximal batches: p50 {fair['p50_ms']} ms, p99 "
              f"{fair['p99_ms']} ms, {fair['req_per_s']} req/s, {fair['statuses']}; the batches got "
              f"{results['fairness']['batches']}")
    if 'slow' in results:
        slow = results['slow']
        print(f"200 slow clients: connections open after 10/20/30 s: {slow['open_after_s']}; small "
              f"requests beside them: p99 {slow['small'].get('p99_ms')} ms, {slow['small'].get('statuses')}")
    if 'memory' in results:
        mem = results['memory']
        print(f"100 concurrent maximal batches: RSS {mem['rss_before_mb']} -> peak {mem['peak_rss_mb']} "
              f"MB; answered in {mem['answered_in_s']} s: {mem['statuses']}, {mem['waiting']} waiting")
    print(json.dumps(results, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--requests', type=int, default=500)
    parser.add_argument('--concurrency', type=int, default=16)
    parser.add_argument('--workers', default='2,1', help='worker counts to compare (default: 2,1)')
    parser.add_argument('--rounds', type=int, default=5,
                        help='the requests are sent in this many rounds, the servers taking turns')
    parser.add_argument('--burst', type=int, default=20, help='rounds of the malformed burst (0: none)')
    parser.add_argument('--wait-idle', type=float, default=120, metavar='S',
                        help='before each round, wait up to S seconds for other processes to leave '
                             'the cores (default: 120)')
    parser.add_argument('--hostile', action='store_true',
                        help='the hostile cases instead: fairness, slow clients, memory')
    parser.add_argument('--seconds', type=float, default=60,
                        help='--hostile: seconds of small requests beside the batches')
    parser.add_argument('--cases', default='fairness,slow,memory',
                        help='--hostile: which cases (default: fairness,slow,memory)')
    parser.add_argument('--root', default=str(ROOT),
                        help='--hostile: the checkout to serve (default: this one)')
    args = parser.parse_args()
    if args.hostile:
        return hostile(args)
    bodies = articles(args.requests)
    chars = sum(len(json.loads(b)['text']) for b in bodies) / len(bodies)
    print(f'{len(bodies)} articles (ng, rt dev), {chars:.0f} characters on average; '
          f'{args.concurrency} concurrent keep-alive connections on {HOST}; {os.cpu_count()} cores')
    counts = [int(w) for w in args.workers.split(',')]
    servers = [Server(workers) for workers in counts]
    try:
        ready = [server.wait_ready() for server in servers]
        for server in servers:  # warm-up: caches, the first batches
            load(server.port, bodies[:4 * args.concurrency], args.concurrency, server.process.pid, Tally())
        tallies = [Tally() for _ in servers]
        size = -(-len(bodies) // args.rounds)
        busy = []
        for number, start in enumerate(range(0, len(bodies), size)):
            order = list(range(len(servers)))
            for index in order if number % 2 == 0 else order[::-1]:  # turns, alternating who goes first
                busy.append(wait_idle(args.wait_idle))
                load(servers[index].port, bodies[start:start + size], args.concurrency,
                     servers[index].process.pid, tallies[index])
        results = []
        for server, tally, seconds in zip(servers, tallies, ready):
            result = {'workers': server.workers, 'ready_s': round(seconds, 1), **tally.summary(),
                      'peak_rss_mb': round(server.peak, 1)}
            if args.burst:
                result['malformed'] = malformed(server.port, args.burst)
                result['after_burst'] = still_answers(server.port, bodies[0])
            results.append(result)
    finally:
        for server in servers:
            server.stop()
    print(f'busy cores before each round (other processes): max {max(busy):.2f}')
    for result in results:
        print(f"workers={result['workers']}: {result['req_per_s']} req/s ({result['requests']} in "
              f"{result['seconds']} s), p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
              f"p99 {result['p99_ms']} ms, errors {result['errors']}, 5xx {result['server_errors']}, "
              f"peak RSS {result['peak_rss_mb']} MB (all server processes), ready in {result['ready_s']} s")
        print(f"  cores busy: server {result['server_cores']}, client {result['client_cores']}, "
              f"other processes {result['other_cores']}; {result['req_per_server_core_s']} requests "
              f"per CPU second of the server")
        if 'malformed' in result:
            print(f"  malformed burst: {json.dumps(result['malformed'])}; then a valid request: "
                  f"{result['after_burst']['status']} with {result['after_burst']['tags']} tags")
    if len(results) > 1:
        ratio = results[0]['req_per_s'] / results[-1]['req_per_s']
        print(f"throughput ratio workers={results[0]['workers']} / workers={results[-1]['workers']}: {ratio:.2f}")
    print(json.dumps(results))


if __name__ == '__main__':
    main()
