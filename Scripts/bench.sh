#!/usr/bin/env bash
# `make bench`: measures Slipway against its peers on the same inputs, in one invocation, and
# prints ratios. Never part of the tests. Release build.
#   BENCH_SIZE_MB   size of the large layer (default 1024)
#   BENCH_SECTIONS  which numbered sections to run (default all: "1 3 4 5 6")
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/setup.sh
if ! command -v /usr/bin/time >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq time >/dev/null; else echo "bench: install GNU time (apt-get install time)" >&2; exit 1; fi
fi
swift build -c release --product slipway >&2
slipway="$PWD/.build/release/slipway"
size_mb=${BENCH_SIZE_MB:-1024}
sections=" ${BENCH_SECTIONS:-1 3 4 5 6} "
want() { [[ "$sections" == *" $1 "* ]]; }
work=$(mktemp -d /tmp/slipway-bench.XXXXXX)
registry_pid=""
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# time_of CMD...: prints "seconds peak_rss_kb" of one run.
time_of() { /usr/bin/time -f "%e %M %U" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }; cat "$work/time"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# buildah_time STORAGE CONTEXT DESTINATION [bud flags...]: "seconds peak_rss_kb user" of a
# buildah build + push with its own vfs storage and chroot isolation.
buildah_time() {
  local b="buildah --storage-driver vfs --root $1/root --runroot $1/run" context=$2 destination=$3; shift 3
  /usr/bin/time -f "%e %M %U" -o "$work/time" bash -c "$b bud --isolation chroot -q $* -t localhost/bench:1 '$context' > /dev/null && $b push -q --tls-verify=false localhost/bench:1 docker://$destination > /dev/null" 2> "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  cat "$work/time"
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); sha_ni: $(grep -q sha_ni /proc/cpuinfo && echo yes || echo no)"

# 1. Hashing: slipway digest and sha256sum on the same file (warm cache), and OpenSSL's
#    SHA-256 speed (SHA-NI when the CPU has it) as this machine's ceiling.
if want 1 || want 3; then
head -c $((size_mb * 1024 * 1024)) /dev/urandom > "$work/blob"
cat "$work/blob" > /dev/null
fi
if want 1; then
for _ in 1 2 3; do time_of "$slipway" digest "$work/blob"; done > "$work/hash-slipway"
for _ in 1 2 3; do time_of sha256sum "$work/blob"; done > "$work/hash-sha256sum"
s=$(awk '{print $1}' "$work/hash-slipway" | median); u=$(awk '{print $3}' "$work/hash-slipway" | median)
c=$(awk '{print $1}' "$work/hash-sha256sum" | median)
gbps() { awk -v m=$size_mb -v t=$1 'BEGIN{ if (t > 0) printf "%.2f", m * 1048576 / 1e9 / t; else print "n/a" }'; }
o=$(openssl speed -evp sha256 -bytes 16384 -seconds 2 2>/dev/null | awk '/^sha256/ {sub("k","",$NF); print $NF * 1000}')
echo "hash ${size_mb} MiB: slipway ${s}s wall = $(gbps $s) GB/s, $(gbps $u) GB/s of user CPU;  sha256sum ${c}s = $(gbps $c) GB/s;  ratio slipway/sha256sum $(ratio $s $c)"
echo "hash ceiling: openssl speed -evp sha256 (16 KiB blocks) $(awk -v b=$o 'BEGIN{printf "%.2f", b/1e9}') GB/s per core"
fi

# 2. A fresh registry on loopback per measured run, so no tool benefits from blobs (or, for
#    skopeo, its blob-info cache) left by an earlier run.
registry_dir=""
start_registry() {
  [ -n "$registry_pid" ] && { kill "$registry_pid"; wait "$registry_pid" 2>/dev/null || true; }
  rm -rf "$work/registry"; mkdir -p "$work/registry"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 5099)
  cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YAML
  docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb "$HOME/.local/share/containers/cache/blob-info-cache-v1.boltdb"
}

