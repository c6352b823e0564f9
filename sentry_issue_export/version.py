"""The package's version, read from its installed metadata so it is written in one place (``pyproject.toml``)."""

from importlib import metadata

try:
    __version__ = metadata.version("sentry-issue-export")
except metadata.PackageNotFoundError:  # a bare checkout on sys.path, not installed
    __version__ = "0+unknown"
