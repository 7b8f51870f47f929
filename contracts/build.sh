#!/usr/bin/env bash
# Compile our contracts with the pinned solc and export their artifacts into the Python package.
#   bash contracts/build.sh          rewrite vaultexec/vault/artifacts/<Name>.json
#   bash contracts/build.sh --check  recompile into a temp dir; exit 1 if the shipped artifacts differ
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
shipped="$root/vaultexec/vault/artifacts"

case "${1:-}" in
  "")
    node "$root/contracts/tools/export.js" "$shipped"
    echo "artifacts written to $shipped"
    ;;
  --check)
    fresh="$(mktemp -d)"
    trap 'rm -rf "$fresh"' EXIT
    node "$root/contracts/tools/export.js" "$fresh"
    if ! diff -r -x '__pycache__' -x '*.py' "$fresh" "$shipped" >/dev/null; then
      echo "shipped artifacts in $shipped differ from a fresh compile of contracts/;" \
           "run 'bash contracts/build.sh' and commit the result" >&2
      diff -rq -x '__pycache__' -x '*.py' "$fresh" "$shipped" >&2 || true
      exit 1
    fi
    echo "shipped artifacts match a fresh compile"
    ;;
  *)
    echo "usage: bash contracts/build.sh [--check]" >&2
    exit 2
    ;;
esac
