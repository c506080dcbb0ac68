# syntax=docker/dockerfile:1.7
# One image, one entry point (dist/services/main.js): the default target (the last stage, `runtime`) is the
# image every Deployment, the migration Job and every compose service run, each with its own SERVICE (and
# the Job with its own command). Build it with: docker build -t brandme .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- deps: every dependency, for the TypeScript build -------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund

# --- build: tsc → dist/, then the services bundled into dist/services/main.js (docs/memory.md) -----
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
COPY scripts ./scripts
# operator scripts import these (stack-plan → stacks, the compose Prometheus generator → observability);
# they are compiled like the local build but never copied into the runtime stage
COPY stacks ./stacks
COPY observability ./observability
RUN npm run build

# --- prod-deps: runtime dependencies only ----------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: compiled code, SQL migrations, per-environment defaults; no compiler, no dev tools --------
FROM ${NODE_IMAGE} AS runtime
# NODE_OPTIONS here is only the default for a process that sets none (the migration Job, scripts): every
# service's pod and compose service sets its own from shared/ServiceCatalog.ts (memory.nodeOptions: young and
# old generation caps measured by bench:memory, docs/memory.md), and the benches run with those same flags.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=16 \
    APP_ENV=production \
    HTTP_HOST=0.0.0.0 \
    PORT_OFFSET=0
WORKDIR /app
# pg_dump for the backup CronJob (`node dist/scripts/backup.js`, i.e. npm run backup): bookworm's 15 = Cloud SQL's major
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*
# the node image ships user "node" with uid 1000: rename it so files and processes read as brandme
RUN groupmod --new-name brandme node \
 && usermod --login brandme --home /home/brandme --move-home node
COPY --chown=brandme:brandme package.json package-lock.json ./
COPY --from=prod-deps --chown=brandme:brandme /app/node_modules ./node_modules
COPY --from=build --chown=brandme:brandme /app/dist ./dist
COPY --chown=brandme:brandme migrations/sql ./migrations/sql
COPY --chown=brandme:brandme .env.development .env.staging .env.production ./
USER brandme:brandme
STOPSIGNAL SIGTERM
# the check asks the simple liveness path on the port of the service SERVICE names (shared/ServiceCatalog.ts)
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "dist/scripts/healthcheck.js"]
CMD ["node", "dist/services/main.js"]
