# syntax=docker/dockerfile:1
# One image for both roles: the API (default command) and the worker (`node dist/worker.js`).
# Build: docker build -t cloudkeep-webhooks .   Deploy: deploy/helm/cloudkeep-webhooks (README, "Deploying").

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts scripts/build.ts
COPY src src
# dist/ (compiled, with the settings page) and dist/workflow-bundle{,-traced}.js (workers start without webpack).
RUN npm run build

FROM node:20-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
# Memory held bounded as package.json's start scripts do (docs/performance.md, "Memory"): V8's old space capped
# at 192 MiB (the parked 100,000 scenario's live heap is under 112 MiB), glibc's malloc arenas at 2, and its trim
# and mmap thresholds fixed at 128 KiB so freed memory goes back to the system (package.json's config.mallocEnv).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=192 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/tmp/cloudkeep-webhooks
WORKDIR /app
COPY --from=production-deps --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /app/dist dist
COPY --chown=root:root package.json ./
# The image's files stay root-owned and read-only to the process; it runs as the unprivileged `node` user (uid 1000).
USER 1000:1000
EXPOSE 3000
CMD ["node", "dist/api/server.js"]
