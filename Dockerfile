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
COPY pyproject.toml constraints.txt ./
COPY core core
COPY persistence persistence
COPY resolvers resolvers
COPY schema schema
COPY server server
COPY jobs jobs
RUN pip install -c constraints.txt .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=prod \
    LOG_JSON=true \
    EXPORT_DIR=/data/exports \
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
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/ready', timeout=2)"]
# WEB_CONCURRENCY uvicorn workers; each builds its app from the environment.
CMD ["sh", "-c", "exec python manage.py serve --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\""]
