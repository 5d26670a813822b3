# One image for web (gunicorn), worker and beat (celery); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first, in their own layer: rebuilt only when pyproject.toml changes.
# The project itself runs from /app (PYTHONPATH), so its installed copy is removed.
COPY pyproject.toml README.md ./
RUN mkdir digest articles newsletters \
    && touch digest/__init__.py articles/__init__.py newsletters/__init__.py \
    && pip install . \
    && pip uninstall --yes digest \
    && rm -rf digest articles newsletters build

COPY . .

# Static files with hashed names, compressed, served by WhiteNoise. The values
# below exist only so that settings load during the build; nothing is kept.
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    DJANGO_ALLOWED_HOSTS=build \
    python manage.py collectstatic --no-input --verbosity 0

RUN useradd --system --uid 1000 --home-dir /app digest
USER digest

EXPOSE 8000
CMD ["gunicorn", "digest.wsgi", "--preload", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
