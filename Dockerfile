# mdtcare production image: Django under gunicorn, static files served by
# WhiteNoise. The same image runs the Celery worker and beat (see
# docker-compose.yml, which also applies migrations before gunicorn starts).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The app runs as an unprivileged user; the code stays root's, read-only to it.
RUN groupadd --system --gid 10001 mdtcare \
    && useradd --system --uid 10001 --gid mdtcare --create-home --shell /usr/sbin/nologin mdtcare

WORKDIR /app

# Dependencies first, so that a change of code reuses this layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# collectstatic loads the settings, which insist on a SECRET_KEY: give it a
# throwaway one that is used for nothing and not kept in the image. The app
# may write only to var/mail (mail when EMAIL_URL is unset), var/celery and
# var/exports (report exports written in the background; a shared volume in
# docker-compose.yml, so that web and worker see the same files).
RUN SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/mail var/celery var/exports \
    && chown mdtcare:mdtcare var/mail var/celery var/exports

USER mdtcare
EXPOSE 8000

# The access log uses %(U)s, the path WITHOUT the query string, and leaves
# out the referrer: search terms (patient names, NHS numbers) travel in query
# strings and must never reach the logs.
CMD ["gunicorn", "mdtcare.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--access-logfile", "-", \
     "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(L)s"]
