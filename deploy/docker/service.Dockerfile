# syntax=docker/dockerfile:1.7
# One image recipe for every service of the workspace, built from the repository root:
#   docker build -f deploy/docker/service.Dockerfile \
#     --build-arg PACKAGE=ncp-signer --build-arg MODULE=ncp_signer --build-arg PORT=8001 -t ncp-signer:0.1.0 .
# PACKAGE: the uv workspace member (distribution name); MODULE: its import package (`python -m MODULE`);
# PORT: the port its settings default to (used by the HEALTHCHECK); APT_PACKAGES: runtime Debian packages
# (the gateway needs fonts-dejavu-core for the transcript PDF).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG PACKAGE
ARG UV_VERSION=0.13.8
RUN test -n "${PACKAGE}" || (echo "build with --build-arg PACKAGE=<distribution>" >&2; exit 1)
RUN --mount=type=cache,target=/root/.cache/pip pip install "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Third-party dependencies first: this layer survives changes to our own code.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=packages,target=packages \
    --mount=type=bind,source=services,target=services \
    uv sync --frozen --no-dev --no-install-workspace --package "${PACKAGE}"
COPY pyproject.toml uv.lock ./
COPY packages ./packages
COPY services ./services
# Then the workspace packages this service needs, as real (non-editable) installs.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "${PACKAGE}"

# Development only (docker-compose.yml): PyPI oidc-provider-mock with the gateway's client registered.
FROM ${PYTHON_IMAGE} AS dev-oidc
ARG OIDC_PROVIDER_MOCK_VERSION=0.3.4
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install "oidc-provider-mock==${OIDC_PROVIDER_MOCK_VERSION}" "uvicorn>=0.32" \
    && groupadd --system --gid 10001 ncp \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ncp
COPY deploy/dev/oidc_provider.py /app/oidc_provider.py
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8010
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8010/.well-known/openid-configuration', timeout=2)"]
ENTRYPOINT ["python", "/app/oidc_provider.py"]

FROM ${PYTHON_IMAGE} AS runtime
ARG MODULE
ARG PORT=8000
ARG APT_PACKAGES=""
RUN test -n "${MODULE}" || (echo "build with --build-arg MODULE=<import package>" >&2; exit 1)
RUN if [ -n "${APT_PACKAGES}" ]; then \
      apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGES} \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 ncp \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin ncp
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NCP_MODULE=${MODULE} \
    NCP_HEALTH_PORT=${PORT}
WORKDIR /app
USER 10001:10001
EXPOSE ${PORT}
# Liveness of the process; readiness (/readyz) is checked by compose and Kubernetes themselves.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['NCP_HEALTH_PORT'], timeout=2)"]
# Extra arguments go to the module, e.g. `refresh` for the registry-cache's CronJob.
ENTRYPOINT ["/bin/sh", "-c", "exec python -m \"$NCP_MODULE\" \"$@\"", "--"]
CMD []
