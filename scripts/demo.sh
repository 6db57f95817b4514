#!/usr/bin/env bash
# The demo (npm run demo): sets itself up on a fresh machine, then runs the
# bundled action offline against a loopback registry with sample images.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/fetch-tools.sh
npx esbuild scripts/demo.ts --bundle --platform=node --format=esm --log-level=warning \
  --outfile=.tools/demo.mjs
node .tools/demo.mjs
