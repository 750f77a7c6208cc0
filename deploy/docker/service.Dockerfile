# One image recipe for every service of the workspace, built from the repository root:
#   docker build -f deploy/docker/service.Dockerfile \
#     --build-arg PACKAGE=ncp-signer --build-arg MODULE=ncp_signer --build-arg PORT=8001 -t ncp-signer:0.1.0 .
# PACKAGE: the uv workspace member (distribution name); MODULE: its import package (`python -m MODULE`);
# PORT: the port its settings default to (used by the HEALTHCHECK); APT_PACKAGES: runtime Debian packages
# (the gateway needs fonts-dejavu-core for the transcript PDF).
# PYTHON_IMAGE: the public python:3.11-slim, or the image deploy/docker/base-from-debian.sh builds from Debian
# packages alone (air-gapped builders). No `# syntax=` line: the builder's own Dockerfile frontend is used,
# so BuildKit fetches nothing, and buildah (podman build) reads the same file.
# RUN --mount targets are absolute paths: buildah before 1.29 refuses relative ones.
ARG PYTHON_IMAGE=python:3.11-slim
# checkov:skip=CKV_DOCKER_7:the base is a build argument whose values carry version tags (python:3.11-slim, ncp-python-base:3.11-bookworm); tests/deploy checks the default

# uv itself, in its own virtual environment (Debian's python refuses `pip install` into the system, PEP 668).
FROM ${PYTHON_IMAGE} AS uv
ARG UV_VERSION=0.13.8
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv /opt/uv && /opt/uv/bin/pip install "uv==${UV_VERSION}"
ENV PATH=/opt/uv/bin:${PATH} UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON_PREFERENCE=only-system UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

FROM uv AS build
# After the uv layer, so that layer is shared by every service.
ARG PACKAGE
RUN test -n "${PACKAGE}" || (echo "build with --build-arg PACKAGE=<distribution>" >&2; exit 1)
# Third-party dependencies first: this layer survives changes to our own code.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=/src/uv.lock \
    --mount=type=bind,source=pyproject.toml,target=/src/pyproject.toml \
    --mount=type=bind,source=packages,target=/src/packages \
    --mount=type=bind,source=services,target=/src/services \
    uv sync --frozen --no-dev --no-install-workspace --package "${PACKAGE}"
COPY pyproject.toml uv.lock ./
COPY packages ./packages
COPY services ./services
# Then the workspace packages this service needs, as real (non-editable) installs.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "${PACKAGE}"

# The development OIDC provider's venv: oidc-provider-mock and uvicorn at the versions uv.lock holds (the
# whole lock is the constraint set, so their dependencies are the locked ones too).
FROM uv AS dev-oidc-build
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=/src/uv.lock \
    --mount=type=bind,source=pyproject.toml,target=/src/pyproject.toml \
    --mount=type=bind,source=packages,target=/src/packages \
    --mount=type=bind,source=services,target=/src/services \
    uv export --frozen --all-packages --no-emit-workspace --no-hashes --no-header --quiet -o /tmp/locked.txt \
    && uv venv --quiet /app/.venv \
    && uv pip install --quiet --python /app/.venv/bin/python --constraint /tmp/locked.txt oidc-provider-mock uvicorn

# The user every image runs as. A regular (non --system) account: --system with a uid above SYS_UID_MAX warns.
FROM ${PYTHON_IMAGE} AS user
RUN groupadd --gid 10001 ncp \
    && useradd --uid 10001 --gid 10001 --no-create-home --no-log-init --home-dir /nonexistent \
       --shell /usr/sbin/nologin ncp

# Development only (docker-compose.yml): PyPI oidc-provider-mock with the gateway's client registered.
FROM user AS dev-oidc
COPY --from=dev-oidc-build /app/.venv /app/.venv
COPY deploy/dev/oidc_provider.py /app/oidc_provider.py
COPY deploy/docker/healthcheck.py /usr/local/bin/healthcheck
ENV PATH=/app/.venv/bin:${PATH} PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8010
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["healthcheck", "http://127.0.0.1:8010/.well-known/openid-configuration"]
ENTRYPOINT ["python", "/app/oidc_provider.py"]

FROM user AS runtime
ARG MODULE
ARG PORT=8000
ARG APT_PACKAGES=""
RUN test -n "${MODULE}" || (echo "build with --build-arg MODULE=<import package>" >&2; exit 1)
# hadolint ignore=DL3008
RUN if [ -n "${APT_PACKAGES}" ]; then \
      apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGES} \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /app/.venv /app/.venv
COPY deploy/docker/healthcheck.py /usr/local/bin/healthcheck
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NCP_MODULE=${MODULE} \
    NCP_HEALTH_PORT=${PORT}
WORKDIR /app
USER 10001:10001
EXPOSE ${PORT}
# Liveness of the process; readiness (/readyz) is checked by compose and Kubernetes themselves. Without a URL
# the entry point asks http://127.0.0.1:$NCP_HEALTH_PORT/healthz: no argument with spaces (podman's
# Docker-compatible API splits those).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 CMD ["healthcheck"]
# Extra arguments go to the module, e.g. `refresh` for the registry-cache's CronJob.
ENTRYPOINT ["/bin/sh", "-c", "exec python -m \"$NCP_MODULE\" \"$@\"", "--"]
CMD []
