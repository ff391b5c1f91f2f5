# syntax=docker/dockerfile:1
# Build stage: install everything, then `npm run build`: TypeScript to dist/ and the dashboard to dist/web.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm ci --ignore-scripts && npm run build

# Runtime stage: production dependencies and the compiled bot only, as a non-root user. No pipeline
# definitions are baked in: mount yours at /etc/canarybot/pipelines (the chart's ConfigMap, compose's
# ./pipelines), so an image never releases with the examples by mistake.
FROM node:22-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="canarybot" \
      org.opencontainers.image.description="GitOps release bot for GitLab CI, Kubernetes and Istio" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

ENV NODE_ENV=production PIPELINES_DIR=/etc/canarybot/pipelines PORT=8080 CANARYBOT_REVISION=${REVISION}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /etc/canarybot/pipelines
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/canarybot.js"]
CMD ["serve"]
