# The MCP server in a container: stdio by default (for `docker run -i`), or HTTP with `--http --host 0.0.0.0`.
#   docker build -t export-sentry-issue-mcp .
#   docker run -i --rm -v "$PWD:/app" -e SENTRY_AUTH_TOKEN -e SENTRY_URL export-sentry-issue-mcp
# Reports are written to /app (mount a host directory there to keep them); the saved config lives in
# /root/.config/export-sentry-issue (mount a volume there to keep it between runs).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XDG_CONFIG_HOME=/root/.config \
    FASTMCP_SHOW_SERVER_BANNER=false \
    FASTMCP_CHECK_FOR_UPDATES=off

COPY pyproject.toml README.md /tmp/build/
COPY sentry_issue_export /tmp/build/sentry_issue_export
RUN pip install /tmp/build \
    && rm -rf /tmp/build \
    && mkdir -p /root/.config/export-sentry-issue /app \
    && chmod 700 /root/.config /root/.config/export-sentry-issue

WORKDIR /app
EXPOSE 3001
ENTRYPOINT ["export-sentry-issue-mcp"]
