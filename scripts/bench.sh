#!/usr/bin/env bash
# The benchmark (npm run bench; not part of the tests): sets itself up like
# the demo, rebuilds dist/ so the action measured is the source's, then runs
# scripts/bench.ts on loopback. Options go through, e.g.
#   npm run bench -- --n=20,100 --delay-ms=20 --repetitions=3
# Results: a table on stdout and bench-results.json at the project root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/fetch-tools.sh
npm run --silent build
npx esbuild scripts/bench.ts --bundle --platform=node --format=esm --log-level=warning \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" \
  --outfile=.tools/bench.mjs
node .tools/bench.mjs "$@"
