# trailql: GraphQL API over the CloudTrail trail.
#
#   docker build -t trailql .
#   docker run --rm -p 4000:4000 trailql                      # embedded DuckDB over a generated sample trail
#   docker run --rm -p 4000:4000 -v /srv/trail:/trail:ro -v /srv/trailql-keys.json:/keys.json:ro \
#     -e TRAIL_DIR=/trail -e API_KEYS_FILE=/keys.json trailql            # DuckDB over your own trail folder
#
# Configuration comes only from environment variables: see docs/operations.md.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript to dist/, bundle the browser code to dist/public/ ------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The browser bundles (components, console, explorer) are built here into dist/public: the
# runtime image has neither web/ nor the build-time libraries (GraphiQL, React).
COPY web ./web
COPY schema ./schema
RUN npm run build

# ---- runtime: production dependencies and the compiled service only ------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY schema ./schema
COPY athena ./athena
# The sample trail is generated under /app/.trail when TRAIL_DIR is unset.
RUN mkdir -p /app/.trail && chown node:node /app/.trail
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 and handles SIGTERM (graceful shutdown, see docs/operations.md).
CMD ["node", "dist/main.js"]
