# Production image for the web process, the Celery worker and Celery beat (docker-compose.yml).
# bookworm: the same Debian release the CI machine and scripts/system-deps.sh use, so the
# WeasyPrint library names below are the ones tested.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries (without libharfbuzz-subset0 every PDF renders about 4x slower)
# and fonts for invoices and statements.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
        fonts-dejavu-core fonts-liberation2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. Every package is pinned
# with its hashes; pip refuses anything else.
COPY requirements/base.lock requirements/base.lock
RUN pip install --require-hashes --no-deps -r requirements/base.lock

COPY . .

# Collected and compressed once at build time; whitenoise serves them from STATIC_ROOT.
# collectstatic needs no secrets, but production settings refuse to load without a key.
ENV DJANGO_ENV=production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/media
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app practica \
    && mkdir -p /app/.run /app/media \
    && chown -R practica:practica /app/.run /app/media

USER practica
EXPOSE 8000
CMD ["gunicorn", "practice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
