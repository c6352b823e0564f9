"""The MCP front end: the five tools (``server``) and every word an MCP client reads (``wording``).

Nothing is imported here: fastmcp loads only when a server is built.
"""
