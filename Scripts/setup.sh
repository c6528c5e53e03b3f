#!/usr/bin/env bash
# Installs what Slipway needs to build and test on Debian, beside Swift itself.
# As root it installs the missing apt packages; otherwise it prints the exact command and stops.
set -euo pipefail

packages=(
  pkg-config      # finds the C libraries below
  liblua5.4-dev   # the Lua 5.4 interpreter recipes run in (CLua)
  libarchive-dev  # reads every tar dialect, extracts layers safely (CArchive)
  libdeflate-dev  # gzip layers, compressed chunk by chunk (CDeflate)
  libsqlite3-dev  # the state store (SQLite through GRDB)
  libzstd-dev     # zstd layers (CZstd)
  docker-registry # the CNCF Distribution registry the tests push to and pull from
  apache2-utils   # htpasswd, for the registry's basic-auth tests
  skopeo          # independent checker: reads what we push and our OCI layout
  umoci           # independent checker: unpacks our OCI layout
  buildah         # the peer the native builder is compared with (differential tests, bench)
  openssl         # makes the token server's signing certificate in tests
  runc            # runs RUN steps in containers (crun does not work with these cgroups)
  busybox-static  # the demo's base image and the tests' container base
  containernetworking-plugins # run networks for cmd steps: bridge, host-local, loopback, portmap
  iptables        # which the bridge (outbound NAT) and portmap plugins program
  iproute2        # ip: removes a run's bridge when the run ends or after a crash
  zstd            # the tests compress tarball contexts with it
  xz-utils        # and with xz
  git             # Git build contexts (and the tests' git daemon)
  ca-certificates # https Git and tarball contexts
  mmdebstrap      # makes the tests' real Debian bookworm base from the apt mirror (Scripts/debian-base.sh)
  graphviz        # dot: the dashboard's step and dependency graphs, drawn as SVG by serve
  chromium        # headless, the browser the dashboard tests drive (DevTools protocol over a pipe)
  fonts-dejavu-core # the fonts the dashboard's pictures and screenshots are drawn with
)

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH; install Swift 6.1 or later first (https://swift.org/install)" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run this, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
