#!/usr/bin/env bash
# The tests' real Debian base: a bookworm minbase root filesystem made by mmdebstrap from this
# machine's apt sources, once per machine (cached), printed as the path of its tarball.
#   SLIPWAY_TEST_CACHE  where to keep it (default /var/cache/slipway-tests)
# Several test processes may ask at once: the first makes it, the others wait on the lock.
set -euo pipefail
cache=${SLIPWAY_TEST_CACHE:-/var/cache/slipway-tests}
# The number changes whenever the way it is made changes, so stale caches are not used.
out="$cache/debian-bookworm-minbase-1.tar"
mkdir -p "$cache"
exec 9>"$cache/.debian-base.lock"
flock 9
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "debian-base: mmdebstrap is missing; run Scripts/setup.sh (apt-get install -y mmdebstrap)" >&2
  exit 1
fi
# The machine's own sources (its mirror, bookworm, -updates and -security) when it has them.
sources=()
for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
  [ -s "$file" ] && sources+=("$file")
done
tmp="$cache/making-$$.tar"  # the .tar suffix tells mmdebstrap to write a tarball
trap 'rm -rf "$tmp"' EXIT
# No device nodes in /dev: images do not carry them (the runtime provides /dev).
mmdebstrap --quiet --variant=minbase --mode=root --skip=output/dev bookworm "$tmp" "${sources[@]}" >&2
mv "$tmp" "$out"
trap - EXIT
echo "$out"
