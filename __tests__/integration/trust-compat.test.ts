/**
 * Existing single-signer configurations decide exactly as before the trust
 * model of 4.1 (issue 18): the shipped example policy (and a strict variant)
 * with single-key rows of every outcome — verified in both signature formats,
 * unsigned, another key, expired and not-yet-valid windows, a fingerprint
 * mismatch, no signer, not pinned, attestations recorded and enforced — run
 * through the real pipeline (real cosign, real registry), and every image's
 * decision (code, raw code, trust status, decision path, policyDecision) is
 * compared byte for byte with the decisions recorded from 4.0's code
 * (__tests__/integration/trust-compat.decisions.json, written by this same
 * test run on main at f338295 with RECORD_DECISIONS set).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { publicKeyFingerprint } from '../../src/adapters/cosign/key.js'
import { createAdapters } from '../../src/adapters/create.js'
import { verifyImages } from '../../src/app/verify.js'
import {
  attestImage,
  generateKeyPair,
  pushImage,
  signImage,
  slsaPredicate,
  type KeyPair
} from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { toolPath } from '../helpers/tools.js'

const RECORDED = join(dirname(fileURLToPath(import.meta.url)), 'trust-compat.decisions.json')
const NOW = new Date('2026-11-30T12:00:00Z')
const REPO = 'rocm/dev'

interface Row {
  tag: string
  provenance?: string[]
  pinned?: boolean
}

let registry: TestRegistry
let keyA: KeyPair
let keyB: KeyPair
let workspace: string
/** Digest or key fingerprint → label, so recorded decisions do not depend on this run's. */
const labels = new Map<string, string>()
const rows: Row[] = []
const digests = new Map<string, string>()

async function image(
  tag: string,
  how: { sign?: KeyPair; legacy?: boolean; attest?: { key: KeyPair; builder?: string } }
): Promise<void> {
  const digest = await pushImage(registry.host, REPO, tag, `compat ${tag}`)
  const ref = `${registry.host}/${REPO}@${digest}`
  if (how.sign) await signImage(ref, how.sign, { legacy: how.legacy })
  if (how.attest) await attestImage(ref, how.attest.key, slsaPredicate(how.attest.builder))
  labels.set(digest, `DIGEST(${tag})`)
  digests.set(tag, digest)
}

function matrixText(): string {
  const lines = ['rocm:', '  images:']
  for (const row of rows) {
    const dash = row.tag.indexOf('-')
    lines.push(
      `    - version: "${row.tag.slice(0, dash)}"`,
      `      os: "${row.tag.slice(dash + 1)}"`,
      `      repository: ${registry.host}/${REPO}`,
      `      digest: "${row.pinned === false ? 'sha256:TODO' : digests.get(row.tag)}"`,
      `      added: "2026-11-20"`
    )
    if (row.provenance) lines.push('      provenance:', ...row.provenance.map(l => `        ${l}`))
  }
  return `${lines.join('\n')}\n`
}

/** The shipped example policy, pointed at the test registry, without a log (none runs here). */
function examplePolicy(changes: Record<string, string>): string {
  let text = readFileSync(join('examples', 'ci', 'rocm_policy.yml'), 'utf8')
  text = text.replace('ignore_tlog: false', 'ignore_tlog: true')
  text = text.replace(/repository: ghcr\.io\/rocm\/dev/, `repository: ${registry.host}/${REPO}`)
  text = text.replace(
    "'ghcr.io/rocm/dev:*-ubuntu-24.04'",
    `'${registry.host}/${REPO}:*-ubuntu-24.04'`
  )
  for (const [from, to] of Object.entries(changes)) text = text.replace(from, to)
  return text
}

function normalise(text: string): string {
  let out = text.split(registry.host).join('REGISTRY')
  for (const [digest, label] of labels) {
    out = out
      .split(digest)
      .join(label)
      .split(digest.slice(0, 'sha256:'.length + 12))
      .join(label)
  }
  return out
}

