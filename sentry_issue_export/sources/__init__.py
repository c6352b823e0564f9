"""Built-in sources, each a plugin: ``sentry`` (the Sentry API), ``samples`` (the bundled demo) and ``file``."""
