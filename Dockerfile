# syntax=docker/dockerfile:1
# Turnpike gateway image: `docker build -t turnpike .`
#   docker run -p 8000:8000 -p 8100:8100 --read-only -v $PWD/kong.yml:/config/kong.yml:ro \
#     turnpike gateway --config /config/kong.yml
# The Admin API stays on loopback, as in Kong's image; open it with TURNPIKE_ADMIN_LISTEN=0.0.0.0:8001
# together with TURNPIKE_ADMIN_TOKEN.
# The runtime stage holds only the build (dist/: the entry and its chunks) and the production dependencies,
# runs as the unprivileged `node` user and writes nothing outside /tmp, so it runs on a read-only root.

# ---- build: all dependencies, then the esbuild bundle ---------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.mjs scripts/build.mjs
COPY src src
COPY examples examples
RUN npm run build

# ---- production dependencies only (the bundle keeps npm packages external) -----------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime --------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TURNPIKE_PROXY_LISTEN="0.0.0.0:8000" \
    TURNPIKE_ADMIN_LISTEN="127.0.0.1:8001" \
    TURNPIKE_STATUS_LISTEN="0.0.0.0:8100" \
    TURNPIKE_GUI_LISTEN="off"
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
# Files are root-owned and read-only to the process; it runs as uid 1000.
USER node
EXPOSE 8000 8001 8100
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8100/status/ready').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/turnpike.mjs"]
CMD ["gateway"]
