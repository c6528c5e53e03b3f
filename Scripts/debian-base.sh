#!/usr/bin/env bash
# The tests' real Debian base: a bookworm minbase root filesystem made by mmdebstrap from this
# machine's apt sources, once per machine (cached), printed as the path of its tarball.
#   debian-base.sh          bookworm with this machine's suites (-updates and -security too)
#   debian-base.sh main     bookworm main alone, from the same mirror: what patching tests upgrade
#   SLIPWAY_TEST_CACHE  where to keep it (default /var/cache/slipway-tests)
# Several test processes may ask at once: the first makes it, the others wait on the lock.
set -euo pipefail
cache=${SLIPWAY_TEST_CACHE:-/var/cache/slipway-tests}
# The number changes whenever the way it is made changes, so stale caches are not used.
variant=${1:-full}
case "$variant" in
  full) out="$cache/debian-bookworm-minbase-1.tar" ;;
  main) out="$cache/debian-bookworm-main-1.tar" ;;
  *) echo "debian-base: unknown variant '$variant' (full or main)" >&2; exit 2 ;;
esac
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
if [ "$variant" = main ]; then
  # The first Debian archive URI of those sources (not -security), bookworm main only.
  uri=$(cat "${sources[@]}" 2>/dev/null | sed -n -e 's/^URIs: *//p' -e 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' | grep -v security | grep '/debian/\{0,1\}$' | head -n 1)
  sources=("deb ${uri:-http://deb.debian.org/debian} bookworm main")
fi
tmp="$cache/making-$$.tar"  # the .tar suffix tells mmdebstrap to write a tarball
trap 'rm -rf "$tmp"' EXIT
# No device nodes in /dev: images do not carry them (the runtime provides /dev).
mmdebstrap --quiet --variant=minbase --mode=root --skip=output/dev bookworm "$tmp" "${sources[@]}" >&2
mv "$tmp" "$out"
trap - EXIT
echo "$out"
