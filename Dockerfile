# syntax=docker/dockerfile:1
# Multi-stage: wheels are built with compilers in the first stage; the final image has only the
# virtualenv and the code, runs as a non-root user, and checks itself through /ready.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# The compilers come from the base image's Debian release; this stage is thrown away.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# Only the dependencies, pinned by constraints.txt: this layer is rebuilt when they change, not
# on every edit of the code. The code itself is not installed into the virtualenv: it is copied
# once, into /app, in the runtime stage (python manage.py runs from there).
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -c constraints.txt -r requirements.txt

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=prod \
    LOG_JSON=true \
    EXPORT_DIR=/data/exports \
    EXPORT_STORAGE=database \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
    WEB_CONCURRENCY=2 \
    PORT=8000
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /data/exports /tmp/metrics && chown -R app:app /data /tmp/metrics
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app alembic.ini manage.py schema.graphql ./
COPY --chown=app:app migrations migrations
COPY --chown=app:app core core
COPY --chown=app:app persistence persistence
COPY --chown=app:app resolvers resolvers
COPY --chown=app:app schema schema
COPY --chown=app:app server server
COPY --chown=app:app jobs jobs
USER 10001:10001
EXPOSE 8000 9101
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/ready', timeout=2)"]
# On SIGTERM the server answers /ready 503 for SHUTDOWN_DRAIN_SECONDS (5), then uvicorn finishes
# in-flight requests for up to 10 s: stop it with a grace period above 15 s (`docker stop -t 30`,
# compose's stop_grace_period), or Docker kills it mid-request after its default 10 s.
# WEB_CONCURRENCY uvicorn workers; each builds its app from the environment.
CMD ["sh", "-c", "exec python manage.py serve --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\""]
