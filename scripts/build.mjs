// Bundles the action (src/action/index.ts → dist/index.js) and the CLI
// (src/cli/index.ts → dist/cli.js) as ES modules for Node 20 and 24.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'

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

// The action is split so that modules it imports lazily (the artifact client)
// land in their own chunk and cost nothing at start-up unless used.
rmSync('dist', { recursive: true, force: true })
await build({
  ...shared,
  entryPoints: ['src/action/index.ts'],
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]'
})
await build({
  ...shared,
  entryPoints: ['src/cli/index.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + shared.banner.js }
})
