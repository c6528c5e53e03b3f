#!/usr/bin/env bash
# `make demo`: Slipway's main job, end to end, on a loopback registry and no Docker engine.
#  1. plan and run the example pipeline (parallel branches, retries, a library helper, values);
#  2. start a registry on loopback;
#  3. build a small base image FROM scratch (Debian's busybox-static, applets installed by a RUN
#     in a runc container) and push it;
#  4. build an app FROM that base with COPY and RUN, push it, and show the base it recorded;
#  5. build the app again: same digest, nothing uploaded;
#  6. a multi-step run: build, start the app as a service, test it from another container over
#     the run network, push only when the test passes (and not when it fails);
#  7. automatic builds and patching: `slipway serve` watches two tasks built on the base
#     (strategy auto); a new base pushed by hand reaches it as the registry's notification: the
#     app with a RUN layer is rebuilt, the COPY-only site is rebased in the registry, unasked.
set -euo pipefail
cd "$(dirname "$0")/.."
slipway="$PWD/.build/debug/slipway"
work=$(mktemp -d /tmp/slipway-demo.XXXXXX)
registry_pid=""
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export SLIPWAY_STATE_DIR="$work/state"

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: RUN steps run in runc containers, which need root; run: sudo make demo" >&2
  exit 1
fi

echo "== slipway plan Recipes/hello.lua"
"$slipway" plan Recipes/hello.lua --set who=newcomer
echo
echo "== slipway run Recipes/hello.lua --set who=newcomer"
"$slipway" run Recipes/hello.lua --set who=newcomer
echo

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
serve_port=$(free_port)
export SLIPWAY_SERVER="http://127.0.0.1:$serve_port"
mkdir -p "$work/registry"
# The registry tells `slipway serve` of every push (blob events and pulls left out).
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$port}
notifications:
  endpoints:
    - name: slipway
      url: $SLIPWAY_SERVER/hooks/registry
      timeout: 2s
      threshold: 5
      backoff: 1s
      ignore: {mediatypes: [application/octet-stream], actions: [pull]}
YAML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
base="127.0.0.1:$port/demo/busybox:1"
app="127.0.0.1:$port/demo/greet:1"

# The base's context holds the busybox binary, which is not in the repository.
cp -r Recipes/examples/busybox-base "$work/base"
cp /bin/busybox "$work/base/busybox"

echo "== a registry on 127.0.0.1:$port"
echo "== slipway build -t $base Recipes/examples/busybox-base   (FROM scratch, busybox, RUN --install)"
"$slipway" build -t "$base" "$work/base"
echo
echo "== slipway build -t $app --build-arg BASE=$base --json Recipes/examples/busybox-app   (COPY, RUN)"
"$slipway" build -t "$app" --build-arg "BASE=$base" --json Recipes/examples/busybox-app > "$work/app.json"
sed -n '/"runtimeBase"/,/}/p' "$work/app.json"
grep -E '"kind"' "$work/app.json" | tr -d ' ,' | sort | uniq -c | sed 's/^/   layers: /'
grep -m1 '"digest"' "$work/app.json" | tr -d ' ,'
echo
echo "== the same app build again: same digest, nothing uploaded"
"$slipway" build -t "$app" --build-arg "BASE=$base" Recipes/examples/busybox-app
echo
echo "== slipway image pull $app (into a fresh store), then inspect: the base is recorded in the manifest"
SLIPWAY_STATE_DIR="$work/other" "$slipway" image pull "$app"
SLIPWAY_STATE_DIR="$work/other" "$slipway" image inspect "$app"
echo
echo "== slipway run Recipes/test-then-push.lua --registry 127.0.0.1:$port --set base=$base"
echo "   (build the web app and its test image, start the app as a service on the run network,"
echo "    test it by step id from another container, push only when the test passes)"
"$slipway" run Recipes/test-then-push.lua --registry "127.0.0.1:$port" --set "base=$base" --set version=1
echo
echo "== the same with a failing test (--set expect=goodbye): the run fails at step 'test', nothing is pushed"
if "$slipway" run Recipes/test-then-push.lua --registry "127.0.0.1:$port" --set "base=$base" --set version=2 --set expect=goodbye; then
  echo "demo: the failing test did not fail the run" >&2
  exit 1
fi

echo
echo "== automatic builds: slipway serve --listen 127.0.0.1:$serve_port (the registry notifies it of every push)"
"$slipway" serve --listen "127.0.0.1:$serve_port" > "$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
echo "== slipway task create --file Recipes/patch-on-base-update.lua … for greet and site   (patch both whenever their base moves)"
site="127.0.0.1:$port/demo/site:1"
"$slipway" task create --file Recipes/patch-on-base-update.lua --set name=greet --set "context=$PWD/Recipes/examples/busybox-app" \
  --set "base=$base" --set "image=$app"
"$slipway" task create --file Recipes/patch-on-base-update.lua --set name=site --set "context=$PWD/Recipes/examples/busybox-site" \
  --set "base=$base" --set "image=$site"
echo "== slipway task run greet|site --wait   (built once by hand, so Slipway knows what each is built on, layer by layer)"
"$slipway" task run greet --wait > "$work/first-run.log"
tail -n 2 "$work/first-run.log"
"$slipway" task run site --wait > "$work/first-site.log"
tail -n 2 "$work/first-site.log"
echo "== slipway deps"
"$slipway" deps
echo
echo "== a new base: one more file in it, built and pushed by hand; nobody tells greet or site"
echo "Built by the Slipway demo." > "$work/base/etc/motd"
"$slipway" build -t "$base" "$work/base" 2>&1 | tail -n 1
echo "== waiting for serve: notification → HEAD confirms the new digest → greet rebuilt (it has RUN layers), site rebased"
patched_run() {
  "$slipway" runs --task "$1" --status succeeded --json | python3 -c 'import json,sys; print(next((r["id"] for r in json.load(sys.stdin) if r.get("trigger") == "base_image"), ""))'
}
rebuilt="" rebased=""
for _ in $(seq 300); do
  rebuilt=$(patched_run greet)
  rebased=$(patched_run site)
  [ -n "$rebuilt" ] && [ -n "$rebased" ] && break
  sleep 0.2
done
if [ -z "$rebuilt" ] || [ -z "$rebased" ]; then
  echo "demo: greet or site was not patched after their base moved; serve's log:" >&2
  cat "$work/serve.log" >&2
  exit 1
fi
"$slipway" runs
echo "== slipway logs $rebuilt   (greet)"
"$slipway" logs "$rebuilt" | grep -E "patch decision|\[run\]|built |pushed" || true
echo "== slipway logs $rebased   (site)"
"$slipway" logs "$rebased" | grep -E "patch decision|\[run\]|rebased" || true
echo "== the dashboard on the same listener: $SLIPWAY_SERVER/runs ($(curl -s "$SLIPWAY_SERVER/runs" | grep -o '<tr id="run-' | wc -l) runs), $SLIPWAY_SERVER/runs/$rebased, $SLIPWAY_SERVER/deps"
echo "== slipway deps   (greet and site now record the new base digest)"
"$slipway" deps
kill -TERM "$serve_pid" && wait "$serve_pid" 2>/dev/null
serve_pid=""
echo
echo "demo: done"
