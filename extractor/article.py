"""An article as the tagger reads it: the seed format, a title before the text, a length cap.

The seed format: a title line, maybe a date line, the body, then one line of
``#Tag #Another tag`` (the gold tags) and maybe a short footer such as
``Подпишитесь``. ``parse_article`` splits it (for the gold reader, the readers of the CLI and
the engines, the service); ``join_title`` puts a separate title before its text, the one way
every reader does; ``cut_text`` says where an over-long text is cut (past ``MAX_CHARS``
characters the tagger reads no further).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_CHARS = 1_000_000  # a longer "article" (a dump, junk) is tagged on its first this many
FOOTER_MAX = 60  # a footer line is shorter than this
TAG_WORDS_MAX = 8  # a '#' tag of the gold line has at most this many words
KNOWN_FOOTERS = ('подпишитесь', 'подписывайтесь', 'подписаться')


@dataclass
class Article:
    title: str
    text: str  # the whole article minus gold line and footer, title on top
    tags: list = field(default_factory=list)  # gold tags, no '#'; [] if none
    footer: str = ''


def is_tags_line(line: str) -> bool:
    """A line that starts with '#' and whose words mostly (>= 50%) start with '#',
    or whose ' #'-separated tags are all short (<= TAG_WORDS_MAX words).

    The second test is needed by the seed: 26 of its 53 words start with '#'
    (tags like '#Департамент внешнеэкономических и международных связей Москвы').
    """
    words = line.split()
    if not words or not words[0].startswith('#'):
        return False
    if 2 * sum(word.startswith('#') for word in words) >= len(words):
        return True
    if len(split_tags(line)) >= 3:  # long tags: a full organisation name has a dozen words
        return True
    return all(len(part.split()) <= TAG_WORDS_MAX for part in re.split(r'\s+#', line.strip()))


def split_tags(line: str) -> list[str]:
    """``'#Спорт #Ростов-на-Дону #Алексей Логвиненко'`` -> tags without '#'."""
    tags = []
    for part in re.split(r'\s+#', line.strip()):
        part = part.lstrip('#').strip()
        if part:
            tags.append(part)
    return tags


def is_footer_line(line: str) -> bool:
    """A short line that does not start with '#'."""
    line = line.strip()
    return bool(line) and len(line) < FOOTER_MAX and not line.startswith('#')


def is_known_footer(line: str) -> bool:
    line = line.strip()
    return len(line) < FOOTER_MAX and line.lower().startswith(KNOWN_FOOTERS)


def parse_article(raw: str) -> Article:
    """Split ``raw`` into title, text, gold tags and footer.

    The gold line is the last non-empty line that ``is_tags_line``, followed by
    nothing but short footer lines, and preceded by at least one non-empty
    line (a text made of one hashtag line is text).  Without a gold line, a
    known footer (``Подпишитесь``) as the last non-empty line is still cut
    off.  When nothing is cut, ``text`` is ``raw`` unchanged; otherwise it is
    ``raw`` up to the cut with trailing white space stripped.
    """
    lines = raw.splitlines(keepends=True)
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line)
    nonempty = [index for index, line in enumerate(lines) if line.strip()]

    cut, tags = None, []
    for position in range(len(nonempty) - 1, 0, -1):  # never the first line
        line = lines[nonempty[position]]
        if is_tags_line(line):
            cut, tags = nonempty[position], split_tags(line)
            break
        if not is_footer_line(line):
            break

    footer_from = None
    if cut is not None:
        if nonempty[-1] > cut:
            footer_from = cut + 1
    elif len(nonempty) > 1 and is_known_footer(lines[nonempty[-1]]):
        cut = footer_from = nonempty[-1]

    footer = ''
    if footer_from is not None:
        footer = '\n'.join(
            line.strip() for line in lines[footer_from:] if line.strip())
    text = raw if cut is None else raw[:starts[cut]].rstrip()
    title = lines[nonempty[0]].strip() if nonempty else ''
    return Article(title=title, text=text, tags=tags, footer=footer)


def join_title(title: str | None, text: str) -> str:
    """What the tagger reads for a ``title`` and ``text`` given apart: the title on a line of
    its own before the text, unless the text already opens with it (or there is none)."""
    if title and title.strip() and not text.lstrip().startswith(title.strip()):
        return f'{title}\n{text}'
    return text


def cut_text(text: str, limit: int) -> int:
    """Where to cut ``text`` to at most ``limit`` characters: a line or word end if near."""
    if len(text) <= limit:
        return len(text)
    for mark in ('\n', ' '):
        index = text.rfind(mark, limit - limit // 10, limit)
        if index > 0:
            return index
    return limit
