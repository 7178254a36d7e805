"""The HTTP service and the editor's page (``extractor serve``; FastAPI, the ``serve`` extra).

``app`` builds the app, ``schema`` its requests and responses, ``tagging`` the thread that
tags, ``guard`` the middleware in front, ``settings`` what a worker process is told; the
page is ``web/``.
"""
