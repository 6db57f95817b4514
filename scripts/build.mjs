// Bundles the action (src/action/index.ts → dist/index.js) and the CLI
// (src/cli/index.ts → dist/cli.js) as ES modules for Node 20 and 24.
import { build } from 'esbuild'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeValidators } from './schema-validators.mjs'

/**
 * @actions/http-client imports undici's `ProxyAgent` at its top but uses it
 * only to build a fetch dispatcher behind a proxy (getAgentDispatcher), which
 * this project never asks for; evaluating undici (~770 KB) is a good part of
 * the start-up before the first registry request. So the client gets a
 * module that requires undici on first use.
 */
const lazyUndici = {
  name: 'lazy-undici',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^undici$/ }, args =>
      /node_modules\/@actions\/http-client\/lib\/index\.js$/.test(args.importer)
        ? { path: 'undici', namespace: 'lazy-undici' }
        : undefined
    )
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-undici' }, () => ({
      contents: [
        'let undici',
        'module.exports = {',
        "  get ProxyAgent() { return (undici ??= require('undici')).ProxyAgent }",
        '}'
      ].join('\n'),
      resolveDir: process.cwd(),
      loader: 'js'
    }))
  }
}

/**
 * `node:http` and `node:https` imported as ES modules: Node builds their
 * namespace from every export, and reading node:http's `WebSocket` and kin
 * loads Node's own undici, http2 and tls (~60 ms before the first registry
 * request). Through `require` (the banner's) they are loaded as they are.
 */
const requiredHttp = {
  name: 'required-http',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^(node:)?https?$/ }, args =>
      args.kind === 'import-statement'
        ? { path: args.path.replace(/^(node:)?/, 'node:'), namespace: 'required-http' }
        : undefined
    )
    pluginBuild.onLoad({ filter: /.*/, namespace: 'required-http' }, args => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: 'js'
    }))
  }
}

const shared = {
  plugins: [lazyUndici, requiredHttp],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
  }
}

// The action is split so that modules it imports lazily (the artifact client)
// land in their own chunk and cost nothing at start-up unless used.
writeValidators()
rmSync('dist', { recursive: true, force: true })
const action = await build({
  ...shared,
  entryPoints: ['src/action/index.ts'],
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]'
})
const cli = await build({
  ...shared,
  entryPoints: ['src/cli/index.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + shared.banner.js }
})

// The licences of every third-party package bundled into dist/, beside it
// (the bundle drops the packages' own files; their licences ask to be kept).
// Sorted by package name so a rebuild gives the same bytes.
function bundledPackages(...metafiles) {
  const roots = new Set()
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
      if (match) roots.add(match[1])
    }
  }
  return [...roots]
}

function licenceText(root) {
  const file = readdirSync(root).find(name => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(name))
  return file ? readFileSync(join(root, file), 'utf8').trim() : undefined
}

const entries = new Map()
for (const root of bundledPackages(action.metafile, cli.metafile)) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const key = `${pkg.name}@${pkg.version}`
  if (entries.has(key)) continue
  const text = licenceText(root)
  entries.set(
    key,
    `${key}\nlicense: ${pkg.license ?? 'not stated'}\n\n${text ?? '(no licence file in the package)'}\n`
  )
}
const sorted = [...entries.keys()].sort().map(key => entries.get(key))
writeFileSync(
  'dist/licenses.txt',
  `Third-party packages bundled into dist/ and their licences.\n\n${sorted.join('\n' + '-'.repeat(72) + '\n\n')}`
)