if want 3; then
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

# 3. Push and pull the large layer: Slipway against skopeo, three runs each, fresh registry per push.
push() { # tool n
  start_registry
  if [ "$1" = slipway ]; then SLIPWAY_STATE_DIR="$work/state-$1-$2" time_of "$slipway" image copy "oci:$layout:big" "127.0.0.1:$port/push:1"
  else time_of skopeo copy --dest-tls-verify=false "oci:$layout:big" "docker://127.0.0.1:$port/push:1"; fi
  rm -rf "$work"/state-*
}
for tool in skopeo slipway; do for n in 1 2 3; do push $tool $n; done > "$work/push-$tool"; done
# Pulls read one image (pushed once by skopeo) into a fresh destination each run.
start_registry
skopeo copy --dest-tls-verify=false "oci:$layout:big" "docker://127.0.0.1:$port/pull:1" > /dev/null
pull() { # tool n
  if [ "$1" = slipway ]; then SLIPWAY_STATE_DIR="$work/state-$1-$2" time_of "$slipway" image pull "127.0.0.1:$port/pull:1"
  else time_of skopeo copy --src-tls-verify=false "docker://127.0.0.1:$port/pull:1" "oci:$work/dest-$2:x"; fi
  rm -rf "$work"/state-* "$work"/dest-*
}
for tool in skopeo slipway; do for n in 1 2 3; do pull $tool $n; done > "$work/pull-$tool"; done
for op in push pull; do
  st=$(awk '{print $1}' "$work/$op-slipway" | median); kt=$(awk '{print $1}' "$work/$op-skopeo" | median)
  sr=$(awk '{print $2}' "$work/$op-slipway" | sort -n | tail -1); kr=$(awk '{print $2}' "$work/$op-skopeo" | sort -n | tail -1)
  echo "$op ${size_mb} MiB layer (median of 3): slipway ${st}s (peak RSS $((sr / 1024)) MiB)  skopeo ${kt}s (peak RSS $((kr / 1024)) MiB)  ratio slipway/skopeo $(ratio $st $kt)"
done
fi

# 4. DESIGN T1-T3: build + push of a 50 MB COPY-only image (500 files), Slipway against
#    buildah (vfs storage, chroot isolation), median of 5, cold each time (fresh storage and a
#    fresh registry). Then, warm: a rebuild with nothing changed (T2) and after one file
#    changed (T3).
if want 4 && command -v buildah > /dev/null; then
  ctx="$work/t1-context"; mkdir -p "$ctx/files"
  for i in $(seq -w 1 500); do head -c 75000 /dev/urandom | base64 -w 0 | head -c 100000 > "$ctx/files/f$i.txt"; done
  printf 'FROM scratch\nCOPY files/ /app/\nCMD ["/app/f001.txt"]\n' > "$ctx/Dockerfile"
  t1() { # tool n
    start_registry
    if [ "$1" = slipway ]; then
      SLIPWAY_STATE_DIR="$work/t1-state-$2" time_of "$slipway" build -t "127.0.0.1:$port/t1:$2" "$ctx"
    else
      buildah_time "$work/t1-buildah-$2" "$ctx" "127.0.0.1:$port/t1:$2"
    fi
    rm -rf "$work"/t1-state-* "$work"/t1-buildah-*
  }
  for tool in buildah slipway; do for n in 1 2 3 4 5; do t1 $tool $n; done > "$work/t1-$tool"; done
  st=$(awk '{print $1}' "$work/t1-slipway" | median); bt=$(awk '{print $1}' "$work/t1-buildah" | median)
  echo "T1 build+push 50 MB COPY-only (median of 5): slipway ${st}s  buildah ${bt}s  ratio slipway/buildah $(ratio $st $bt)  (target <= 1.0 s and <= 0.5)"
  for n in 1 2 3 4 5; do start_registry; SLIPWAY_STATE_DIR="$work/t1z-$n" time_of "$slipway" build --compression zstd -t "127.0.0.1:$port/t1z:$n" "$ctx"; rm -rf "$work/t1z-$n"; done > "$work/t1-zstd"
  zt=$(awk '{print $1}' "$work/t1-zstd" | median)
  echo "T1 with --compression zstd (median of 5): slipway ${zt}s  ratio to buildah (gzip) $(ratio $zt $bt)"
  start_registry
  export SLIPWAY_STATE_DIR="$work/t2-state"
  "$slipway" build -t "127.0.0.1:$port/t2:1" "$ctx" > /dev/null 2>&1
  for _ in 1 2 3 4 5; do time_of "$slipway" build -t "127.0.0.1:$port/t2:1" "$ctx"; done > "$work/t2"
  echo "T2 rebuild, nothing changed (median of 5): $(awk '{print $1}' "$work/t2" | median)s  (target <= 0.05 s; pushes nothing)"
  for n in 1 2 3 4 5; do echo "change $n" >> "$ctx/files/f250.txt"; time_of "$slipway" build -t "127.0.0.1:$port/t2:1" "$ctx"; done > "$work/t3"
  echo "T3 rebuild + push after one file changed (median of 5): $(awk '{print $1}' "$work/t3" | median)s  (target <= 0.5 s)"
  unset SLIPWAY_STATE_DIR
