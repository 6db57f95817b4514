/**
 * The bundled CLI (dist/cli.js) against the real registry and cosign: it
 * shares the core with the action, so it exits with the same codes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, pushImage, retag, signImage, type KeyPair } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { reportSchemaErrors } from '../helpers/report-schema.js'
import { PROJECT_ROOT, hermeticEnv, runTool, toolPath } from '../helpers/tools.js'
import { STRICT_POLICY, workspaceWith } from '../helpers/workspace.js'

const CLI = join(PROJECT_ROOT, 'dist', 'cli.js')

function cli(workspace: string, args: string[]) {
  return runTool(process.execPath, [CLI, ...args], { cwd: workspace, env: hermeticEnv() })
}

describe('rocm-provenance (dist/cli.js)', () => {
  let registry: TestRegistry
  let key: KeyPair
  let workspace: string
  let signed: string
  let pinnedBeforeMove: string

  beforeAll(async () => {
    registry = await startRegistry()
    key = await generateKeyPair('release')
    signed = await pushImage(registry.host, 'rocm/dev', '6.4.4-ubuntu-22.04')
    await signImage(`${registry.host}/rocm/dev@${signed}`, key)
    pinnedBeforeMove = await pushImage(registry.host, 'rocm/dev', '6.4.3-ubuntu-22.04')
    await signImage(`${registry.host}/rocm/dev@${pinnedBeforeMove}`, key)
    await retag(
      registry.host,
      'rocm/dev',
      await pushImage(registry.host, 'rocm/dev', 'x'),
      '6.4.3-ubuntu-22.04'
    )
    workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [
        { tag: '6.4.4-ubuntu-22.04', digest: signed, keyPath: 'ci/keys/release.pub' },
        { tag: '6.4.3-ubuntu-22.04', digest: pinnedBeforeMove, keyPath: 'ci/keys/release.pub' }
      ],
      key
    )
  })
  afterAll(async () => {
    await registry.stop()
  })

  const verifyArgs = () => [
    'verify',
    '--insecure-registry',
    registry.host,
    '--cosign-path',
    toolPath('cosign')
  ]

  it('verify exits 2 for a moved tag, as the action does, and writes a valid report', async () => {
    const run = await cli(workspace, verifyArgs())
    expect(run.code).toBe(2)
    expect(run.stdout).toContain('6.4.3-ubuntu-22.04')
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.exitCode).toBe(2)
  })

  it('verify under auto_update says the command line does not dispatch the updater', async () => {
    const policy = join(workspace, 'ci', 'auto_update_policy.yml')
    writeFileSync(policy, STRICT_POLICY.replace('mode: strict', 'mode: auto_update'))
    const run = await cli(workspace, [...verifyArgs(), '--policy', 'ci/auto_update_policy.yml'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(
      "mode is auto_update: the command line never dispatches update-rocm.yml; run 'rocm-provenance update'"
    )
  })

  it('verify records a row that names no signer as unsigned even when its pinned digest is gone', async () => {
    const gone = `sha256:${'7'.repeat(64)}`
    const lone = workspaceWith(
      registry,
      STRICT_POLICY.replace('require_signature: true', 'require_signature: false'),
      [{ tag: '6.4.4-ubuntu-22.04', digest: gone }]
    )
    const run = await cli(lone, verifyArgs())
    expect(run.code).toBe(2)
    const report = JSON.parse(readFileSync(join(lone, 'rocm_provenance.json'), 'utf8'))
    expect(report.images[0].trustStatus).toBe('unsigned')
    expect(report.images[0].signature.status).toBe('skipped')
  })

  it('verify --image restricts the check to one reference and exits 0 for the signed one', async () => {
    const run = await cli(workspace, [
      ...verifyArgs(),
      '--image',
      `${registry.host}/rocm/dev:6.4.4-ubuntu-22.04`
    ])
    expect(run.code).toBe(0)
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(report.images).toHaveLength(1)
    expect(report.images[0].trustStatus).toBe('valid')
  })

  it('update --dry-run prints each digest it refuses, the reason in full as plain text, and writes nothing', async () => {
    const matrix = readFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), 'utf8')
    const run = await cli(workspace, [
      'update',
      '--dry-run',
      '--insecure-registry',
      registry.host,
      '--cosign-path',
      toolPath('cosign')
    ])
    // The tag moved to an unsigned image: refused, with the policy step that refused it.
    expect(run.stdout).toMatch(
      /^refused {2}127\.0\.0\.1:\d+\/rocm\/dev:6\.4\.3-ubuntu-22\.04 {2}sha256:[0-9a-f]{12} {2}\(tag moved; unsigned\): signature: no signature found \(expected signer ci\/keys\/release\.pub\).*required by require_signature=true \(policy ci\/rocm_policy\.yml:\d+:\d+\) → 3$/m
    )
    expect(run.stdout).toContain('ci/rocm_matrix.yml: nothing to change')
    expect(run.stdout).not.toMatch(/&#|&quot;|\|---\|/)
    expect(readFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), 'utf8')).toBe(matrix)
    expect(run.code).toBe(1)
  })

  it('says how to get cosign when it is not where the run looks for it', async () => {
    const run = await cli(workspace, [
      'verify',
      '--insecure-registry',
      registry.host,
      '--cosign-path',
      join(workspace, 'no-such-cosign'),
      '--provenance-path',
      'no-cosign.json'
    ])
    expect(run.code).toBe(3)
    const report = JSON.parse(readFileSync(join(workspace, 'no-cosign.json'), 'utf8'))
    expect(report.errors.join('\n')).toContain(
      'install cosign or give its path (--cosign-path; the action installs it itself)'
    )
  })

  it('inspect reads the report back and exits by its trust status; annotate merges it into telemetry', async () => {
    await cli(workspace, verifyArgs())
    const inspected = await cli(workspace, ['inspect', 'rocm_provenance.json', '--json'])
    expect(inspected.code).toBe(0)
    const rows = JSON.parse(inspected.stdout).rows
    expect(rows.map((row: { trustStatus: string }) => row.trustStatus)).toEqual(['valid', 'valid'])
    writeFileSync(join(workspace, 'telemetry_summary.json'), '{"build":"b-17","gpus":2}\n')
    // The arguments swapped: the file is named, the order given, nothing written.
    const swapped = await cli(workspace, [
      'annotate',
      'rocm_provenance.json',
      'telemetry_summary.json'
    ])
    expect(swapped.code).toBe(4)
    expect(swapped.stderr).toContain(
      'telemetry_summary.json is not a rocm_provenance.json report (the arguments are: annotate <telemetry summary> <provenance report>)'
    )
    expect(readFileSync(join(workspace, 'telemetry_summary.json'), 'utf8')).toBe(
      '{"build":"b-17","gpus":2}\n'
    )
    const annotated = await cli(workspace, [
      'annotate',
      'telemetry_summary.json',
      'rocm_provenance.json'
    ])
    expect(annotated.code).toBe(0)
    const telemetry = JSON.parse(readFileSync(join(workspace, 'telemetry_summary.json'), 'utf8'))
    expect(Object.keys(telemetry).slice(0, 2)).toEqual(['build', 'gpus'])
    expect(telemetry.trustStatus).toBe('valid')
    expect(telemetry.policyDecision).toMatch(
      /^mode=strict\|require_sig=true\|attest=none\|status=2$/
    )
  })

  it('validate exits 0 for good files and 4 with file:line for a typo', async () => {
    expect((await cli(workspace, ['validate'])).code).toBe(0)
    writeFileSync(
      join(workspace, 'ci', 'rocm_policy.yml'),
      'policy:\n  mode: strict\n  digest_tll: 7\n'
    )
    const broken = await cli(workspace, ['validate'])
    expect(broken.code).toBe(4)
    expect(broken.stderr).toContain('ci/rocm_policy.yml:3:3')
    expect(broken.stderr).toContain('digest_ttl')
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), STRICT_POLICY)
  })

  it('validate prints warnings (an unanchored identity pattern) and still exits 0', async () => {
    writeFileSync(
      join(workspace, 'ci', 'rocm_policy.yml'),
      `${STRICT_POLICY}\n  signers:\n    ci:\n      identity: 'https://github\\.com/rocm/images/'\n      issuer: https://token.actions.githubusercontent.com\n`
    )
    try {
      const warned = await cli(workspace, ['validate'])
      expect(warned.code).toBe(0)
      expect(warned.stdout).toContain('are valid')
      expect(warned.stderr).toMatch(
        /configuration has 1 warning:\n {2}ci\/rocm_policy\.yml:\d+:\d+: `policy\.signers\.ci`: `identity` is not anchored with `\^`/
      )
    } finally {
      writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), STRICT_POLICY)
    }
  })

  it('refuses an unknown command and bad options with exit 4', async () => {
    expect((await cli(workspace, ['frobnicate'])).code).toBe(4)
    const bad = await cli(workspace, ['verify', '--concurrency', '0'])
    expect(bad.code).toBe(4)
    expect(bad.stderr).toContain('--concurrency')
  })

  it('prints the usage for `<command> --help`, and annotates into a folder not made yet', async () => {
    const help = await cli(workspace, ['verify', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('rocm-provenance verify')
    await cli(workspace, verifyArgs())
    const annotated = await cli(workspace, [
      'annotate',
      'build/new/telemetry_summary.json',
      'rocm_provenance.json'
    ])
    expect(annotated.code).toBe(0)
    const summary = JSON.parse(
      readFileSync(join(workspace, 'build', 'new', 'telemetry_summary.json'), 'utf8')
    )
    expect(summary.trustStatus).toBeDefined()
  })
})

describe('rocm-provenance inspect of a hostile file', () => {
  it.each([
    ['a workflow command after a line break', '{"a":\n::error::INJECTED'],
    ['terminal escapes', '{"a": "\u001b]0;owned\u0007\u001b[2J", '],
    [
      'a report row holding escapes',
      JSON.stringify({
        images: [{ reference: '\u001b[2Jx\n::warning::y', trustStatus: '\u001b]0;t\u0007' }]
      })
    ]
  ])('prints no raw control character and no line starting with :: (%s)', async (_name, text) => {
    const dir = mkdtempSync(join(tmpdir(), 'rp-inspect-'))
    writeFileSync(join(dir, 'hostile.json'), text)
    const run = await cli(dir, ['inspect', 'hostile.json'])
    const printed = `${run.stdout}\n${run.stderr}`
    expect(printed).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/) // eslint-disable-line no-control-regex
    expect(printed).not.toMatch(/^\s*::/m)
  })
})
