"""httpx, imported without its command-line client.

``import httpx`` also imports ``httpx._main``, its command-line client, whenever click, rich and pygments are
installed (fastmcp installs them): about 0.1 s of start-up for code this package never runs. Marking that
one module as missing while httpx loads makes httpx fall back to its stub ``main``; the mark is removed at
once, so anything that imports ``httpx._main`` itself later still gets the real one.
"""

import sys

if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        del sys.modules["httpx._main"]

import httpx

__all__ = ["httpx"]
