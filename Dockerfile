# Customer Registry: docker build -t customer-registry .
# Settings come from the environment (README, "Configuration"); the key file from a mounted
# secret. docs/operations.md, "Docker", shows a run.

FROM python:3.11-slim-bookworm AS build
RUN python -m venv /opt/customer-registry
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
# The same install as the README's: the package and its pinned dependencies, nothing else.
RUN /opt/customer-registry/bin/pip install --no-cache-dir .

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --create-home \
        --home-dir /var/lib/customer-registry customer-registry
COPY --from=build /opt/customer-registry /opt/customer-registry
ENV PATH=/opt/customer-registry/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CUSTOMER_REGISTRY_KEY_FILE=/run/secrets/customer-registry.key \
    CUSTOMER_REGISTRY_LOG_FORMAT=json
# The SQLite database, when no PostgreSQL URL is set, lives here: mount a volume on it.
WORKDIR /var/lib/customer-registry
VOLUME /var/lib/customer-registry
USER customer-registry
EXPOSE 8000
# serve finishes the requests under way on SIGTERM, then exits (docs/operations.md).
STOPSIGNAL SIGTERM
ENTRYPOINT ["customer-registry", "serve", "--host", "0.0.0.0", "--port", "8000"]
CMD ["--workers", "2"]
