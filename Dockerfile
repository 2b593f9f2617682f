# Sokai production image: one image for web (gunicorn), worker and beat (celery).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The PDFs embed one TrueType font per script of the network (reportlab cannot embed the CFF
# outlines of Noto CJK): Latin/Cyrillic/Vietnamese, Thai, Devanagari, Myanmar (Noto), Hangul
# (Nanum), Japanese (IPAex Gothic), Traditional Chinese (AR PL UMing), rare Han (Hanazono).
# No compilers needed: every dependency ships wheels (psycopg[binary], argon2-cffi, reportlab,
# uharfbuzz).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core fonts-noto-ui-core \
       fonts-nanum fonts-ipaexfont-gothic fonts-arphic-uming fonts-hanazono \
    && rm -rf /var/lib/apt/lists/*

# `sokai backup` / `sokai restore` run pg_dump / pg_restore, which must be at least the
# server's version (postgres:16 in docker-compose.yml): the client from the PostgreSQL
# project's own apt repository, set up by Debian's postgresql-common script.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-common ca-certificates \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system sokai \
    && useradd --system --gid sokai --home-dir /var/lib/sokai --no-create-home \
       --shell /usr/sbin/nologin sokai

# Dependencies and package in one step; the source stays in /src only as build input.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY models ./models
COPY services ./services
COPY tasks ./tasks
COPY webapp ./webapp
RUN pip install --no-cache-dir . && rm -rf build *.egg-info

# The instance folder holds uploads (proxy letters), generated reports and the beat schedule.
# Created and chowned before VOLUME so a fresh named volume is writable by the sokai user.
ENV SOKAI_INSTANCE_PATH=/var/lib/sokai
RUN mkdir -p /var/lib/sokai && chown sokai:sokai /var/lib/sokai
VOLUME ["/var/lib/sokai"]
# Not /src: the process must import the installed package, not the build copy.
WORKDIR /var/lib/sokai

USER sokai
EXPOSE 8000

# No HEALTHCHECK here: worker and beat run from this image too and serve no HTTP;
# docker-compose.yml puts the /healthz check on the web service only.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-", \
     "webapp.wsgi:app"]
