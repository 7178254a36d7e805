"""A profile's folder: the one reader and writer of its files.

    ranker.json     the cut (``expected``, ``least``), ``borrow``, the names of the features
                    the trees read (their columns, in order), ``once`` (each thing once; absent:
                    no), how the trees were fitted
    ranker.npz      the trees (``trees.Forest``)
    lookups.json    per-key statistics of the archive (``features.Lookups``; ``variants``:
                    whether it offers other spellings, absent in profiles that do not)
    house.npz       the house-tag classifier (``house.HouseTags``), if the profile has one
    neighbours.npz  the archive's articles (``neighbours.Neighbours``), if it has them
    sites.npz       which site an article resembles (``sites.Sites``), a profile of several
    CARD.md         data, date, command, figures (written by training)

Plain JSON and NPZ (no pickle): a profile can be read without the code that wrote it.
"""
from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ..resources import ProfileError
from .features import Lookups
from .house import HouseTags
from .neighbours import Neighbours
from .ranker import Ranker
from .sites import Sites
from .trees import Forest

PARTS = (('house', 'house.npz', HouseTags), ('neighbours', 'neighbours.npz', Neighbours),
         ('sites', 'sites.npz', Sites))


RETRAIN = 'retrain the profile with `extractor train` (see models/build.sh)'
# The fields of the JSON files and the types they must have.
META = {'features': list, 'expected': (int, float), 'least': int, 'borrow': bool}
STATS = {'n_docs': int, 'df': dict, 'tags': dict, 'spelling': dict, 'joined': bool}


def load(folder: Path) -> Ranker:
    """The ranker of the profile in ``folder``; ``ProfileError`` naming the file at fault and
    what is wrong with it (missing, empty, truncated, not JSON / NPZ, a field of the wrong
    type, arrays that are not what its part reads)."""
    folder = Path(folder)
    meta = _fields(folder / 'ranker.json', META)
    stats = _fields(folder / 'lookups.json', STATS)
    if not all(isinstance(name, str) for name in meta['features']):
        raise ProfileError(f'{folder / "ranker.json"}: "features" is not a list of names; {RETRAIN}')
    if not isinstance(stats.get('variants', False), bool):
        raise ProfileError(f'{folder / "lookups.json"}: "variants" is not true or false; {RETRAIN}')
    lookups = Lookups(stats['n_docs'], stats['df'], stats['tags'], stats['spelling'],
                      stats['joined'], stats.get('variants', False))
    parts = {name: _part(folder / file, kind) if (folder / file).is_file() else None
             for name, file, kind in PARTS}
    forest = _part(folder / 'ranker.npz', Forest)
    try:
        return Ranker(forest, lookups, parts['house'],
                      parts['neighbours'], meta['expected'], meta['least'], meta['borrow'],
                      parts['sites'], meta['features'], meta.get('once') is True)
    except ValueError as error:
        raise ProfileError(f'{folder / "ranker.json"}: {error}; {RETRAIN}') from None


def save(ranker: Ranker, folder: Path, meta: Optional[dict] = None, card: str = '') -> None:
    """Write ``ranker`` into ``folder`` (made if needed); ``meta``: more for ``ranker.json``
    (how it was fitted); ``card``: the text of ``CARD.md``. A part the ranker lacks is removed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'ranker.json').write_text(json.dumps(
        {'features': ranker.features, 'expected': ranker.expected, 'least': ranker.least,
         'borrow': ranker.borrow, **({'once': True} if ranker.once else {}), **(meta or {})},
        indent=1), encoding='utf-8')
    np.savez_compressed(folder / 'ranker.npz', **ranker.forest.arrays())
    lk = ranker.lookups
    # Keys seen once as a candidate and never as a tag carry no information: dropped.
    df = {k: n for k, n in lk.df.items() if n > 1 or k in lk.tags}
    (folder / 'lookups.json').write_text(
        json.dumps({'n_docs': lk.n_docs, 'df': df, 'tags': lk.tags, 'spelling': lk.spelling,
                    'joined': lk.joined, 'variants': lk.variants},
                   ensure_ascii=False, separators=(',', ':'), sort_keys=True), encoding='utf-8')
    for name, file, _ in PARTS:
        part = getattr(ranker, name)
        if part is not None:
            np.savez_compressed(folder / file, **part.arrays())
        elif (folder / file).exists():
            (folder / file).unlink()
    if card:
        (folder / 'CARD.md').write_text(card, encoding='utf-8')


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError:
        raise ProfileError(f'{path}: missing') from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        what = 'empty' if path.is_file() and path.stat().st_size == 0 else \
            f'unreadable ({type(error).__name__}: {error})'
        raise ProfileError(f'{path}: {what}; {RETRAIN}') from None


def _fields(path: Path, types: dict) -> dict:
    """The JSON object in ``path``, with every field of ``types`` there and of its type."""
    data = _json(path)
    if not isinstance(data, dict):
        raise ProfileError(f'{path}: not a JSON object; {RETRAIN}')
    for name, kind in types.items():
        if name not in data:
            raise ProfileError(f'{path}: the profile lacks {name!r}; {RETRAIN}')
        if not isinstance(data[name], kind) or (kind is not bool and isinstance(data[name], bool)):
            raise ProfileError(f'{path}: {name!r} is a {type(data[name]).__name__}, not a '
                               f'{getattr(kind, "__name__", "number")}; {RETRAIN}')
    return data


def _npz(path: Path) -> dict:
    """Every array of an NPZ file, read now (a broken file fails here, with its name)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise ProfileError(f'{path}: missing') from None
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        what = 'empty' if path.is_file() and path.stat().st_size == 0 else \
            f'unreadable ({type(error).__name__}: {error})'
        raise ProfileError(f'{path}: {what}; {RETRAIN}') from None


def _part(path: Path, kind: Any) -> Any:
    """The part of a profile in an NPZ file (``kind.from_arrays``), checked as it is built."""
    data = _npz(path)
    try:
        return kind.from_arrays(data)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise ProfileError(f'{path}: not the arrays of a {kind.__name__} '
                           f'({type(error).__name__}: {error}); {RETRAIN}') from None
