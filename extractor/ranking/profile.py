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
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .features import Lookups
from .house import HouseTags
from .neighbours import Neighbours
from .ranker import Ranker
from .sites import Sites
from .trees import Forest

PARTS = (('house', 'house.npz', HouseTags), ('neighbours', 'neighbours.npz', Neighbours),
         ('sites', 'sites.npz', Sites))


class ProfileError(ValueError):
    """A profile file that cannot be read: the message names the file and what is wrong."""


def load(folder: Path) -> Ranker:
    """The ranker of the profile in ``folder``; ``ProfileError`` naming the file at fault."""
    folder = Path(folder)
    meta = _json(folder / 'ranker.json')
    stats = _json(folder / 'lookups.json')
    try:
        lookups = Lookups(stats['n_docs'], stats['df'], stats['tags'], stats['spelling'],
                          stats['joined'], stats.get('variants', False))
        features, expected, least, borrow = (meta['features'], meta['expected'], meta['least'],
                                             meta['borrow'])
    except (KeyError, TypeError) as error:
        raise ProfileError(f'{folder}: the profile lacks {error}; retrain it with '
                           f'`extractor train` (see models/build.sh)') from None
    parts = {name: kind.from_arrays(_npz(folder / file)) if (folder / file).is_file() else None
             for name, file, kind in PARTS}
    try:
        return Ranker(Forest.from_arrays(_npz(folder / 'ranker.npz')), lookups, parts['house'],
                      parts['neighbours'], expected, least, borrow, parts['sites'], features,
                      bool(meta.get('once', False)))
    except ValueError as error:
        raise ProfileError(f'{folder / "ranker.json"}: {error}; retrain the profile with '
                           f'`extractor train` (see models/build.sh)') from None


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
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ProfileError(f'{path}: unreadable ({type(error).__name__}: {error})') from None


def _npz(path: Path) -> dict:
    """Every array of an NPZ file, read now (a broken file fails here, with its name)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise ProfileError(f'{path}: unreadable ({type(error).__name__}: {error})') from None
