"""``neural`` runs natasha's slovnet models its own way: it must give what slovnet gives."""
from __future__ import annotations

from pathlib import Path

import pytest

from extractor.analysis import morph
from extractor.doc import Doc
from extractor.analysis.neural import MorphTagger, NERTagger, bio_spans
from extractor.analysis.segment import segment

SAMPLES = Path(__file__).resolve().parent.parent / 'samples'


@pytest.fixture(scope='module')
def models():
    from natasha import NewsEmbedding, NewsMorphTagger, NewsNERTagger

    emb = NewsEmbedding()
    return NewsMorphTagger(emb), NewsNERTagger(emb), MorphTagger(emb), NERTagger(emb)


def sample_sentences() -> list[list[str]]:
    sentences = [['Москва'], ['В', 'Москве', '.'], ['«', 'Газпром', '»', '—', 'компания'] * 70]
    for path in sorted(SAMPLES.glob('*.txt')):
        doc = Doc(path.read_text(encoding='utf-8'))
        segment(doc)
        sentences += [[doc.tokens[i].text for i in s.tokens] for s in doc.sentences]
    return sentences


def test_morph_tags_equal_slovnet(models):
    slovnet, _, ours, _ = models
    sentences = sample_sentences()
    theirs = [[(t.pos, t.feats) for t in markup.tokens] for markup in slovnet.map(sentences)]
    assert ours(sentences) == theirs
    assert ours([]) == []


def test_ner_spans_equal_slovnet(models):
    _, slovnet, _, ours = models
    sentences = sample_sentences()
    found = ours(sentences)
    assert sum(map(len, found)) > 50
    for words, spans, markup in zip(sentences, found, slovnet.map([' '.join(w) for w in sentences])):
        starts, position = [], 0
        for word in words:
            starts.append((position, position + len(word)))
            position += len(word) + 1
        mine = [(starts[a][0], starts[b - 1][1], type) for a, b, type in spans]
        assert mine == [(s.start, s.stop, s.type) for s in markup.spans], words


@pytest.mark.parametrize('labels, spans', [
    (['O', 'B-PER', 'I-PER', 'O'], [(1, 3, 'PER')]),
    (['I-LOC', 'B-LOC', 'B-ORG', 'I-ORG'], [(1, 2, 'LOC'), (2, 4, 'ORG')]),
    (['B-PER'], [(0, 1, 'PER')]),
    (['O', 'I-PER'], []),
    ([], []),
])
def test_bio_spans(labels, spans):
    assert bio_spans(labels) == spans


WORDS = ('развития местного самоуправления транспортной инфраструктуры умных городов '
         'Логвиненко Ростова Лусакой Черёмина высшей столицами ассоциации острова стали '
         'мэрии министерства новому лучших').split()


@pytest.mark.parametrize('grams', [{'Nom'}, {'Nom', 'Sing'}, {'Nom', 'Plur'}, {'Nom', 'Sing', 'Fem'},
                                   {'Gen', 'Plur'}])
def test_vocab_inflect_is_pymorphy3_inflect(grams):
    vocab = morph.Vocab()
    oc = {morph.UD_OC_FEATS[g] for g in grams}
    checked = 0
    for word in WORDS:
        for form in vocab(word.lower()):
            expected = form.parse.inflect(oc)
            got = vocab.inflect(form, frozenset(grams))
            assert (got and (got.word, str(got.parse.tag))) == (expected and (expected.word, str(expected.tag))), (word, form)
            checked += 1
    assert checked > 50
