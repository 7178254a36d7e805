"""razdel -> sentences and tokens with character offsets into the original text."""
from __future__ import annotations

from razdel import sentenize
from razdel.segmenters.punct import DASHES
from razdel.segmenters.sentenize import BULLET_SIZE
from razdel.substring import find_substrings
from razdel.segmenters.tokenize import ATOM, RULES, Atom, TokenSplit

from ..doc import Doc, Sentence, Token

# A longer "sentence" (a table, a list, a page without full stops) is cut into pieces of
# this many tokens: natasha's models read a sentence at once, in memory that grows with it.
MAX_TOKENS = 300


def segment(doc: Doc) -> None:
    """Fill ``doc.sentences`` and ``doc.tokens``; offsets index ``doc.text``."""
    doc.sentences, doc.tokens = [], []
    if not doc.text.strip():
        return
    for sent in sentences(doc.text):
        if not sent.text.strip():
            continue
        tokens = tokenize(sent.text, sent.start)
        for index in range(0, len(tokens), MAX_TOKENS):
            piece = tokens[index:index + MAX_TOKENS]
            start, stop = ((sent.start, sent.stop) if len(tokens) <= MAX_TOKENS
                           else (piece[0].start, piece[-1].stop))
            first = len(doc.tokens)
            doc.tokens.extend(piece)
            doc.sentences.append(Sentence(start, stop, doc.text[start:stop],
                                          list(range(first, len(doc.tokens)))))


def sentences(text: str):
    """razdel's sentences of ``text`` (``Substring``: start, stop, text), in time linear in the
    text. razdel's own ``sentenize`` grows a sentence by string concatenation, one copy of it
    per delimiter it joins across: quadratic in a sentence of many delimiters (a run of
    ``'!'``); here a sentence's parts are joined once, at its end. The one rule that reads the
    sentence so far (``list_item``) looks only at one of at most ``BULLET_SIZE`` characters:
    a longer one is given as ``LONG_BUFFER``, so the sentences are razdel's."""
    parts = sentenize.split(text)
    return find_substrings(sentenize.post(_joined_parts(parts)), text)


LONG_BUFFER = ' ' * (BULLET_SIZE + 1)


def _joined_parts(parts):
    first = next(parts, None)
    if first is None:
        return
    pieces, size = [first], len(first)
    for split in parts:
        right = next(parts)
        split.buffer = ''.join(pieces) if size <= BULLET_SIZE else LONG_BUFFER
        if sentenize.join(split):
            pieces += (split.delimiter, right)
            size += len(split.delimiter) + len(right)
        else:
            pieces.append(split.delimiter)
            yield ''.join(pieces)
            pieces, size = [right], len(right)
    yield ''.join(pieces)


# razdel's smiley rule matches the token so far and the next atom against ``SMILES`` (at most
# five characters, anchored): a longer buffer never matches, so a long one is not copied.
SMILE_MAX = 8


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """razdel's tokens of ``text`` (offsets shifted by ``offset``), by razdel's own atoms and
    rules. razdel splits at every space and asks its rules where two atoms touch; here the
    rules are asked only where one of them could join the pair (``may_join``), the rest split
    at once: the same tokens, about twice as fast, and in time linear in a long token (a run
    of punctuation: ``SMILE_MAX``)."""
    matches = [(m.start(), m.end(), m.lastgroup, m.group()) for m in ATOM.finditer(text)]
    tokens: list[Token] = []
    start = -1
    last = len(matches) - 1
    for index, (first, stop, kind, word) in enumerate(matches):
        if start < 0:
            start = first
        if index < last:
            after = matches[index + 1]
            if after[0] == stop and may_join(kind, word, after[2], after[3]):
                left = max(0, index - 2)  # razdel's window: three atoms each side
                atoms = [Atom(*m) for m in matches[left:index + 4]]
                split = TokenSplit(atoms[:index + 1 - left], '', atoms[index + 1 - left:])
                split.buffer = text[start:min(stop, start + SMILE_MAX)]
                if joined(split):
                    continue
        tokens.append(Token(offset + start, offset + stop, text[start:stop]))
        start = -1
    return tokens


# What razdel's rules look at (``RULES``): a dash or ``_`` between two non-punctuation atoms;
# a point, comma or slash between two numbers; a pair of punctuation marks or of other symbols;
# ``yahoo!``.
LINKS = frozenset(DASHES + '_')
NUMERIC = frozenset('.,/\\')


def may_join(left_kind: str, left: str, right_kind: str, right: str) -> bool:
    """Whether a razdel rule could join two touching atoms; when not, razdel splits them."""
    return (left_kind == 'OTHER' or right_kind == 'OTHER' or left_kind == right_kind == 'PUNCT'
            or left in LINKS or right in LINKS
            or left in NUMERIC and right_kind == 'INT' or right in NUMERIC and left_kind == 'INT'
            or right == '!' and left.lower() == 'yahoo')


def joined(split: TokenSplit) -> bool:
    """razdel's decision for two touching atoms: the first rule with an answer."""
    for rule in RULES:
        action = rule(split)
        if action:
            return action == 'join'
    return False
