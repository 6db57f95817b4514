// @actions/workflow-parser imports its JSON schemas without import attributes,
// which Node refuses; bundle the checker with esbuild first, then run it.
import { build } from 'esbuild'
import { mkdirSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

mkdirSync('.tools', { recursive: true })
const outfile = '.tools/validate-workflows.bundle.mjs'
await build({
  entryPoints: ['scripts/validate-workflows.impl.mjs'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  }
})
await import(pathToFileURL(outfile).href)
