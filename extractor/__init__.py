"""Russian news articles -> normalized hashtag-style tags.

    from extractor import Tagger, read_article
    tags = [t.text for t in Tagger()(text).tags]
    article = read_article('samples/01_spartak_rotor.txt')   # a file: no gold line, no footer
    doc = Tagger()(article.text)        # or tagger(body, title=headline, top=10)

The layers, from the bottom (``ARCHITECTURE.md``): ``doc``, ``tags``, ``article`` (plain data
and text rules) -> ``analysis`` (text -> Doc) -> ``ranking`` (Doc -> tags) -> ``tagger``
(``Tagger``) -> ``engines`` (batch, Dask), ``evaluate`` (scoring), ``service`` (HTTP),
``training`` -> ``cli``.
"""
from .article import Article, parse_article
from .doc import Doc, Entity, Phrase, Sentence, Tag, Token
from .tagger import Tagger

__all__ = ['Article', 'Doc', 'Entity', 'Phrase', 'Sentence', 'Tag', 'Tagger', 'Token',
           'parse_article', 'read_article', 'tag_dataframe']


def read_article(path) -> Article:
    """An article file (the seed format; UTF-8, UTF-16, cp1251 or koi8-r; an HTML page is
    turned into its text): its ``title``, ``text`` (gold line and footer split off: what to
    give the tagger, never the file's raw text), gold ``tags`` (without '#') and ``footer``.
    OSError for a file that cannot be read, UnicodeDecodeError for one that is not text."""
    from .engines.readers import read_article as read

    return read(path)


def tag_dataframe(df, text='text', title='title', id='id', tagger=None, batch_size=32, prefix=''):
    """A copy of a pandas DataFrame with ``tags``, ``entities`` and ``error`` columns (named
    ``prefix + 'tags'``, ... with a ``prefix``; a clash with a column of ``df`` is a
    ValueError, never overwritten); see ``extractor.engines.frames.tag_dataframe``."""
    from .engines.frames import tag_dataframe as run

    return run(df, text=text, title=title, id=id, tagger=tagger, batch_size=batch_size,
               prefix=prefix)
