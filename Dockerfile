# Used by docker-compose.yml. Not needed for `make run` / `make test`.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY courtwatch courtwatch
COPY projections projections
COPY web web
RUN pip install --no-cache-dir . && mkdir /data && chown nobody /data
USER nobody
EXPOSE 8000
