# The two commands a newcomer needs: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: setup build test demo bench measure-serve measure-patch conformance check-bridge clean

setup:
	@bash Scripts/setup.sh

build: setup
	$(SWIFT) build --build-tests

check-bridge:
	@bash Scripts/check-bridge.sh

test: build check-bridge
	$(SWIFT) test --skip-build

demo: setup
	$(SWIFT) build --product slipway
	@bash Scripts/demo.sh

# Not part of the tests: compares Slipway with its peers on the same inputs (release build).
bench: setup
	@python3 Scripts/bench.py

# Not part of the tests: slipway serve's trigger latency, fan-out and polling cost.
measure-serve: setup
	$(SWIFT) build --product slipway
	@python3 Scripts/measure-serve.py

# Not part of the tests: 1000 COPY-only images rebased and pushed after one base push.
measure-patch: setup
	$(SWIFT) build --product slipway
	@python3 Scripts/measure-patch.py

# Not part of the tests: BuildKit's parser and lexer tables against ours, from a BuildKit
# clone you name (BUILDKIT=path/to/buildkit.git); nothing of theirs is kept here.
conformance: setup
	@bash Scripts/buildkit-conformance.sh $(BUILDKIT)

clean:
	rm -rf .build
