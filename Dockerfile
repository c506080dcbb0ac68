# syntax=docker/dockerfile:1.7
# One image, one entry point (dist/services/main.js); a target per service only sets SERVICE (and the
# port the health check probes). Build one with: docker build --target gateway -t brandme/gateway .
ARG NODE_IMAGE=node:24-bookworm-slim

# --- deps: every dependency, for the TypeScript build -------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund

# --- build: tsc → dist/ ---------------------------------------------------------------------------
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
# --max-semi-space-size=32: a 32 MB semi-space. Node 20's V8 defaulted to 16 MB (the flag meant fewer scavenges on
# the allocation-heavy request paths); Node 24's grows to 64 MB by default, so on 24 it is a cap that keeps the young
# generation at 64 MB in 512 Mi pods (default vs 32 measured within the noise: docs/orchestrator.md). bench:scan
# runs the gateway with the same flag (GATEWAY_NODE_OPTIONS), bench:queue its worker (a unit test keeps them equal)
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=32 \
    APP_ENV=production \
    HTTP_HOST=0.0.0.0 \
    PORT_OFFSET=0
WORKDIR /app
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
# overridden per target; the check asks the simple liveness path on the service's own port
ENV SERVICE_PORT=3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(Number(process.env.SERVICE_PORT)+Number(process.env.PORT_OFFSET||0))+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/services/main.js"]

# --- one target per service (ports from shared/ServiceCatalog.ts; a unit test keeps them in step) -------
FROM runtime AS gateway
ENV SERVICE=gateway SERVICE_PORT=3000
EXPOSE 3000

FROM runtime AS brain
ENV SERVICE=brain SERVICE_PORT=8000
EXPOSE 8000

FROM runtime AS policy
ENV SERVICE=policy SERVICE_PORT=8001
EXPOSE 8001

FROM runtime AS identity
ENV SERVICE=identity SERVICE_PORT=8100
EXPOSE 8100

FROM runtime AS knowledge
ENV SERVICE=knowledge SERVICE_PORT=8101
EXPOSE 8101

FROM runtime AS compliance
ENV SERVICE=compliance SERVICE_PORT=8102
EXPOSE 8102

FROM runtime AS chain
ENV SERVICE=chain SERVICE_PORT=8103
EXPOSE 8103

FROM runtime AS agentic
ENV SERVICE=agentic SERVICE_PORT=8200
EXPOSE 8200

FROM runtime AS orchestrator
ENV SERVICE=orchestrator SERVICE_PORT=8300 ORCHESTRATOR_ROLE=worker
EXPOSE 8300

# the scheduler: same service, repeatable jobs only (exactly one replica)
FROM runtime AS orchestrator-beat
ENV SERVICE=orchestrator SERVICE_PORT=8300 ORCHESTRATOR_ROLE=beat
EXPOSE 8300

FROM runtime AS console
ENV SERVICE=console SERVICE_PORT=3002
EXPOSE 3002

# one-shot: create the database if missing, extensions, migrations (no HTTP server to probe)
FROM runtime AS migrate
HEALTHCHECK NONE
CMD ["node", "dist/scripts/db-init.js"]
