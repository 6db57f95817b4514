#!/usr/bin/env bash
# The test command (npm test): does its own set-up on a fresh machine —
# installs the locked dependencies, fetches the real cosign, crane and
# docker-registry from Debian's archive and Node 24 — then runs every suite.
# Extra arguments go to jest (e.g. `npm test -- __tests__/unit/decide-table.test.ts`,
# or `--selectProjects unit`, which `npm run test:unit` passes).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/fetch-tools.sh
# The end-to-end tests run the bundle as the runner does (Node 24, the
# version GitHub runs `using: node24` actions with; the `node` package from the
# npm registry carries it) — fetch it once here rather than inside a test.
npx -y node@24 --version >/dev/null
# Build the bundle from src so the end-to-end tests run the code under test.
npm run --silent build

# Everything the suites write to the temporary folder (registries, keys, homes,
# workspaces) goes into one folder of this run, removed when it ends.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rocm-provenance-tests.XXXXXX")
trap 'rm -rf "$run_tmp"' EXIT
export TMPDIR="$run_tmp"

export NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning"
npx jest "$@"
