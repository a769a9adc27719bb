# onnxprune: see README.md.
GO ?= go
FUZZTIME ?= 20s

.PHONY: all build test test-short fuzz vet demo setup bench generate

all: build

setup:
	scripts/setup.sh

build:
	$(GO) build ./...
	$(GO) build -o bin/ ./cmd/...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

# The test command of the README: every unit, conformance and fixture test,
# the pure-Go build, and short fuzz runs of the loader, shape inference,
# the engine's compile-and-run, every data set decoder and training checkpoints.
test: vet
	$(GO) test -count=1 -timeout 40m ./...
	$(GO) build -tags purego ./...
	CGO_ENABLED=0 $(GO) build ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./runtime/ort
	$(GO) test -count=1 -tags purego ./kernels/...
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) -fuzzminimizetime 50x ./onnx
	$(GO) test -run '^$$' -fuzz FuzzInferShapes -fuzztime $(FUZZTIME) -fuzzminimizetime 50x ./memory
	$(GO) test -run '^$$' -fuzz FuzzCompile -fuzztime $(FUZZTIME) -fuzzminimizetime 50x ./runtime
	for f in FuzzReadIDX FuzzCIFAR FuzzNpy FuzzDecodeImage FuzzParseTransform; do \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 50x ./data || exit 1; done
	$(GO) test -run '^$$' -fuzz FuzzCheckpointState -fuzztime $(FUZZTIME) -fuzzminimizetime 50x ./train
	scripts/test-slurm.sh

test-short:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./kernels/

generate:
	$(GO) generate ./onnx/onnxpb

# The README's main command: every tool, end to end, on real models and MNIST.
demo:
	scripts/demo.sh
