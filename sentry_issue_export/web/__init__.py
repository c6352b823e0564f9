"""The HTTP every server source shares, Sentry's and Bugsink's alike: where a server is (``origin``), how a
request goes out and comes back (``transport``: the token pinned to one origin, pacing, retries, size caps),
what a response means (``responses``), how rate limits are kept (``rate_limits``), and the sockets under it
all (``network``).

Nothing is imported here, so ``web.origin`` can be read (by the reference parser and the config) without
loading the HTTP stack.
"""
