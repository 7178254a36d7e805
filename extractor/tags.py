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
MAX_TAG_CHARS = 120  # longer than any real name: a longer "tag" is junk (a 100,000-letter word)


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


def without_format(text: str) -> str:
    """``text`` without format characters (Unicode category Cf: bidi overrides and isolates,
    zero-width space and joiners, LRM/RLM, BOM, soft hyphen), which no tag should carry."""
    if text.isascii() or not any(unicodedata.category(c) == 'Cf' for c in text):
        return text
    return ''.join(c for c in text if unicodedata.category(c) != 'Cf')


def emitted(tags: list) -> list:
    """The tags (``doc.Tag``) fit to emit, in order: format characters dropped from their text,
    none empty or over ``MAX_TAG_CHARS``, and none that cleaning made a copy of another."""
    if all(len(t.text) <= MAX_TAG_CHARS and without_format(t.text) is t.text for t in tags):
        return tags  # an ordinary article: nothing to do
    out, keys = [], set()
    for tag in tags:
        text = ' '.join(without_format(tag.text).split()) if len(tag.text) <= MAX_TAG_CHARS else ''
        if not text or tag_key(text) in keys:
            continue
        tag.text = text
        keys.add(tag_key(text))
        out.append(tag)
    return out
