"""Fitting a profile from a site's tagged articles (scikit-learn, at build time only).

``data`` reads and splits the archive, ``extract`` tags it up to the candidates, ``archive``
fits what a profile knows of the site (look-ups, house tags, neighbours, sites), ``trees`` the
ranker's trees, ``fit`` puts them together out of fold, ``train`` writes the profile
(``ranking.profile``) and its card.
"""