async function decisions(policy: string): Promise<unknown> {
  writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy)
  const adapters = createAdapters({
    workspace,
    insecureRegistries: [registry.host],
    resolveCosignPath: async () => toolPath('cosign')
  })
  const run = await verifyImages(
    {
      workspace,
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      images: [],
      concurrency: 2,
      now: NOW
    },
    {
      loadConfig: adapters.loadConfig,
      registry: adapters.registry,
      prepareCosign: adapters.prepareCosign
    }
  )
  return JSON.parse(
    normalise(
      JSON.stringify({
        exitCode: run.exitCode,
        trustStatus: run.trustStatus,
        configIssues: run.configIssues,
        images: run.images.map(({ findings, decision }) => ({
          reference: findings.plan.reference,
          code: decision.code,
          rawCode: decision.rawCode,
          trustStatus: decision.trustStatus,
          policyDecision: decision.policyDecision,
          path: decision.path
        }))
      })
    )
  )
}

beforeAll(async () => {
  registry = await startRegistry()
  ;[keyA, keyB] = await Promise.all([generateKeyPair('a'), generateKeyPair('b')])
  workspace = mkdtempSync(join(tmpdir(), 'rp-compat-'))
  mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
  copyFileSync(keyA.publicKey, join(workspace, 'ci', 'keys', 'a.pub'))
  labels.set(publicKeyFingerprint(readFileSync(keyA.publicKey, 'utf8')), 'FINGERPRINT(a)')
  const key = ['key_path: ci/keys/a.pub']
  await Promise.all([
    image('6.4.4-ubuntu-22.04', { sign: keyA }),
    image('6.4.3-ubuntu-22.04', { sign: keyA, legacy: true }),
    image('6.4.2-ubuntu-22.04', {}),
    image('6.4.1-ubuntu-22.04', { sign: keyB }),
    image('6.4.0-ubuntu-22.04', { sign: keyA }),
    image('6.3.0-ubuntu-22.04', { sign: keyA }),
    image('6.2.0-ubuntu-22.04', { sign: keyA }),
    image('6.1.0-ubuntu-22.04', { sign: keyA }),
    image('6.1.0-ubuntu-24.04', { sign: keyA, attest: { key: keyA } }),
    image('6.0.0-ubuntu-24.04', { sign: keyA }),
    image('5.7.0-ubuntu-22.04', { sign: keyA, attest: { key: keyB } }),
    image('5.6.0-ubuntu-22.04', { sign: keyA, attest: { key: keyA, builder: 'https://x' } })
  ])
  rows.push(
    {
      tag: '6.4.4-ubuntu-22.04',
      provenance: [...key, "valid_from: '2026-01-01'", "valid_until: '2027-06-30'"]
    },
    { tag: '6.4.3-ubuntu-22.04', provenance: key },
    { tag: '6.4.2-ubuntu-22.04', provenance: key },
    { tag: '6.4.1-ubuntu-22.04', provenance: key },
    { tag: '6.4.0-ubuntu-22.04', provenance: [...key, "valid_until: '2026-06-30'"] },
    { tag: '6.3.0-ubuntu-22.04', provenance: [...key, "valid_from: '2026-12-01'"] },
    { tag: '6.2.0-ubuntu-22.04' },
    {
      tag: '6.1.0-ubuntu-22.04',
      provenance: [...key, `key_fingerprint: "sha256:${'0'.repeat(64)}"`]
    },
    { tag: '6.1.0-ubuntu-24.04', provenance: key },
    { tag: '6.0.0-ubuntu-24.04', provenance: key },
    { tag: '5.7.0-ubuntu-22.04', provenance: key },
    { tag: '5.6.0-ubuntu-22.04', provenance: [...key, 'require_signature: false'] },
    { tag: '5.5.0-ubuntu-22.04', provenance: key, pinned: false }
  )
  writeFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), matrixText())
}, 180_000)

afterAll(async () => {
  await registry.stop()
  rmSync(workspace, { recursive: true, force: true })
})

describe('single-signer configurations decide as before 4.1', () => {
  it('byte for byte, for the example policy and its strict, enforcing and attestation-free variants', async () => {
    const observed = {
      example: await decisions(examplePolicy({})),
      strict: await decisions(
        examplePolicy({
          'mode: warn': 'mode: strict',
          'attest_mode: record': 'attest_mode: enforce'
        })
      ),
      none: await decisions(examplePolicy({ 'attest_mode: record': 'attest_mode: none' }))
    }
    const serialised = `${JSON.stringify(observed, null, 2)}\n`
    if (process.env.RECORD_DECISIONS) writeFileSync(RECORDED, serialised)
    expect(serialised).toBe(readFileSync(RECORDED, 'utf8'))
  }, 180_000)
})