fi

# 5. The demo app: FROM a busybox base in the registry, COPY and two RUN steps, build + push.
#    Cold each time (fresh state/storage, a fresh registry holding only the base), median of 5.
if want 5 && command -v buildah > /dev/null && command -v runc > /dev/null && [ "$(id -u)" -eq 0 ]; then
  base_ctx="$work/base-context"; cp -r Recipes/examples/busybox-base "$base_ctx"; cp /bin/busybox "$base_ctx/busybox"
  app() { # tool n
    start_registry
    SLIPWAY_STATE_DIR="$work/base-state" "$slipway" build -t "127.0.0.1:$port/busybox:1" "$base_ctx" > /dev/null 2>&1
    rm -rf "$work/base-state"
    if [ "$1" = slipway ]; then
      SLIPWAY_STATE_DIR="$work/app-state-$2" time_of "$slipway" build -t "127.0.0.1:$port/greet:$2" --build-arg "BASE=127.0.0.1:$port/busybox:1" Recipes/examples/busybox-app
    else
      buildah_time "$work/app-buildah-$2" Recipes/examples/busybox-app "127.0.0.1:$port/greet:$2" --tls-verify=false --build-arg "BASE=127.0.0.1:$port/busybox:1"
    fi
    rm -rf "$work"/app-state-* "$work"/app-buildah-*
  }
  for tool in buildah slipway; do for n in 1 2 3 4 5; do app $tool $n; done > "$work/app-$tool"; done
  sa=$(awk '{print $1}' "$work/app-slipway" | median); ba=$(awk '{print $1}' "$work/app-buildah" | median)
  echo "demo app build+push (busybox base, COPY + 2 RUN; median of 5): slipway ${sa}s  buildah ${ba}s  ratio slipway/buildah $(ratio $sa $ba)"
elif want 5; then
  echo "demo app: skipped (needs root, runc and buildah)"
fi


