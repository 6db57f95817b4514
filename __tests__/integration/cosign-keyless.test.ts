/**
 * Keyless verification with the real cosign against loopback stand-ins for
 * Fulcio and Rekor (@sigstore/mock) and a trusted root made by
 * `cosign trusted-root create`. Nothing leaves loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
let signedFiveDaysAgo: Digest
let keysLogged: Digest
let keyDir: string

const DAY_MS = 24 * 60 * 60 * 1000
const FIVE_DAYS_AGO = new Date(Date.now() - 5 * DAY_MS)
/** A UTC date (whole day) `days` before today. */
const daysAgo = (days: number): string =>
  new Date(Date.now() - days * DAY_MS).toISOString().slice(0, 10)

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

const check = (digest: Digest, signer: SignerExpectation, ignoreTlog = false) =>
  verifier.verifySignature(
    imagePlan(registry.host, REPO, digest, signer, {
      ignoreTlog,
      trustedRoot: 'ci/trusted_root.json'
    }),
    digest,
    new Date()
  )

/** Milliseconds between an RFC 3339 time and `to`. */
const offBy = (at: string | undefined, to: Date): number => Math.abs(Date.parse(at ?? '') - +to)

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
  // Logged 5 days ago: keylessly; and with key `logged-a` (5 days ago) and `logged-b` (now).
  ;[signedFiveDaysAgo, keysLogged] = (await Promise.all(
    ['five-days', 'keys-logged'].map(tag => pushImage(registry.host, REPO, tag))
  )) as Digest[]
  await bed.sign(`${registry.host}/${REPO}@${signedFiveDaysAgo}`, { signedAt: FIVE_DAYS_AGO })
  const [a, b] = await Promise.all([generateKeyPair('logged-a'), generateKeyPair('logged-b')])
  keyDir = join(workspace, 'ci')
  copyFileSync(a.publicKey, join(keyDir, 'logged-a.pub'))
  copyFileSync(b.publicKey, join(keyDir, 'logged-b.pub'))
  const keysRef = `${registry.host}/${REPO}@${keysLogged}`
  await bed.signWithKey(keysRef, a.privateKey, { signedAt: FIVE_DAYS_AGO })
  await bed.signWithKey(keysRef, b.privateKey)
}, 180_000)

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
    // From the bundle `cosign verify-blob-attestation` verified, not merely read.
    expect(finding.detailsUnverified).toBeUndefined()
    expect(finding.signers?.[0]).toMatchObject({
      identity: RELEASE_IDENTITY,
      signingTime: finding.signedAt,
      signingTimeSource: 'tlog'
    })
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

describe('verifySignature, cosign 3 signing time verified from the bundle', () => {
  it('judges a keyless window at the log time, not the run: valid_until 3 days ago holds a signature logged 5 days ago', async () => {
    const finding = await check(signedFiveDaysAgo, { ...keyless(), validUntil: daysAgo(3) })
    expect(finding).toMatchObject({ outcome: 'verified', identity: RELEASE_IDENTITY })
    expect(finding.detailsUnverified).toBeUndefined()
    expect(offBy(finding.signedAt, FIVE_DAYS_AGO)).toBeLessThan(60_000)
    expect(finding.signers?.[0]).toMatchObject({ result: 'verified', signingTimeSource: 'tlog' })
  })

  it('judges a keyless window at the log time, not the run: valid_from 3 days ago does not hold it', async () => {
    const finding = await check(signedFiveDaysAgo, { ...keyless(), validFrom: daysAgo(3) })
    expect(finding.outcome).toBe('expired')
    expect(finding.message).toMatch(/^signing key is not valid yet: valid_from \S+, signed at /)
    expect(finding.signers?.[0]).toMatchObject({
      result: 'not-yet-valid',
      signingTimeSource: 'tlog'
    })
  })

  it("dates a key signature by its own bundle's log entry (key a logged 5 days ago, key b now)", async () => {
    const a = await check(keysLogged, { kind: 'key', keyPath: 'ci/logged-a.pub' })
    const b = await check(keysLogged, { kind: 'key', keyPath: 'ci/logged-b.pub' })
    expect(a).toMatchObject({ outcome: 'verified', tlogChecked: true })
    expect(offBy(a.signedAt, FIVE_DAYS_AGO)).toBeLessThan(60_000)
    expect(a.rekorLogIndex).toEqual(expect.any(Number))
    expect(b.outcome).toBe('verified')
    expect(offBy(b.signedAt, new Date())).toBeLessThan(10 * 60 * 1000)
    expect(b.rekorLogIndex).not.toBe(a.rekorLogIndex)
  })

  it('judges a key window at the log time when the log is checked, at the run when it is not', async () => {
    const signer = { kind: 'key' as const, keyPath: 'ci/logged-a.pub', validUntil: daysAgo(3) }
    const logged = await check(keysLogged, signer)
    expect(logged.outcome).toBe('verified')
    expect(logged.signers?.[0]).toMatchObject({ result: 'verified', signingTimeSource: 'tlog' })
    const unlogged = await check(keysLogged, signer, true)
    expect(unlogged.outcome).toBe('expired')
    expect(unlogged.signedAt).toBeUndefined()
    expect(unlogged.message).toMatch(/^signing key expired: valid_until \S+, now /)
  })

  it('keeps a verified signature verified, its details unverified, when no bundle can be checked', async () => {
    // A cosign whose `verify-blob-attestation` cannot reach its trust material.
    const wrapper = join(workspace, 'cosign-no-blob.sh')
    writeFileSync(
      wrapper,
      `#!/bin/sh\nif [ "$1" = verify-blob-attestation ]; then echo 'Error: dial tcp 127.0.0.1:9: connection refused' >&2; exit 1; fi\nexec ${toolPath('cosign')} "$@"\n`
    )
    chmodSync(wrapper, 0o755)
    const cut = new CosignVerifier({
      cosignPath: wrapper,
      workspace,
      insecureRegistries: [registry.host],
      env: hermeticEnv(),
      maxAttempts: 1
    })
    const plan = imagePlan(
      registry.host,
      REPO,
      signedFiveDaysAgo,
      { ...keyless(), validUntil: daysAgo(3) },
      {
        ignoreTlog: false,
        trustedRoot: 'ci/trusted_root.json'
      }
    )
    const finding = await cut.verifySignature(plan, signedFiveDaysAgo, new Date())
    // The window is judged at the run's time, as before: past valid_until.
    expect(finding).toMatchObject({ identity: RELEASE_IDENTITY, detailsUnverified: true })
    expect(finding.signers?.[0]).toMatchObject({ result: 'expired', signingTimeSource: 'run' })
    const key = await cut.verifySignature(
      imagePlan(
        registry.host,
        REPO,
        keysLogged,
        { kind: 'key', keyPath: 'ci/logged-a.pub' },
        {
          ignoreTlog: false,
          trustedRoot: 'ci/trusted_root.json'
        }
      ),
      keysLogged,
      new Date()
    )
    expect(key).toMatchObject({ outcome: 'verified', tlogChecked: true })
    expect(key.signedAt).toBeUndefined()
  })
})
