# The two commands a newcomer needs: `make demo` and `make test`.
SWIFT ?= swift

.PHONY: setup build test demo bench check-bridge clean

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
	@bash Scripts/bench.sh

clean:
	rm -rf .build
