# studyhook: one image for every role (`studyhook api`, `studyhook worker`, `studyhook start`).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production STUDYHOOK_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/schemas ./schemas
RUN ln -s /app/dist/src/cli.js /usr/local/bin/studyhook && chmod +x /app/dist/src/cli.js && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# why HEALTHCHECK_PORT: a worker-only process serves /healthz on workers.metricsPort, not on PORT;
# docker-compose.yml gives each service its own healthcheck, this default is for `docker run`.
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTHCHECK_PORT||process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" || exit 1
ENTRYPOINT ["studyhook"]
CMD ["start"]
