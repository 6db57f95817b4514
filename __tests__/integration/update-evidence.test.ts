/**
 * The updater's no-regression rule and cool-down (issue 14) against the real
 * registry and cosign: a candidate with less evidence than the pin it would
 * replace is refused, the file left byte for byte; a candidate younger than
 * `min_age_days` by its transparency-log time (the loopback Rekor logs at a
 * chosen time), or of unverifiable age, is refused; the rest is written.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/adapters/fs/config-load.js'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import { planImages } from '../../src/domain/plan.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { runUpdate, type UpdateResult } from '../../src/app/update.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import {
  attestImage,
  generateKeyPair,
  pushImage,
  signImage,
  type KeyPair
} from '../helpers/images.js'
import { GITHUB_ISSUER, startKeylessBed, type KeylessBed } from '../helpers/cosign-keyless.js'
import { hermeticEnv, toolPath } from '../helpers/tools.js'

const REPOSITORY = 'rocm/dev'
const DAY_MS = 24 * 60 * 60 * 1000

const SIGNERS = `  signers:
    release:
      key_path: ci/keys/release.pub
    images-ci:
      key_path: ci/keys/images-ci.pub
    release-keyless:
      identity: '^https://github\\.com/rocm/rocm-images/\\.github/workflows/release\\.yml@.*$'
      issuer: ${GITHUB_ISSUER}
`

describe('runUpdate keeps evidence and waits out min_age_days', () => {
  let registry: TestRegistry
  let bed: KeylessBed
  let workspace: string
  let release: KeyPair
  let imagesCi: KeyPair
  const now = new Date()
  const today = now.toISOString().slice(0, 10)
  let tags = 0

  /** Pushes a new image at `tag` (a fresh tag per test) and signs/attests it as asked. */
  async function publish(
    tag: string,
    by: { keys?: KeyPair[]; attest?: KeyPair; keylessAt?: Date; legacy?: boolean } = {}
  ): Promise<string> {
    const digest = await pushImage(registry.host, REPOSITORY, tag)
    const ref = `${registry.host}/${REPOSITORY}@${digest}`
    for (const key of by.keys ?? []) await signImage(ref, key)
    if (by.attest) await attestImage(ref, by.attest)
    // cosign 2's format: `cosign verify` itself prints the log's integrated time
    // it checked; cosign 3's: the bundle is verified on its own, its time with it.
    if (by.keylessAt) await bed.sign(ref, { signedAt: by.keylessAt, legacy: by.legacy ?? false })
    return digest
  }

  function tagFor(version: string): string {
    return `${version}-ubuntu-22.04`
  }

  /** A new version and its tag, pushed at `pin`, then moved to `candidate`. */
  async function moved(
    pin: Parameters<typeof publish>[1],
    candidate: Parameters<typeof publish>[1]
  ): Promise<{ version: string; pinned: string; next: string }> {
    const version = `9.${tags++}.0`
    const pinned = await publish(tagFor(version), pin)
    const next = await publish(tagFor(version), candidate)
    return { version, pinned, next }
  }

  async function update(policyBody: string, matrixText: string): Promise<UpdateResult> {
    writeFileSync(
      join(workspace, 'ci', 'rocm_policy.yml'),
      [
        'policy:',
        '  mode: strict',
        '  digest_ttl: 14',
        '  ignore_tlog: true   # key signatures are not logged here',
        '  trusted_root: ci/trusted_root.json',
        `  repository: ${registry.host}/${REPOSITORY}`,
        SIGNERS + policyBody
      ].join('\n')
    )
    writeFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), matrixText)
    const config = await loadConfig({
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      workspace
    })
    const client = new RegistryClient({
      credentials: createCredentialStore({ dockerConfigDir: join(workspace, '.docker') }),
      insecureRegistries: [registry.host],
      maxAttempts: 1
    })
    const verifier = new CosignVerifier({
      cosignPath: toolPath('cosign'),
      workspace,
      insecureRegistries: [registry.host],
      maxAttempts: 1,
      env: hermeticEnv()
    })
    try {
      return await runUpdate({
        plans: planImages(config, {}),
        matrixText,
        matrixPath: 'ci/rocm_matrix.yml',
        policy: config.policy,
        registry: client,
        verifier,
        now,
        discover: false
      })
    } finally {
      client.close()
    }
  }

  beforeAll(async () => {
    registry = await startRegistry()
    bed = await startKeylessBed()
    ;[release, imagesCi] = await Promise.all([
      generateKeyPair('release'),
      generateKeyPair('images-ci')
    ])
    workspace = mkdtempSync(join(tmpdir(), 'rp-update-evidence-'))
    mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
    mkdirSync(join(workspace, '.docker'))
    copyFileSync(release.publicKey, join(workspace, 'ci', 'keys', 'release.pub'))
    copyFileSync(imagesCi.publicKey, join(workspace, 'ci', 'keys', 'images-ci.pub'))
    copyFileSync(bed.trustedRootPath, join(workspace, 'ci', 'trusted_root.json'))
  })

  afterAll(async () => {
    await registry?.stop()
    await bed?.stop()
    if (workspace) rmSync(workspace, { recursive: true, force: true })
  })

  /** One row, comment-heavy, with the line ending given. */
  function matrixOf(version: string, digest: string, eol = '\n', provenance?: string): string {
    return [
      '# ROCm images for CI.',
      '# Reviewed weekly; the bot only touches digest, added and provenance.',
      'rocm:',
      '  images:',
      '    # --- stable ---',
      `    - version: "${version}"   # current release`,
      '      os: "ubuntu-22.04"     # runners',
      `      digest: "${digest}"   # bot-managed`,
      '      added: "2026-11-20"    # bot-managed',
      ...(provenance ? [provenance] : []),
      '    # --- end ---',
      '# trailing comment',
      ''
    ].join(eol)
  }

  it('refuses a candidate that loses the SLSA attestation the pin had, under attest_mode record', async () => {
    const { version, pinned, next } = await moved(
      { keys: [release], attest: release },
      { keys: [release] }
    )
    const text = matrixOf(
      version,
      pinned,
      '\r\n',
      '      provenance:\r\n        key_path: ci/keys/release.pub'
    )
    const result = await update('  require_signature: true\n  attest_mode: record\n', text)
    expect(result.updated).toEqual([])
    expect(result.changed).toBe(false)
    expect(result.matrixText).toBe(text)
    expect(result.rejected).toEqual([
      expect.objectContaining({ oldDigest: pinned, newDigest: next, trigger: 'tag-moved' })
    ])
    expect(result.rejected[0].reason).toMatch(
      /^the candidate has less evidence than the pin it would replace: current pin has SLSA provenance by key sha256:[0-9a-f]{64}; candidate has none$/
    )
    expect(result.prBody).toContain('current pin has SLSA provenance by key sha256:')
  })

  it('refuses a candidate signed by one of the two keys that signed the pin, even with require_signature false', async () => {
    const { version, pinned, next } = await moved(
      { keys: [release, imagesCi] },
      { keys: [release] }
    )
    const text = matrixOf(version, pinned)
    const result = await update(
      '  require_signature: false\n  trusted_signers: [release, images-ci]\n',
      text
    )
    expect(result.matrixText).toBe(text)
    expect(result.rejected).toEqual([
      expect.objectContaining({ oldDigest: pinned, newDigest: next })
    ])
    expect(result.rejected[0].reason).toBe(
      'the candidate has less evidence than the pin it would replace: current pin is signed by 2 distinct trusted signers (release, images-ci); candidate by 1 (release): images-ci would be lost'
    )
  })

  it('writes a candidate with more evidence, changing only the values it must (CRLF, comments kept)', async () => {
    const { version, pinned, next } = await moved(
      { keys: [release] },
      { keys: [release, imagesCi], attest: imagesCi }
    )
    const text = matrixOf(version, pinned, '\r\n')
    const result = await update(
      [
        '  require_signature: true',
        '  attest_mode: record',
        '  trusted_signers: [release, images-ci]',
        '  attestations:',
        '    - type: slsaprovenance1',
        '      signers: [images-ci]',
        ''
      ].join('\n'),
      text
    )
    expect(result.rejected).toEqual([])
    expect(result.updated).toEqual([
      expect.objectContaining({
        oldDigest: pinned,
        newDigest: next,
        evidence: {
          current: { signers: [expect.objectContaining({ name: 'release' })], attestations: [] },
          candidate: {
            signers: [
              expect.objectContaining({ name: 'release' }),
              expect.objectContaining({ name: 'images-ci' })
            ],
            attestations: [{ requirement: 'SLSA provenance', signedBy: 'images-ci' }]
          }
        }
      })
    ])
    const attestation = result.updated[0].attestationDigest
    expect(attestation).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(result.matrixText).toBe(
      text
        .replace(`digest: "${pinned}"`, `digest: "${next}"`)
        .replace('added: "2026-11-20"', `added: "${today}"`)
        .replace(
          '    # --- end ---',
          `      provenance:\r\n        attestation_digest: "${attestation}"\r\n    # --- end ---`
        )
    )
    expect(result.prBody).toContain('images-ci')
  })

  describe('min_age_days: 3', () => {
    const policy =
      '  require_signature: true\n  trusted_signers: [release-keyless]\n  min_age_days: 3\n'

    it.each([
      ['cosign 3 bundle', false],
      ["cosign 2's format", true]
    ])(
      'refuses a candidate logged 1 day ago and writes one logged 5 days ago (%s)',
      async (_, legacy) => {
        const oneDay = new Date(now.getTime() - DAY_MS)
        const fiveDays = new Date(now.getTime() - 5 * DAY_MS)
        const young = await moved({}, { keylessAt: oneDay, legacy })
        const old = await moved({}, { keylessAt: fiveDays, legacy })
        const youngText = matrixOf(young.version, young.pinned)
        const refused = await update(policy, youngText)
        expect(refused.matrixText).toBe(youngText)
        expect(refused.rejected).toEqual([expect.objectContaining({ newDigest: young.next })])
        expect(refused.rejected[0].reason).toMatch(
          /^min_age_days is 3: the candidate was signed \S+ \(transparency log, release-keyless\), 1\.0 days ago; it may be written from \S+$/
        )
        const written = await update(policy, matrixOf(old.version, old.pinned))
        expect(written.rejected).toEqual([])
        expect(written.updated).toEqual([
          expect.objectContaining({
            newDigest: old.next,
            signedAt: { at: expect.any(String), source: 'tlog', signer: 'release-keyless' }
          })
        ])
        // The log's integrated time, to the second, not the run's.
        const signedAt = Date.parse(written.updated[0].signedAt?.at ?? '')
        expect(Math.abs(signedAt - fiveDays.getTime())).toBeLessThan(60_000)
        expect(written.prBody).toContain(`${written.updated[0].signedAt?.at} (transparency log`)
      }
    )

    it('refuses a candidate whose signing time cannot be verified (a key checked without a log)', async () => {
      const { version, pinned, next } = await moved({}, { keys: [release] })
      const text = matrixOf(version, pinned)
      const result = await update(
        '  require_signature: true\n  trusted_signers: [release]\n  min_age_days: 3\n',
        text
      )
      expect(result.matrixText).toBe(text)
      expect(result.rejected).toEqual([expect.objectContaining({ newDigest: next })])
      expect(result.rejected[0].reason).toMatch(
        /^min_age_days is 3, but the candidate's signing time could not be verified/
      )
    })
  })
})
