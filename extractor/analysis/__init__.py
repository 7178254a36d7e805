"""Text -> ``Doc``: sentences, tokens, morphology, entities, normal forms, phrases, candidates.

The steps in order (``pipeline.analyse``): ``clean`` (junk characters masked, offsets kept) ->
``segment`` (razdel) -> ``morph`` (natasha's morph tagger run by ``neural``, lemmas from
pymorphy3) -> ``ner`` (natasha's NER, boundary fixes) -> ``entities`` (each entity's nominative,
``normalize``; one form per entity) -> ``phrases`` (noun phrases, topics, names in quotes,
places with their kind, Latin names) -> ``candidates`` (mentions merged into tag candidates).
Nothing here ranks or knows a profile.
"""
