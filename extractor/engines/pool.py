"""Worker processes for any per-chunk job: results in input order, a bounded window in flight.

Used by the batch engine (tagging chunks of records) and by training (extracting candidates).
Workers start through a fork server (spawn where there is none), with one BLAS thread each
and Ctrl-C left to the parent; at most ``window`` chunks are in flight, so the input streams
through in constant memory. Each worker watches the process that started the pool and exits
within ``WATCH_SECONDS`` of its death, even by SIGKILL: then the fork server (which lives
as long as a worker does) and the resource tracker end too, and nothing of the run is left.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Optional

from ..threads import THREAD_VARS, single_threaded

WATCH_SECONDS = 0.5  # how often a worker looks whether the process that started it is alive


def ordered_map(function: Callable[[Any], Any], chunks: Iterable[Any], jobs: int,
                initializer: Optional[Callable[..., None]] = None, initargs: tuple = (),
                window: Optional[int] = None) -> Iterator[Any]:
    """``function(chunk)`` for each chunk in ``jobs`` worker processes, in input order.

    ``initializer(*initargs)`` runs once in each worker (load the models there);
    ``function`` and ``initializer`` must be picklable (module-level). At most ``window``
    (default ``2 * jobs``) chunks are submitted ahead. On an error, Ctrl-C or a consumer that
    stops early, what is in flight is dropped and the workers are stopped.
    """
    window = window or 2 * jobs
    flight: deque = deque()
    with single_threaded(), ProcessPoolExecutor(
            jobs, mp_context=_context(), initializer=_start,
            initargs=(initializer, initargs, os.getpid())) as pool:
        try:
            for chunk in chunks:
                flight.append(pool.submit(function, chunk))
                if len(flight) >= window:
                    yield flight.popleft().result()
            while flight:
                yield flight.popleft().result()
        except BaseException:  # Ctrl-C, a dead worker, the consumer gone: drop what is in flight
            for future in flight:
                future.cancel()
            # no public way before Python 3.14 (terminate_workers); else shutdown waits for chunks
            for process in list((getattr(pool, '_processes', None) or {}).values()):
                process.terminate()
            raise


def _start(initializer: Optional[Callable[..., None]], initargs: tuple, parent: int) -> None:
    os.environ.update({var: '1' for var in THREAD_VARS})  # for what the worker imports later
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_watch, args=(parent,), name='watch-parent', daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _watch(parent: int) -> None:
    """Exit when ``parent`` is gone. A worker's own parent is the fork server, so the pid of
    the process that made the pool is watched; and killed, it never tells its workers."""
    born = _started(parent)
    while True:
        time.sleep(WATCH_SECONDS)
        if not _alive(parent, born):
            os._exit(1)


def _started(pid: int) -> Optional[str]:
    """When ``pid`` started (Linux: /proc), to tell it from a later process of the same pid;
    'Z' for a zombie, None where /proc is missing."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as handle:
            fields = handle.read().rsplit(b')', 1)[1].split()
    except OSError:
        return None
    return 'Z' if fields[0] == b'Z' else fields[19].decode()


def _alive(pid: int, born: Optional[str]) -> bool:
    """Whether ``pid`` is still the process that started at ``born`` (and not a zombie)."""
    try:
        os.kill(pid, 0)
    except OSError:  # gone, or the pid is another user's now
        return False
    return born is None or _started(pid) == born


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context('forkserver' if 'forkserver' in methods else 'spawn')
