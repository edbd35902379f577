# syntax=docker/dockerfile:1
# The waypoint image: compiled in a Node 20 build stage, run from distroless Node 20 as a non-root user.
#   docker build -t waypoint:0.1.0 .
# Three stages so the runtime holds only dist/src and production dependencies (no compiler, tests, npm).

# 1. Compile the TypeScript sources (dev dependencies: typescript, type definitions).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script would compile before the sources are copied.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# 2. Production dependencies only.
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# 3. Runtime: no shell, no package manager; uid/gid 65532 ("nonroot").
FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
USER 65532:65532
# 15008 HBONE, 15020 Prometheus, 15021 readiness, 15000 admin (loopback only).
EXPOSE 15008 15020 15021
ENTRYPOINT ["/nodejs/bin/node", "dist/src/main.js"]
CMD ["run", "--kubernetes", "--health-address=:15021"]
