"""One BLAS thread per process: processes, not threads, share the cores.

numpy's BLAS starts a thread per core in every process that imports it; several tagging
processes (batch workers, service workers, a Dask worker per core) would then spin against
each other (on 2 busy cores a single service worker tagged 3x slower with them). The
variables must be set before numpy is imported in the process that reads them.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

THREAD_VARS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')


def one_thread() -> None:
    """This process and those it starts use one BLAS thread, unless the variables say
    otherwise; numpy already imported here is limited through threadpoolctl when present."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, '1')
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # numpy was imported after the variables were set: they suffice
        return
    threadpool_limits(int(os.environ['OPENBLAS_NUM_THREADS']))


@contextmanager
def single_threaded() -> Iterator[None]:
    """Processes started inside the block get one BLAS thread; the variables come back after."""
    saved = {var: os.environ.get(var) for var in THREAD_VARS}
    os.environ.update({var: '1' for var in THREAD_VARS})
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
