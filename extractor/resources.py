"""Where the fitted models live: argument, then environment variable, then the package.

A profile is a folder ``models/NAME/`` of plain files (JSON, NPZ) written by
``extractor train``; it is looked up in, first to last:

1. the ``models`` argument (a folder holding profile folders, or a profile folder itself);
2. ``$EXTRACTOR_MODELS``;
3. ``models/`` of the source checkout the package runs from (``checkout_models``);
4. ``<prefix>/share/extractor/models`` (a regular ``pip install``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

DEFAULT_PROFILE = 'default'
ENV = 'EXTRACTOR_MODELS'
MARKER = 'ranker.json'  # a folder with this file is a profile


class ModelNotFound(FileNotFoundError):
    pass


class ProfileError(ValueError):
    """A profile file that cannot be read: the message names the file and what is wrong
    (raised by ``ranking.profile.load``)."""


def search_path(models: Optional[str | Path] = None) -> list[Path]:
    """The folders a profile is looked up in, first to last; ``ModelNotFound`` when
    ``models`` or ``$EXTRACTOR_MODELS`` is given but is no folder (a typo is never ignored)."""
    paths = []
    for given, what in ((models, 'models'), (os.environ.get(ENV), f'${ENV}')):
        if given:
            if not Path(given).is_dir():
                raise ModelNotFound(f'{what} is {str(given)!r}: '
                                    f'{"not a folder" if Path(given).exists() else "no such folder"}'
                                    ' (it should be a folder of profiles, or a profile folder)')
            paths.append(Path(given))
    checkout = checkout_models()
    if checkout is not None:
        paths.append(checkout)
    paths.append(Path(sys.prefix) / 'share' / 'extractor' / 'models')
    return paths


def checkout_models() -> Optional[Path]:
    """``models/`` of the source checkout the package runs from (an editable install or the
    repository itself); None for an installed package, which has no checkout to write into."""
    root = Path(__file__).resolve().parent.parent
    return root / 'models' if (root / 'setup.cfg').is_file() and (root / 'models').is_dir() else None


def profile_dir(profile: Optional[str] = None, models: Optional[str | Path] = None) -> Path:
    """The folder of ``profile`` (default: ``default``); a clear error when there is none."""
    name = profile or DEFAULT_PROFILE
    tried = []
    for root in search_path(models):
        for folder in (root / name, root):
            if folder.name == name and (folder / MARKER).is_file():
                return folder
        tried.append(str(root / name))
    raise ModelNotFound(
        f'model profile {name!r} not found (looked in: {", ".join(tried)}). '
        f'Pass models=PATH, set ${ENV} to a folder of profiles, or train one with '
        f'`extractor train GOLD.jsonl.gz --profile {name}`.')


def available_profiles(models: Optional[str | Path] = None) -> list[str]:
    """The names of every profile on the search path."""
    names = set()
    for root in search_path(models):
        if root.is_dir():
            names.update(p.name for p in root.iterdir() if (p / MARKER).is_file())
    return sorted(names)
