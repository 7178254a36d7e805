"""natasha's slovnet morph tagger and NER, run straight on our tokens.

slovnet's ``map`` re-tokenizes each sentence, pads each batch to its longest sentence, cuts
the convolutions' windows into a copied matrix and builds a record per token. Here the same
weights read the sentences packed end to end in one matrix (a short gap between sentences),
each convolution is ``kernel`` matrix products over shifted row slices, the output is read
per token without intermediate records, and the tagger's labels are parsed once per label.

What each sentence sees is what slovnet shows it in a padded batch: zeros before it, the
padding embedding after it in the first layer, zeros between layers.
"""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

import numpy as np
from natasha.data import NEWS_MORPH, NEWS_NER
from slovnet.conll import parse_conll_tag
from slovnet.const import SHAPE, TAG
from slovnet.exec.model import NER as NERModel, Morph as MorphModel
from slovnet.exec.pack import Pack
from slovnet.shape import word_shape

from ..cache import MISSING, Memo

# Tokens per packed matrix: bounds memory (a layer is 1 KB a token).
PACK_TOKENS = 4_000
HEAD_ROWS = 1_024
CRF_BATCH = 256


class Slovnet:
    """One slovnet tagging model from natasha's package, over natasha's news embedding.

    Words are encoded through the embedding's own vocabulary (the one slovnet's packs repeat),
    so the 250,000 words are held once, not once per model; ``share``: a model over the same
    vocabularies whose cache of word ids this one uses too.
    """

    def __init__(self, path: str, emb, model_class, share: Optional['Slovnet'] = None):
        with Pack(path) as pack:
            pack.load_meta().check_protocol()
            model = pack.load_model(model_class)
            arrays = dict(pack.load_arrays(model.weights))
            self.shapes = pack.load_vocab(SHAPE)
            self.labels = list(pack.load_vocab(TAG).items)
        self.model = model.inject_arrays(arrays).inject_navec(emb)
        self.words = emb.vocab.word_ids  # word -> id
        self.unk_id, self.pad_id = emb.vocab.unk_id, emb.vocab.pad_id
        layers = self.model.encoder.layers
        self.gap = max(layer.conv.padding for layer in layers)
        # Per layer: one (in, filters) matrix per kernel position.
        self.kernels = [[np.ascontiguousarray(layer.conv.weight.array[:, :, k].T)
                         for k in range(layer.conv.weight.array.shape[2])] for layer in layers]
        # The first convolution is linear in the embeddings, so it is applied to each distinct
        # word of a pack once, and to each of the few shapes once for all: (dim, kernel * filters).
        first = np.concatenate(self.kernels[0], axis=1)
        words_dim = self.model.emb.word.dim
        self.first_words = np.ascontiguousarray(first[:words_dim])
        self.first_shapes = self.model.emb.shape.weight.array @ first[words_dim:]
        same = share is not None and share.words is self.words and share.shapes.items == self.shapes.items
        self._ids = share._ids if same else Memo()  # word -> (word id, shape id)

    def ids(self, word: str) -> tuple[int, int]:
        found = self._ids.get(word)
        if found is MISSING:
            found = self._ids.put(word, (self.words.get(word.lower(), self.unk_id),
                                         self.shapes.encode(word_shape(word))))
        return found

    def outputs(self, sentences: Sequence[Sequence[str]]) -> Iterator[np.ndarray]:
        """The head's output (tokens x labels) of each sentence, in order."""
        pack: list[int] = []
        size = 0
        for index, words in enumerate(sentences):
            if size and size + len(words) > PACK_TOKENS:
                yield from self._packed([sentences[i] for i in pack])
                pack, size = [], 0
            pack.append(index)
            size += len(words)
        if pack:
            yield from self._packed([sentences[i] for i in pack])

    def _packed(self, sentences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        gap = self.gap
        # Layout: [gap zeros] s1 [gap pad][gap zeros] s2 [gap pad][gap zeros] ... sn [gap pad]
        spans: list[tuple[int, int]] = []
        word_ids: list[int] = []
        shape_ids: list[int] = []
        zero_rows: list[int] = []
        for words in sentences:
            zero_rows.extend(range(len(word_ids), len(word_ids) + gap))
            word_ids.extend([self.pad_id] * gap)
            shape_ids.extend([self.shapes.pad_id] * gap)
            start = len(word_ids)
            for word in words:
                word_id, shape_id = self.ids(word)
                word_ids.append(word_id)
                shape_ids.append(shape_id)
            spans.append((start, len(word_ids)))
            word_ids.extend([self.pad_id] * gap)
            shape_ids.extend([self.shapes.pad_id] * gap)
        outside = np.ones(len(word_ids), dtype=bool)
        for start, stop in spans:
            outside[start:stop] = False
        x = None
        for number, (layer, kernels) in enumerate(zip(self.model.encoder.layers, self.kernels)):
            if number == 0:
                x = self._first(np.array(word_ids), np.array(shape_ids), zero_rows, len(kernels),
                                layer.conv.bias.array)
            else:
                x = self._conv(x, kernels, layer.conv.bias.array)
            np.maximum(x, 0, out=x)
            norm = layer.norm  # in place: no temporaries the size of x
            x -= norm.mean.array
            x /= norm.std.array
            x *= norm.weight.array
            x += norm.bias.array
            x[outside] = 0
        out = self.head(x)
        return [out[start:stop] for start, stop in spans]

    def head(self, x: np.ndarray) -> np.ndarray:
        """What is kept of each row: the head's output (scores per label)."""
        return self.model.head(x)

    def _first(self, word_ids: np.ndarray, shape_ids: np.ndarray, zero_rows: list[int],
               kernel: int, bias: np.ndarray) -> np.ndarray:
        """The first convolution over the embeddings of ``word_ids`` and ``shape_ids``."""
        distinct, inverse = np.unique(word_ids, return_inverse=True)
        parts = self.model.emb.word(distinct) @ self.first_words
        rows, filters = len(word_ids), self.first_words.shape[1] // kernel
        pad = (kernel - 1) // 2
        out = np.zeros((rows, filters), dtype=parts.dtype)
        for k in range(kernel):  # out[t] += (word part + shape part)[t + k - pad] in block k
            shift = k - pad
            columns = slice(k * filters, (k + 1) * filters)
            block = parts[:, columns].take(inverse, axis=0)
            block += self.first_shapes[:, columns].take(shape_ids, axis=0)
            block[zero_rows] = 0
            if shift < 0:
                out[-shift:] += block[:rows + shift]
            else:
                out[:rows - shift] += block[shift:]
        out += bias
        return out

    @staticmethod
    def _conv(x: np.ndarray, kernels: list[np.ndarray], bias: np.ndarray) -> np.ndarray:
        rows = x.shape[0]
        pad = (len(kernels) - 1) // 2
        padded = np.zeros((rows + 2 * pad, x.shape[1]), dtype=x.dtype)
        padded[pad:pad + rows] = x
        out = padded[0:rows] @ kernels[0]
        for k in range(1, len(kernels)):
            out += padded[k:k + rows] @ kernels[k]
        out += bias
        return out


class MorphTagger(Slovnet):
    """Contextual ``(pos, feats)`` per token, as natasha's ``NewsMorphTagger`` gives them."""

    def __init__(self, emb, path: str = NEWS_MORPH, share: Optional[Slovnet] = None):
        super().__init__(path, emb, MorphModel, share)
        self.tags = []
        for label in self.labels:
            pos, feats = parse_conll_tag(label) if '|' in label or label.isupper() else ('X', {})
            self.tags.append((pos, feats))

    def head(self, x: np.ndarray) -> np.ndarray:
        """The best label of each row, scored a slice at a time (753 labels: 3 KB a row)."""
        return np.concatenate([self.model.head(x[i:i + HEAD_ROWS]).argmax(-1)
                               for i in range(0, len(x), HEAD_ROWS)] or [np.zeros(0, dtype=int)])

    def __call__(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, dict]]]:
        return [[self.tags[i] for i in out.tolist()] for out in self.outputs(sentences)]


