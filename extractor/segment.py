"""razdel -> sentences and tokens with character offsets into the original text."""
from __future__ import annotations

from razdel import sentenize, tokenize

from .doc import Doc, Sentence, Token

# A longer "sentence" (a table, a list, a page without full stops) is cut into pieces of
# this many tokens: natasha's models read a sentence at once, in memory that grows with it.
MAX_TOKENS = 300


def segment(doc: Doc) -> None:
    """Fill ``doc.sentences`` and ``doc.tokens``; offsets index ``doc.text``."""
    doc.sentences, doc.tokens = [], []
    if not doc.text.strip():
        return
    for sent in sentenize(doc.text):
        if not sent.text.strip():
            continue
        tokens = [Token(sent.start + t.start, sent.start + t.stop, t.text) for t in tokenize(sent.text)]
        for index in range(0, len(tokens), MAX_TOKENS):
            piece = tokens[index:index + MAX_TOKENS]
            start, stop = ((sent.start, sent.stop) if len(tokens) <= MAX_TOKENS
                           else (piece[0].start, piece[-1].stop))
            first = len(doc.tokens)
            doc.tokens.extend(piece)
            doc.sentences.append(Sentence(start, stop, doc.text[start:stop],
                                          list(range(first, len(doc.tokens)))))
