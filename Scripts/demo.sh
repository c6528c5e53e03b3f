#!/usr/bin/env bash
# `make demo`: Slipway's main job as far as it exists today.
#  1. plan and run the example pipeline (parallel branches, retries, a library helper, values);
#  2. start a registry on loopback, build the example site with `slipway build` (no Docker
#     engine) and push it, rebuild it (same digest, nothing uploaded), then pull and inspect it.
set -euo pipefail
cd "$(dirname "$0")/.."
slipway="$PWD/.build/debug/slipway"
work=$(mktemp -d /tmp/slipway-demo.XXXXXX)
registry_pid=""
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export SLIPWAY_STATE_DIR="$work/state"

echo "== slipway plan Recipes/hello.lua"
"$slipway" plan Recipes/hello.lua --set who=newcomer
echo
echo "== slipway run Recipes/hello.lua --set who=newcomer"
"$slipway" run Recipes/hello.lua --set who=newcomer
echo

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 5000)
mkdir -p "$work/registry"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
image="127.0.0.1:$port/demo/site:1"

echo "== a registry on 127.0.0.1:$port; slipway build -t $image Recipes/examples/static-site"
"$slipway" build -t "$image" Recipes/examples/static-site
echo
echo "== the same build again: same digest, nothing uploaded"
"$slipway" build -t "$image" Recipes/examples/static-site
echo
echo "== slipway image pull $image (into a fresh store), then inspect"
SLIPWAY_STATE_DIR="$work/other" "$slipway" image pull "$image"
SLIPWAY_STATE_DIR="$work/other" "$slipway" image inspect "$image"
