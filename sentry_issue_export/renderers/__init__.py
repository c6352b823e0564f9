"""The built-in output formats, each a plugin registered through ``register_renderers``.

``text`` (the default) and ``markdown`` render Jinja2 templates from ``sentry_issue_export/templates``;
``json`` writes the normalised model. They get reports the exporter has already capped (``models.limits``).
"""
