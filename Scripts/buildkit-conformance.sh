#!/usr/bin/env bash
# BuildKit's Dockerfile parser cases and shell-lexer tables, run against Slipway's front end.
#   Scripts/buildkit-conformance.sh BUILDKIT_GIT_DIR [REV]
# BUILDKIT_GIT_DIR is a clone of github.com/moby/buildkit (bare is fine). The cases are
# extracted to a temporary folder and never copied into this repository.
# VERBOSE=1 prints every case that differs.
set -euo pipefail
git_dir=${1:?usage: $0 BUILDKIT_GIT_DIR [REV]}
rev=${2:-HEAD}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git --git-dir="$git_dir" archive "$rev" frontend/dockerfile/parser/testfiles frontend/dockerfile/parser/testfiles-negative \
    frontend/dockerfile/shell/envVarTest frontend/dockerfile/shell/wordsTest | tar -x -C "$work"
echo "buildkit $(git --git-dir="$git_dir" rev-parse --short "$rev")"
cd "$(dirname "$0")/.."
swift build --product slipway-conformance >/dev/null
"$(swift build --show-bin-path)/slipway-conformance" "$work/frontend/dockerfile"
