/**
 * Keyless verification with the real cosign against loopback stand-ins for
 * Fulcio and Rekor (@sigstore/mock) and a trusted root made by
 * `cosign trusted-root create`. Nothing leaves loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import type { Digest, SignerExpectation } from '../../src/domain/types.js'
import { imagePlan, signatureEvidenceAt, digestExistsAt } from '../helpers/cosign-plans.js'
import {
  GITHUB_ISSUER,
  RELEASE_IDENTITY,
  startKeylessBed,
  type KeylessBed
} from '../helpers/cosign-keyless.js'
import { generateKeyPair, pushImage, signImage } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, toolPath } from '../helpers/tools.js'

const REPO = 'rocm/dev'
const RELEASE_PATTERN =
  '^https://github\\.com/rocm/rocm-images/\\.github/workflows/release\\.yml@refs/heads/main$'

let registry: TestRegistry
let bed: KeylessBed
let workspace: string
let verifier: CosignVerifier
let signed: Digest
let expiredAtSigning: Digest
let legacySigned: Digest

const keyless = (
  identity = RELEASE_PATTERN,
  issuer = GITHUB_ISSUER,
  issuerIsRegexp = false
): SignerExpectation => ({
  kind: 'keyless',
  identity,
  issuer,
  issuerIsRegexp
})

const check = (digest: Digest, signer: SignerExpectation) =>
  verifier.verifySignature(
    imagePlan(registry.host, REPO, digest, signer, {
      ignoreTlog: false,
      trustedRoot: 'ci/trusted_root.json'
    }),
    digest,
    new Date()
  )

beforeAll(async () => {
  ;[registry, bed] = await Promise.all([startRegistry(), startKeylessBed()])
  workspace = mkdtempSync(join(tmpdir(), 'rp-workspace-'))
  mkdirSync(join(workspace, 'ci'))
  copyFileSync(bed.trustedRootPath, join(workspace, 'ci', 'trusted_root.json'))
  verifier = new CosignVerifier({
    cosignPath: toolPath('cosign'),
    workspace,
    insecureRegistries: [registry.host],
    env: hermeticEnv(),
    maxAttempts: 1,
    signatureEvidence: signatureEvidenceAt(registry.url),
    digestExists: digestExistsAt(registry.url)
  })
  ;[signed, expiredAtSigning, legacySigned] = (await Promise.all(
    ['signed', 'expired', 'legacy'].map(tag => pushImage(registry.host, REPO, tag))
  )) as Digest[]
  await bed.sign(`${registry.host}/${REPO}@${signed}`)
  await bed.sign(`${registry.host}/${REPO}@${expiredAtSigning}`, { expiredCertificate: true })
  await bed.sign(`${registry.host}/${REPO}@${legacySigned}`, { legacy: true })
}, 120_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), bed?.stop()])
  rmSync(workspace, { recursive: true, force: true })
})

describe('verifySignature, keyless', () => {
  it('verifies a cosign 3 bundle and records identity, issuer, log index and time from it', async () => {
    const finding = await check(signed, keyless())
    expect(finding).toMatchObject({
      outcome: 'verified',
      count: 1,
      expected: RELEASE_PATTERN,
      identity: RELEASE_IDENTITY,
      issuer: GITHUB_ISSUER,
      tlogChecked: true
    })
    expect(finding.rekorLogIndex).toEqual(expect.any(Number))
    expect(Math.abs(Date.parse(finding.signedAt ?? '') - Date.now())).toBeLessThan(10 * 60 * 1000)
  })

  it('verifies with an issuer pattern', async () => {
    const finding = await check(
      signed,
      keyless('^https://github\\.com/rocm/', '^https://token\\.actions\\.', true)
    )
    expect(finding).toMatchObject({
      outcome: 'verified',
      identity: RELEASE_IDENTITY,
      issuer: GITHUB_ISSUER
    })
  })

  it('verifies a LEGACY keyless signature, reading its certificate details from cosign', async () => {
    const finding = await check(legacySigned, keyless())
    expect(finding).toMatchObject({
      outcome: 'verified',
      identity: RELEASE_IDENTITY,
      issuer: GITHUB_ISSUER
    })
    expect(finding.rekorLogIndex).toEqual(expect.any(Number))
  })

  it('says what to change when a key signature without a log entry is checked against the log', async () => {
    const key = await generateKeyPair('no-log')
    copyFileSync(key.publicKey, join(workspace, 'ci', 'no-log.pub'))
    const digest = (await pushImage(registry.host, REPO, 'key-no-log')) as Digest
    await signImage(`${registry.host}/${REPO}@${digest}`, key) // --tlog-upload=false
    const finding = await check(digest, { kind: 'key', keyPath: 'ci/no-log.pub' })
    expect(finding.outcome).toBe('invalid')
    expect(finding.message).toContain('needs `ignore_tlog: true` for this signer')
  })

  it('calls another workflow identity invalid', async () => {
    const finding = await check(
      signed,
      keyless(
        '^https://github\\.com/rocm/rocm-images/\\.github/workflows/nightly\\.yml@refs/heads/main$'
      )
    )
    expect(finding.outcome).toBe('invalid')
    expect(finding.message).toContain('failed to verify certificate identity')
  })

  it('calls an identity pattern that matches nothing invalid', async () => {
    const finding = await check(signed, keyless('^https://github\\.com/someone-else/.*'))
    expect(finding.outcome).toBe('invalid')
    expect(finding.message).toMatch(/expected SAN value to match regex/)
  })

  it('calls another issuer invalid', async () => {
    const finding = await check(signed, keyless(RELEASE_PATTERN, 'https://accounts.google.com'))
    expect(finding.outcome).toBe('invalid')
    expect(finding.message).toContain('expected issuer value')
  })

  it('calls a certificate that had expired when it was logged expired', async () => {
    const finding = await check(expiredAtSigning, keyless())
    expect(finding.outcome).toBe('expired')
    expect(finding.message).toContain('integrated time outside certificate validity')
  })
})
