"""The built-in output formats, each a plugin registered through ``register_renderers``.

``text`` (the default) and ``markdown`` render Jinja2 templates from ``sentry_issue_export/templates``;
``json`` writes the normalised model. All three apply ``RenderLimits`` the same way (``limits.py``).
"""
