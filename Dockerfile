# Ensemble: multi-stage image on the official Bun image.
# The same steps run natively in CI: `bun install --frozen-lockfile`, `bun run build`,
# `bun build/server.js` (which applies the migrations in ./drizzle at start and reads the demo
# clip from ./assets).

FROM oven/bun:1.4 AS build
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile
COPY . .
RUN bun run build

FROM oven/bun:1.4-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
	HOST=0.0.0.0 \
	PORT=3000 \
	DATA_DIR=/data
# ffprobe reads duration and dimensions of uploaded media (optional: without it they stay unknown).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
	&& rm -rf /var/lib/apt/lists/*
# Runtime dependencies only: the build bundles everything else into build/.
COPY package.json bun.lock bunfig.toml ./
RUN bun install --frozen-lockfile --production && rm -rf ~/.bun/install/cache
COPY --from=build /app/build ./build
COPY --from=build /app/drizzle ./drizzle
COPY --from=build /app/assets ./assets
RUN mkdir -p /data && chown bun:bun /data
USER bun
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
	CMD bun -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Bun as PID 1 receives SIGTERM directly; the entry drains requests and closes the database.
CMD ["bun", "build/server.js"]
