// Bundles the action (src/index.ts → dist/index.js) and the CLI
// (src/cli.ts → dist/cli.js) as ES modules for Node 20 and 24.
import { build } from 'esbuild'

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  }
}

await build({ ...shared, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' })
await build({
  ...shared,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + shared.banner.js }
})
