"""Sentry's REST API: its endpoints (``client``) and what a pasted Sentry address or token says (``urls``).

The HTTP every server source shares (transport, pacing, what a response means) is :mod:`sentry_issue_export.web`.
Nothing is imported here, so ``sentry.urls`` can be read (by the reference parser and the config) without
loading the HTTP stack.
"""
