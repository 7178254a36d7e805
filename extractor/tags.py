"""Tag text in each style (seed, lower, camel) and the tag key."""
from __future__ import annotations

import re
from functools import lru_cache
import unicodedata

STYLES = ('seed', 'lower', 'camel')
DASHES = re.compile('[\u2010-\u2015\u2212-]')
SPACED_HYPHEN = re.compile(r'\s*-\s*')
QUOTES = re.compile('[«»„“”"\'()\\[\\]]')
SPACES = re.compile(r'\s+')
HYPHEN_SPACES = re.compile(r' ?- ?')
EDGES = ' .,;:!?'


@lru_cache(maxsize=20_000)  # candidates ask for the same keys again and again
def tag_key(tag: str) -> str:
    """The protocol's key of a tag (``docs/PROTOCOL.md``); '' means dropped.

    NFKC, one leading '#' dropped, lower case, ё -> е, dashes -> '-', quotes and brackets
    removed, white space runs -> ' ', no spaces around '-', spaces and .,;:!? stripped.
    """
    key = unicodedata.normalize('NFKC', tag).strip()
    if key.startswith('#'):
        key = key[1:]
    key = key.lower().replace('ё', 'е')
    key = SPACES.sub(' ', QUOTES.sub('', DASHES.sub('-', key)))
    key = HYPHEN_SPACES.sub('-', key)
    return key.strip(EDGES)


def clean(text: str) -> str:
    """Tag text without quotes and with single spaces, as a person writes a tag."""
    text = QUOTES.sub('', text.replace('\u00ad', ''))
    text = SPACED_HYPHEN.sub('-', text) if ' - ' not in text else text
    return SPACES.sub(' ', text).strip(' .,;:!?*')


def style(text: str, name: str = 'seed') -> str:
    """Format a normal form as tag text (without ``#``) in the style ``name``."""
    text = clean(text)
    if not text:
        return text
    if name == 'seed':
        return text[0].upper() + text[1:]
    if name == 'lower':
        return text.lower()
    if name == 'camel':
        parts = re.split(r'[\s\-]+', text)
        return ''.join(p[0].upper() + p[1:] for p in parts if p)
    raise ValueError(f'unknown tag style {name!r}; choose one of {", ".join(STYLES)}')


def hashtag(text: str, name: str = 'seed') -> str:
    return '#' + style(text, name)
