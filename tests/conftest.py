"""Shared fixtures: the heavy models are built once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path | None:
    """``$EXTRACTOR_DATASETS``, else ``../shared/datasets`` beside the repo; None if absent."""
    path = Path(os.environ.get('EXTRACTOR_DATASETS') or ROOT.parent / 'shared' / 'datasets')
    return path if path.is_dir() else None


@pytest.fixture(scope='session')
def datasets() -> Path:
    path = datasets_dir()
    if path is None:
        pytest.skip('corpora not found: set EXTRACTOR_DATASETS or place shared/datasets beside the repo')
    return path


@pytest.fixture(scope='session', autouse=True)
def forbid_pymorphy2():
    """natasha 1.6's MorphVocab is built on pymorphy2, which crashes on Python 3.11+.

    Constructing a pymorphy2 analyzer anywhere in a test run fails that test.
    """
    try:
        import pymorphy2
    except ImportError:
        yield
        return

    original = pymorphy2.MorphAnalyzer.__init__

    def refuse(self, *args, **kwargs):
        raise AssertionError('pymorphy2.MorphAnalyzer was constructed; use extractor.morph.Vocab')

    pymorphy2.MorphAnalyzer.__init__ = refuse
    yield
    pymorphy2.MorphAnalyzer.__init__ = original


@pytest.fixture(scope='session')
def tagger():
    from extractor import Tagger

    return Tagger()


def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', help='also run tests marked slow')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow'):
        return
    skip = pytest.mark.skip(reason='slow: run with --runslow')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)
