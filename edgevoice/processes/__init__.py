"""The process kinds a user starts: ``node``, ``signalling`` and ``serve --nodes N``.

(``edgevoice serve`` with one node, the embedded default, stays in ``edgevoice/serve.py``.)
"""
