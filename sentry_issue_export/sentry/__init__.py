"""Sentry's REST API: endpoints (``client``), HTTP (``transport``), what answers mean (``answers``), rate limits
(``rate_limits``) and what a pasted address or token says (``urls``).

Nothing is imported here, so ``sentry.urls`` can be read (by the reference parser and the config) without
loading the HTTP stack.
"""