# 6. Real Debian (the bookworm base the tests make with mmdebstrap, pushed once to one registry
#    both tools pull from): `apt-get install ca-certificates curl`, cold (fresh state/storage;
#    each tool pulls the base) and cached (the same again in the same state/storage; buildah
#    with --layers so it may reuse its own steps), median of 3 cold and 3 cached; then a fully
#    cached rebuild of a two-stage gcc build (issue #9 item 5).
if want 6 && command -v buildah > /dev/null && command -v runc > /dev/null && [ "$(id -u)" -eq 0 ]; then
  rootfs=$(bash Scripts/debian-base.sh)
  deb_ctx="$work/debian-base"; mkdir -p "$deb_ctx"; ln "$rootfs" "$deb_ctx/rootfs.tar" 2>/dev/null || cp "$rootfs" "$deb_ctx/rootfs.tar"
  printf 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' > "$deb_ctx/Dockerfile"
  start_registry
  SLIPWAY_STATE_DIR="$work/deb-base-state" "$slipway" build -t "127.0.0.1:$port/debian:bookworm" "$deb_ctx" > /dev/null 2>&1
  rm -rf "$work/deb-base-state"
  base="127.0.0.1:$port/debian:bookworm"
  apt_ctx="$work/apt-context"; mkdir -p "$apt_ctx"
  printf 'ARG BASE\nFROM ${BASE}\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*\n' > "$apt_ctx/Dockerfile"
  gcc_ctx="$work/gcc-context"; mkdir -p "$gcc_ctx"
  printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' > "$gcc_ctx/hello.c"
  printf 'ARG BASE\nFROM ${BASE} AS build\nRUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev\nWORKDIR /src\nCOPY hello.c .\nRUN gcc -O2 -o /hello hello.c\nFROM ${BASE}\nCOPY --from=build /hello /usr/local/bin/hello\nCMD ["hello"]\n' > "$gcc_ctx/Dockerfile"
  deb() { # tool n context tag: one cold and one cached build + push
    if [ "$1" = slipway ]; then
      SLIPWAY_STATE_DIR="$work/deb-state-$2" time_of "$slipway" build -t "127.0.0.1:$port/$4:$2" --build-arg "BASE=$base" "$3"
      SLIPWAY_STATE_DIR="$work/deb-state-$2" time_of "$slipway" build -t "127.0.0.1:$port/$4:$2" --build-arg "BASE=$base" "$3"
    else
      buildah_time "$work/deb-buildah-$2" "$3" "127.0.0.1:$port/$4-b:$2" --layers --tls-verify=false --build-arg "BASE=$base"
      buildah_time "$work/deb-buildah-$2" "$3" "127.0.0.1:$port/$4-b:$2" --layers --tls-verify=false --build-arg "BASE=$base"
    fi
    rm -rf "$work"/deb-state-* "$work"/deb-buildah-*
  }
  for tool in buildah slipway; do for n in 1 2 3; do deb $tool $n "$apt_ctx" apt; done > "$work/apt-$tool"; done
  sc=$(awk 'NR % 2 == 1 {print $1}' "$work/apt-slipway" | median); bc=$(awk 'NR % 2 == 1 {print $1}' "$work/apt-buildah" | median)
  sw=$(awk 'NR % 2 == 0 {print $1}' "$work/apt-slipway" | median); bw=$(awk 'NR % 2 == 0 {print $1}' "$work/apt-buildah" | median)
  echo "Debian apt-get install ca-certificates curl, build+push (median of 3): cold slipway ${sc}s  buildah ${bc}s  ratio $(ratio $sc $bc);  cached slipway ${sw}s  buildah ${bw}s  ratio $(ratio $sw $bw)"
  for tool in buildah slipway; do for n in 1 2 3; do deb $tool $n "$gcc_ctx" gcc; done > "$work/gcc-$tool"; done
  sc=$(awk 'NR % 2 == 1 {print $1}' "$work/gcc-slipway" | median); bc=$(awk 'NR % 2 == 1 {print $1}' "$work/gcc-buildah" | median)
  sw=$(awk 'NR % 2 == 0 {print $1}' "$work/gcc-slipway" | median); bw=$(awk 'NR % 2 == 0 {print $1}' "$work/gcc-buildah" | median)
  echo "Debian two-stage gcc build+push (median of 3): cold slipway ${sc}s  buildah ${bc}s  ratio $(ratio $sc $bc);  fully cached rebuild slipway ${sw}s  buildah ${bw}s  ratio $(ratio $sw $bw)"
elif want 6; then
  echo "Debian: skipped (needs root, runc and buildah)"
fi
