/**
 * The published command line: the package packs to a tarball holding only
 * what runs, installs from that tarball into a fresh prefix with no network
 * and no dependencies to fetch, and its `rocm-provenance` command works
 * through npm's `.bin` shim — `--version`, `validate` on the examples, and
 * `verify` then `inspect` against a real registry on loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pushImage } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { PROJECT_ROOT, hermeticEnv, mustRun, runTool } from '../helpers/tools.js'
import { workspaceWith } from '../helpers/workspace.js'

interface PackageJson {
  name: string
  version: string
  private?: boolean
  bin: Record<string, string>
  files: string[]
  dependencies?: Record<string, string>
}

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson

/**
 * npm with no way to the network: offline, an empty cache of its own, and a
 * registry address on a closed loopback port, so a dependency it had to fetch
 * would fail the install instead of being downloaded.
 */
function npmEnv(home: string): NodeJS.ProcessEnv {
  return hermeticEnv({
    HOME: home,
    npm_config_cache: join(home, 'npm-cache'),
    npm_config_offline: 'true',
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false'
  })
}

describe('the package as published', () => {
  it('is publishable, with a scoped name, a bin, and no runtime dependencies', () => {
    expect(pkg.name).toMatch(/^@[a-z0-9-]+\/rocm-provenance$/)
    expect(pkg.private).toBeUndefined()
    expect(pkg.bin).toEqual({ 'rocm-provenance': 'dist/cli.js' })
    // The bundle carries everything it imports: nothing to install beside it.
    expect(pkg.dependencies ?? {}).toEqual({})
    expect(readFileSync(join(PROJECT_ROOT, 'dist', 'cli.js'), 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n/
    )
  })
})

describe('npm pack, then npm install from the tarball with no network', () => {
  let scratch: string
  let tarball: string
  let bin: string
  let registry: TestRegistry

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'rp-package-'))
    const env = npmEnv(join(scratch, 'home'))
    const packed = JSON.parse(
      await mustRun('npm', ['pack', '--json', '--pack-destination', scratch], {
        cwd: PROJECT_ROOT,
        env,
        timeoutMs: 120_000
      })
    ) as { filename: string; files: { path: string }[] }[]
    tarball = join(scratch, packed[0].filename)
    const prefix = join(scratch, 'prefix')
    await mustRun('npm', ['install', '--no-save', '--prefix', prefix, tarball], {
      cwd: scratch,
      env,
      timeoutMs: 120_000
    })
    bin = join(prefix, 'node_modules', '.bin', 'rocm-provenance')
    registry = await startRegistry()
  }, 240_000)

  afterAll(async () => {
    await registry?.stop()
    rmSync(scratch, { recursive: true, force: true })
  })

  it('packs only what runs, and the documents', async () => {
    const listing = await mustRun('tar', ['-tzf', tarball])
    const files = listing
      .trim()
      .split('\n')
      .map(path => path.replace(/^package\//, ''))
      .sort()
    expect(files).toEqual([
      'CHANGELOG.md',
      'README.md',
      'dist/cli.js',
      'dist/licenses.txt',
      'package.json'
    ])
  })

  it('ships the licence of every package the bundle carries', () => {
    const licences = readFileSync(join(bin, '..', '..', pkg.name, 'dist', 'licenses.txt'), 'utf8')
    for (const bundled of ['ajv', 'yaml', 're2js', 'undici', '@actions/core']) {
      expect(licences).toContain(`\n${bundled}@`)
    }
  })

  it('installs the command as an npm shim, and nothing else', () => {
    expect(existsSync(bin)).toBe(true)
    const installed = join(bin, '..', '..')
    expect(existsSync(join(installed, pkg.name, 'dist', 'cli.js'))).toBe(true)
    // No dependency came with it: the only package under node_modules is this one.
    expect(existsSync(join(installed, 'ajv'))).toBe(false)
    expect(existsSync(join(installed, '@actions'))).toBe(false)
  })

  it('rocm-provenance --version prints the package version', async () => {
    const run = await runTool(bin, ['--version'], { cwd: scratch })
    expect(run).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  })

  it('rocm-provenance validate accepts the examples', async () => {
    const run = await runTool(bin, ['validate'], { cwd: join(PROJECT_ROOT, 'examples') })
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('valid')
  })

  it('rocm-provenance validate refuses a misspelt mode with exit 4', async () => {
    const workspace = workspaceWith(registry, 'policy:\n  mode: stict\n', [
      { tag: '6.4.4-ubuntu-22.04', digest: `sha256:${'0'.repeat(64)}` }
    ])
    const run = await runTool(bin, ['validate'], { cwd: workspace })
    expect(run.code).toBe(4)
    expect(run.stdout + run.stderr).toContain('mode')
  })

  it('rocm-provenance verify writes a report that rocm-provenance inspect reads', async () => {
    const digest = await pushImage(registry.host, 'rocm/dev', '6.4.4-ubuntu-22.04')
    const workspace = workspaceWith(registry, 'policy:\n  mode: strict\n', [
      { tag: '6.4.4-ubuntu-22.04', digest }
    ])
    const verify = await runTool(bin, ['verify', '--insecure-registry', registry.host], {
      cwd: workspace,
      env: hermeticEnv()
    })
    expect({ code: verify.code, stderr: verify.stderr }).toEqual({ code: 0, stderr: '' })
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(report.run.actionVersion).toBe(pkg.version)

    const inspect = await runTool(bin, ['inspect', 'rocm_provenance.json', '--json'], {
      cwd: workspace
    })
    expect(inspect.code).toBe(0)
    expect(JSON.parse(inspect.stdout)).toMatchObject({ trustStatus: 'unsigned' })
  })
})
