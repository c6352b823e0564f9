"""Built-in sources, each a plugin: ``sentry`` (the Sentry API), ``bugsink`` (Bugsink's own API), ``samples``
(the bundled demo) and ``file``."""
