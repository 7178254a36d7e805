"""razdel -> sentences and tokens with character offsets into the original text."""
from __future__ import annotations

from razdel import sentenize, tokenize

from .doc import Doc, Sentence, Token


def segment(doc: Doc) -> None:
    """Fill ``doc.sentences`` and ``doc.tokens``; offsets index ``doc.text``."""
    doc.sentences, doc.tokens = [], []
    if not doc.text.strip():
        return
    for sent in sentenize(doc.text):
        if not sent.text.strip():
            continue
        sentence = Sentence(sent.start, sent.stop, sent.text)
        for token in tokenize(sent.text):
            sentence.tokens.append(len(doc.tokens))
            doc.tokens.append(Token(sent.start + token.start, sent.start + token.stop, token.text))
        if sentence.tokens:
            doc.sentences.append(sentence)
