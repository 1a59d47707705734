# syntax=docker/dockerfile:1
# SAFER's one image: the web app (gunicorn), the Celery worker and beat. See docker-compose.yml.

# --- Front-end assets: GOV.UK Frontend compiled with the council's branding ---------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/ scripts/
COPY safer/static/ safer/static/
RUN npm ci --no-audit --no-fund --loglevel=error && npm run build:css

# --- The application ----------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
ARG UV_VERSION=0.13.8
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=safer.settings.production \
    SAFER_VAR_DIR=/app/var

# WeasyPrint renders PDFs with the system Pango and HarfBuzz; DejaVu is the font it is given.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# The exact versions of requirements.lock, installed by uv (docs/decisions/0002-uv-lock-file.md).
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
    && uv venv "$VIRTUAL_ENV" \
    && uv pip install --python "$VIRTUAL_ENV/bin/python" --no-cache -r /tmp/requirements.lock

WORKDIR /app
COPY . .
COPY --from=assets /src/safer/static/build/ safer/static/build/

# Hashed, compressed static files served by WhiteNoise. Settings need their variables to import;
# these build-time values never reach a running container.
RUN SECRET_KEY=collectstatic-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build.invalid SAFER_SITE_URL=https://build.invalid \
    DATABASE_URL=postgresql://build@build.invalid/build REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0

# Run as an unprivileged user who can write only var/ (beat's schedule, private files).
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin safer \
    && mkdir -p /app/var/private \
    && chown -R safer:safer /app/var \
    && chmod 0755 /app/docker/entrypoint.sh /app/docker/healthcheck.py
USER safer

EXPOSE 8000
# The entrypoint waits for the database and broker (or fails with one line), then runs CMD.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "safer.wsgi:application", "--bind=0.0.0.0:8000", "--no-control-socket"]
