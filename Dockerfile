# The MCP server in a container: stdio by default (for `docker run -i`), or HTTP with `--http --host 0.0.0.0`.
#   docker build -t sentry-issue-export .
#   docker run -i --rm -e SENTRY_AUTH_TOKEN -e SENTRY_URL -v "$PWD:/app" sentry-issue-export
# It runs as the user exporter (uid 10001), not root. Reports are written to /app, its working directory: mount a
# host directory there to keep them, and add --user "$(id -u):$(id -g)" to have them owned by you. The saved
# config lives in /home/exporter/.config/export-sentry-issue: mount a volume (or your own config directory) there.
# docs/mcp.md#docker has the commands.
#
# Every dependency is pinned, with its hashes: requirements/container.txt (what the server runs on) and
# requirements/build.txt (the build backend). The command that refreshes each is at its top.

FROM python:3.12-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The locked runtime dependencies, as wheels only (nothing is compiled), into a virtual environment without pip;
# the locked build backend into this stage alone.
COPY requirements/container.txt requirements/build.txt /tmp/requirements/
RUN python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements/container.txt \
    && python -m pip install --require-hashes --no-deps --only-binary=:all: -r /tmp/requirements/build.txt

# The project itself: a wheel built with that backend, installed without dependencies (they are all above).
COPY pyproject.toml README.md LICENSE /tmp/src/
COPY sentry_issue_export /tmp/src/sentry_issue_export
RUN python -m pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels /tmp/src \
    && python -m pip --python /opt/venv/bin/python install --no-deps /tmp/wheels/*.whl


# Only the virtual environment leaves the build stage: no build backend, no pip of its own, no sources.
FROM python:3.12-slim

# HOME and XDG_CONFIG_HOME are set here rather than left to the passwd entry of the user the container runs as:
# with --user "$(id -u):$(id -g)" that uid has no entry, and the config is still looked for where the docs mount it.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/exporter \
    XDG_CONFIG_HOME=/home/exporter/.config \
    FASTMCP_SHOW_SERVER_BANNER=false \
    FASTMCP_CHECK_FOR_UPDATES=off

# The config directory is the user's own and private (700), so a named volume mounted on it starts out so; the
# directories above it can be passed through (755) by any uid, so your own config directory mounted there works
# with --user.
RUN groupadd --system --gid 10001 exporter \
    && useradd --system --uid 10001 --gid exporter --home-dir /home/exporter --no-log-init \
        --shell /usr/sbin/nologin exporter \
    && install -d -o exporter -g exporter -m 755 /home/exporter /home/exporter/.config /app \
    && install -d -o exporter -g exporter -m 700 /home/exporter/.config/export-sentry-issue

COPY --from=build /opt/venv /opt/venv

USER 10001:10001
WORKDIR /app
EXPOSE 3001
# The server ends on SIGTERM within half a second, as PID 1 too: docker stop needs no --init.
ENTRYPOINT ["export-sentry-issue-mcp"]