class NERTagger(Slovnet):
    """Entity spans ``(first token, last token + 1, type)`` per sentence, as natasha's
    ``NewsNERTagger`` finds them (its CRF decodes the labels)."""

    def __init__(self, emb, path: str = NEWS_NER, share: Optional[Slovnet] = None):
        super().__init__(path, emb, NERModel, share)

    def __call__(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[int, int, str]]]:
        emissions = list(self.outputs(sentences))
        results: list = [None] * len(emissions)
        order = sorted(range(len(emissions)), key=lambda i: len(emissions[i]))
        for first in range(0, len(order), CRF_BATCH):
            batch = order[first:first + CRF_BATCH]
            longest = max(len(emissions[i]) for i in batch)
            if longest == 0:
                for i in batch:
                    results[i] = []
                continue
            scores = np.zeros((len(batch), longest, len(self.labels)), dtype=np.float32)
            mask = np.zeros((len(batch), longest), dtype=bool)
            for row, i in enumerate(batch):
                scores[row, :len(emissions[i])] = emissions[i]
                mask[row, :len(emissions[i])] = True
            for row, (i, path) in enumerate(zip(batch, self.model.head.crf.decode(scores, mask))):
                results[i] = bio_spans([self.labels[t] for t in path[:len(emissions[i])].tolist()])
        return results


def bio_spans(labels: Sequence[str]) -> list[tuple[int, int, str]]:
    """Spans of BIO labels as slovnet reads them: an ``I`` with no open span is dropped."""
    spans = []
    open_type, start, stop = None, 0, 0
    for index, label in enumerate(labels):
        part, _, type = label.partition('-')
        if part == 'B':
            if open_type:
                spans.append((start, stop, open_type))
            open_type, start, stop = type, index, index + 1
        elif part == 'I':
            stop = index + 1
        elif open_type:  # O, <pad>
            spans.append((start, stop, open_type))
            open_type = None
    if open_type:
        spans.append((start, stop, open_type))
    return spans
