# PostgreSQL from Debian packages, for builders without an image registry (docker-compose.yml's default is
# the public postgres image). It keeps that image's interface as far as compose uses it: POSTGRES_USER,
# POSTGRES_DB, POSTGRES_PASSWORD_FILE, *.sql in /docker-entrypoint-initdb.d on an empty data directory.
#   docker build -f deploy/docker/postgres.Dockerfile --build-arg BASE_IMAGE=ncp-python-base:3.11-bookworm \
#     -t ncp-postgres:15-bookworm .
#   NCP_POSTGRES_IMAGE=ncp-postgres:15-bookworm docker compose up
ARG BASE_IMAGE=debian:bookworm-slim
# checkov:skip=CKV_DOCKER_7:the base is a build argument whose values carry version tags (debian:bookworm-slim, ncp-python-base:3.11-bookworm)
FROM ${BASE_IMAGE}
ARG POSTGRES_VERSION=15
# The postgres account first, with the public image's uid 999 (a system uid, so --system), so volumes and
# Kubernetes' runAsUser carry over; then the server. The package would create a cluster of its own; the entry
# point creates the one we want, in PGDATA.
# hadolint ignore=DL3008
RUN groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --no-create-home --no-log-init \
       --shell /bin/sh postgres \
    && mkdir -p /etc/postgresql-common \
    && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold \
       "postgresql-${POSTGRES_VERSION}" \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
    && chown postgres:postgres /var/lib/postgresql/data /var/run/postgresql
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
ENV PATH=/usr/lib/postgresql/${POSTGRES_VERSION}/bin:${PATH} PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["pg_isready", "-q"]
# A fresh named volume takes the image's ownership of the data directory, so no root step is needed.
USER 999:999
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
STOPSIGNAL SIGINT
