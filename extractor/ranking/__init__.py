"""Doc + candidates -> ranked, cut tags: what a fitted profile does at run time, numpy only.

``items`` lists every tag a profile may give a document (the candidates in each spelling,
the site's house tags, the archive neighbours' tags) and its row of ``features``; the trees
(``trees``) give each the probability that the site's editor chose it; ``ranker`` orders
them, one tag per candidate, and cuts the list where the expected F1 peaks. ``profile``
reads and writes a profile folder; ``house``, ``neighbours``, ``sites`` and ``similarity``
are the parts the features come from. Fitting lives in ``extractor.training``.
"""
