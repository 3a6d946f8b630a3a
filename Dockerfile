# Burgerbeest in a container. Build: docker build -t burgerbeest .
# Run (SQLite in a volume next to the config):
#   docker run -d --name burgerbeest -e BURGERBEEST_TOKEN=123456:... \
#     -v burgerbeest-data:/data burgerbeest
# The first start copies config.example.toml to /data/config.toml; edit it there.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --system --create-home --home-dir /home/burgerbeest burgerbeest \
    && mkdir /data && chown burgerbeest /data

WORKDIR /app
COPY pyproject.toml README.md config.example.toml ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY migrations ./migrations
COPY testing ./testing
RUN pip install .

USER burgerbeest
VOLUME ["/data"]
# Webhook mode and /healthz, /metrics listen here when enabled in the config.
EXPOSE 8080
CMD ["sh", "-c", "[ -f /data/config.toml ] || cp /app/config.example.toml /data/config.toml; exec burgerbeest run --config /data/config.toml"]
