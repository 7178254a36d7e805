"""Russian news articles -> normalized hashtag-style tags."""
from .doc import Doc, Entity, Phrase, Sentence, Tag, Token
from .pipeline import Tagger

__all__ = ['Doc', 'Entity', 'Phrase', 'Sentence', 'Tag', 'Tagger', 'Token', 'tag_dataframe']


def tag_dataframe(df, text='text', title='title', id='id', tagger=None):
    """Tag a pandas DataFrame; see ``extractor.batch.tag_dataframe``."""
    from .batch import tag_dataframe as run

    return run(df, text=text, title=title, id=id, tagger=tagger)
