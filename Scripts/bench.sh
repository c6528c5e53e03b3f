#!/usr/bin/env bash
# `make bench`: measures Slipway against its peers on the same inputs, in one invocation, and
# prints ratios. Never part of the tests. Release build.
#   BENCH_SIZE_MB  size of the large layer (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh
if ! command -v /usr/bin/time >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq time >/dev/null; else echo "bench: install GNU time (apt-get install time)" >&2; exit 1; fi
fi
swift build -c release --product slipway >&2
slipway="$PWD/.build/release/slipway"
size_mb=${BENCH_SIZE_MB:-1024}
work=$(mktemp -d /tmp/slipway-bench.XXXXXX)
registry_pid=""
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# time_of CMD...: prints "seconds peak_rss_kb" of one run.
time_of() { /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }; cat "$work/time"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); sha_ni: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no)"

# 1. Hashing throughput: slipway digest against sha256sum on the same file (warm cache).
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/blob"
cat "$work/blob" > /dev/null
for tool in slipway sha256sum; do
  for _ in 1 2 3; do
    if [ $tool = slipway ]; then time_of "$slipway" digest "$work/blob"; else time_of sha256sum "$work/blob"; fi
  done | awk '{print $1}' | median > "$work/hash-$tool"
done
s=$(cat "$work/hash-slipway"); c=$(cat "$work/hash-sha256sum")
echo "hash ${size_mb} MiB: slipway ${s}s ($(awk -v m=$size_mb -v t=$s 'BEGIN{printf "%.2f", m/1024/t}') GiB/s)  sha256sum ${c}s  ratio slipway/sha256sum $(ratio $s $c)"

# 2. A registry on loopback and an OCI layout holding one uncompressed layer of the big file.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 5099)
mkdir -p "$work/registry"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

layout="$work/layout"; mkdir -p "$layout/blobs/sha256" "$work/tree"
cp "$work/blob" "$work/tree/blob"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$work/layer.tar" -C "$work/tree" blob
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1); layer_size=$(stat -c %s "$work/layer.tar")
mv "$work/layer.tar" "$layout/blobs/sha256/$layer"
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > "$work/config"
config=$(sha256sum "$work/config" | cut -d' ' -f1); config_size=$(stat -c %s "$work/config"); mv "$work/config" "$layout/blobs/sha256/$config"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > "$work/manifest"
manifest=$(sha256sum "$work/manifest" | cut -d' ' -f1); manifest_size=$(stat -c %s "$work/manifest"); mv "$work/manifest" "$layout/blobs/sha256/$manifest"
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"big"}}]}' \
  "$manifest" "$manifest_size" > "$layout/index.json"

# 3. Push and pull the large layer: Slipway against skopeo, fresh repositories each run.
push() { # tool n
  if [ "$1" = slipway ]; then SLIPWAY_STATE_DIR="$work/state-push-$2" time_of "$slipway" image copy "oci:$layout:big" "127.0.0.1:$port/push-$1-$2:1"
  else time_of skopeo copy --dest-tls-verify=false "oci:$layout:big" "docker://127.0.0.1:$port/push-$1-$2:1"; fi
}
pull() { # tool n (pulls what skopeo pushed in run 1, into a fresh destination)
  if [ "$1" = slipway ]; then SLIPWAY_STATE_DIR="$work/state-pull-$2" time_of "$slipway" image pull "127.0.0.1:$port/push-skopeo-1:1"
  else time_of skopeo copy --src-tls-verify=false "docker://127.0.0.1:$port/push-skopeo-1:1" "oci:$work/pull-skopeo-$2:x"; fi
}
for op in push pull; do
  for tool in skopeo slipway; do
    for n in 1 2 3; do $op $tool $n; done > "$work/$op-$tool"
    rm -rf "$work"/state-* "$work"/pull-skopeo-*
  done
  st=$(awk '{print $1}' "$work/$op-slipway" | median); kt=$(awk '{print $1}' "$work/$op-skopeo" | median)
  sr=$(awk '{print $2}' "$work/$op-slipway" | sort -n | tail -1); kr=$(awk '{print $2}' "$work/$op-skopeo" | sort -n | tail -1)
  echo "$op ${size_mb} MiB layer: slipway ${st}s (peak RSS $((sr / 1024)) MiB)  skopeo ${kt}s (peak RSS $((kr / 1024)) MiB)  ratio slipway/skopeo $(ratio $st $kt)"
done
