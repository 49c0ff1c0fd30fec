# One image for the API, the worker and the simulator (docker-compose.yml picks the command).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# Temporal binaries are not needed in the image: compose runs Temporal as its own service.
ENV SIMGATE_SKIP_TEMPORAL_SETUP=1
RUN npm ci
COPY . .
RUN npm run build:ui && npx tsx scripts/build-workflow-bundle.ts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
EXPOSE 3000
CMD ["npx", "tsx", "src/bin/api.ts"]
