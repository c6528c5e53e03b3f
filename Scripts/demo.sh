#!/usr/bin/env bash
# `make demo`: Slipway's main job as far as it exists today: plan and run the shipped example
# pipeline (parallel branches, a retried step, a library helper, values from the command line).
set -euo pipefail
cd "$(dirname "$0")/.."
slipway=.build/debug/slipway

echo "== slipway plan Recipes/hello.lua"
"$slipway" plan Recipes/hello.lua --set who=newcomer
echo
echo "== slipway run Recipes/hello.lua --set who=newcomer"
"$slipway" run Recipes/hello.lua --set who=newcomer
