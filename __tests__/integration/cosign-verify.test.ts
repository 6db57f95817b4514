/**
 * The verifier against the real cosign 3.1.1 and a real registry on loopback,
 * key-based: every outcome produced by the real thing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CosignVerifier,
  cosignArguments,
  type CosignVerifierOptions
} from '../../src/adapters/cosign/verifier.js'
import { publicKeyFingerprint } from '../../src/adapters/cosign/key.js'
import type { Digest, ImagePlan, SignerExpectation } from '../../src/domain/types.js'
import {
  attestImage,
  generateKeyPair,
  pushImage,
  retag,
  signImage,
  slsaPredicate,
  type KeyPair
} from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, mustRun, toolPath } from '../helpers/tools.js'
import { imagePlan, signedImage as signedImageIn, testVerifier } from '../helpers/cosign-plans.js'

const REPO = 'rocm/dev'
const NOW = new Date()

let registry: TestRegistry
let workspace: string
let keyA: KeyPair
let keyB: KeyPair

const keySigner = (
  path: string,
  extra: Partial<SignerExpectation & { kind: 'key' }> = {}
): SignerExpectation => ({
  kind: 'key',
  keyPath: path,
  ...extra
})

const verifier = (options: Partial<CosignVerifierOptions> = {}): CosignVerifier =>
  testVerifier(registry, workspace, options)

const signedImage = (key: KeyPair, options: { legacy?: boolean } = {}): Promise<Digest> =>
  signedImageIn(registry, REPO, key, options)

beforeAll(async () => {
  registry = await startRegistry()
  ;[keyA, keyB] = await Promise.all([generateKeyPair('a'), generateKeyPair('b')])
  workspace = mkdtempSync(join(tmpdir(), 'rp-workspace-'))
  mkdirSync(join(workspace, 'keys'))
  copyFileSync(keyA.publicKey, join(workspace, 'keys', 'a.pub'))
  copyFileSync(keyB.publicKey, join(workspace, 'keys', 'b.pub'))
})

afterAll(async () => {
  await registry.stop()
  rmSync(workspace, { recursive: true, force: true })
})

describe('cosignArguments', () => {
  const plan = (host: string, signer: SignerExpectation, trustedRoot?: string): ImagePlan =>
    imagePlan(host, REPO, `sha256:${'ab'.repeat(32)}`, signer, {
      ignoreTlog: false,
      ...(trustedRoot ? { trustedRoot } : {})
    })

  it('puts the digest reference last, after --, and plain HTTP only for listed hosts', () => {
    const args = cosignArguments(
      'verify',
      plan('ghcr.io', keySigner('keys/a.pub')),
      `sha256:${'ab'.repeat(32)}`,
      {
        workspace: '/w',
        insecureRegistries: ['127.0.0.1:5000']
      }
    )
    expect(args).toEqual([
      'verify',
      '--key',
      '/w/keys/a.pub',
      '--output',
      'json',
      '--',
      `ghcr.io/${REPO}@sha256:${'ab'.repeat(32)}`
    ])
    const local = cosignArguments(
      'verify',
      plan('127.0.0.1:5000', keySigner('keys/a.pub')),
      `sha256:${'ab'.repeat(32)}`,
      {
        workspace: '/w',
        insecureRegistries: ['127.0.0.1:5000']
      }
    )
    expect(local).toContain('--allow-http-registry')
    expect(local).toContain('--allow-insecure-registry')
    expect(local).not.toContain('--insecure-ignore-tlog')
  })

  it('passes keyless expectations, an issuer pattern, the trusted root and the attestation type', () => {
    const args = cosignArguments(
      'verify-attestation',
      plan(
        'ghcr.io',
        {
          kind: 'keyless',
          identity: '^https://github\\.com/rocm/',
          issuer: '^https://token\\.',
          issuerIsRegexp: true
        },
        'ci/trusted_root.json'
      ),
      `sha256:${'ab'.repeat(32)}`,
      { workspace: '/w', insecureRegistries: [] }
    )
    expect(args).toEqual([
      'verify-attestation',
      '--type',
      'https://slsa.dev/provenance/v1',
      '--certificate-identity-regexp',
      '^https://github\\.com/rocm/',
      '--certificate-oidc-issuer-regexp',
      '^https://token\\.',
      '--trusted-root',
      '/w/ci/trusted_root.json',
      '--output',
      'json',
      '--',
      `ghcr.io/${REPO}@sha256:${'ab'.repeat(32)}`
    ])
  })
})

describe('verifySignature, key-based', () => {
  it('verifies a signed image and records the key fingerprint; no log entry was checked', async () => {
    const digest = await signedImage(keyA)
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    expect(finding).toMatchObject({
      outcome: 'verified',
      count: 1,
      expected: 'keys/a.pub',
      tlogChecked: false,
      attempts: 1,
      keyFingerprint: publicKeyFingerprint(readFileSync(keyA.publicKey, 'utf8'))
    })
  })

  it('calls an image with no signature unsigned, once the digest exists and no artifacts do', async () => {
    const digest = (await pushImage(registry.host, REPO, 'work')) as Digest
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    expect(finding.outcome).toBe('unsigned')
    expect(finding.count).toBe(0)
    expect(finding.message).toContain('no signatures found')
  })

  it('calls a digest that does not exist not-found, not unsigned', async () => {
    const digest = `sha256:${'0'.repeat(64)}` as Digest
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    expect(finding.outcome).toBe('not-found')
  })

  it('calls a signature by another key invalid', async () => {
    const digest = await signedImage(keyA)
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/b.pub')),
      digest,
      NOW
    )
    expect(finding.outcome).toBe('invalid')
    expect(finding.message).toContain('accepted signatures do not match threshold')
  })

  it('accepts either of two signatures by different keys', async () => {
    const digest = await signedImage(keyA)
    await signImage(`${registry.host}/${REPO}@${digest}`, keyB)
    const made = verifier()
    const byA = await made.verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    const byB = await made.verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/b.pub')),
      digest,
      NOW
    )
    expect([byA.outcome, byB.outcome]).toEqual(['verified', 'verified'])
    expect(byA.keyFingerprint).not.toBe(byB.keyFingerprint)
  })

  it.each([false, true])(
    'calls the signature of another image invalid (legacy format: %s)',
    async legacy => {
      const signed = await signedImage(keyA, { legacy })
      const victim = (await pushImage(registry.host, REPO, 'work')) as Digest
      const suffix = legacy ? '.sig' : ''
      await mustRun(
        toolPath('crane'),
        [
          'tag',
          '--insecure',
          `${registry.host}/${REPO}:${signed.replace(':', '-')}${suffix}`,
          `${victim.replace(':', '-')}${suffix}`
        ],
        { env: hermeticEnv() }
      )
      const finding = await verifier().verifySignature(
        imagePlan(registry.host, REPO, victim, keySigner('keys/a.pub')),
        victim,
        NOW
      )
      expect(finding.outcome).toBe('invalid')
      expect(finding.count).toBe(0)
    }
  )

  it('verifies the pinned digest, whatever the tag points at after signing', async () => {
    const digest = await signedImage(keyA)
    await retag(registry.host, REPO, digest, 'moving')
    const other = (await pushImage(registry.host, REPO, 'other')) as Digest
    await retag(registry.host, REPO, other, 'moving')
    const made = verifier()
    const pinned = await made.verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    const current = await made.verifySignature(
      imagePlan(registry.host, REPO, other, keySigner('keys/a.pub')),
      other,
      NOW
    )
    expect(pinned.outcome).toBe('verified')
    expect(current.outcome).toBe('unsigned')
  })

  it('calls a key outside its valid_from/valid_until window expired', async () => {
    const digest = await signedImage(keyA)
    const made = verifier()
    const expired = await made.verifySignature(
      imagePlan(
        registry.host,
        REPO,
        digest,
        keySigner('keys/a.pub', { validFrom: '2020-01-01', validUntil: '2021-01-01' })
      ),
      digest,
      NOW
    )
    const notYet = await made.verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub', { validFrom: '2999-01-01' })),
      digest,
      NOW
    )
    const inside = await made.verifySignature(
      imagePlan(
        registry.host,
        REPO,
        digest,
        keySigner('keys/a.pub', { validFrom: '2020-01-01', validUntil: '2999-01-01' })
      ),
      digest,
      NOW
    )
    expect([expired.outcome, notYet.outcome, inside.outcome]).toEqual([
      'expired',
      'expired',
      'verified'
    ])
    expect(expired.message).toContain('valid_until 2021-01-01')
  })

  it('checks key_fingerprint, and refuses a key that does not match it before running cosign', async () => {
    const digest = await signedImage(keyA)
    const fingerprint = publicKeyFingerprint(readFileSync(keyA.publicKey, 'utf8'))
    const made = verifier()
    const matching = await made.verifySignature(
      imagePlan(
        registry.host,
        REPO,
        digest,
        keySigner('keys/a.pub', {
          keyFingerprint: fingerprint.toUpperCase().replace('SHA256:', '')
        })
      ),
      digest,
      NOW
    )
    const wrong = await made.verifySignature(
      imagePlan(
        registry.host,
        REPO,
        digest,
        keySigner('keys/b.pub', { keyFingerprint: fingerprint })
      ),
      digest,
      NOW
    )
    expect(matching.outcome).toBe('verified')
    expect(wrong.outcome).toBe('invalid')
    expect(wrong.message).toContain(`key_fingerprint expects ${fingerprint}`)
    expect(wrong.attempts).toBeUndefined()
  })

  it('says a missing key file is a tool error naming the path as written', async () => {
    const digest = `sha256:${'4'.repeat(64)}` as Digest
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/missing.pub')),
      digest,
      NOW
    )
    expect(finding.outcome).toBe('tool-error')
    expect(finding.message).toBe('cannot read key_path keys/missing.pub: ENOENT')
  })

  it('verifies a LEGACY signature next to NEW ones by another key', async () => {
    const digest = await signedImage(keyB, { legacy: true })
    await signImage(`${registry.host}/${REPO}@${digest}`, keyA)
    const made = verifier()
    const legacy = await made.verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/b.pub')),
      digest,
      NOW
    )
    const current = await made.verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    expect(legacy).toMatchObject({ outcome: 'verified', count: 1, attempts: 2 })
    expect(current).toMatchObject({ outcome: 'verified', count: 1, attempts: 1 })
  })

  it('does not count an attestation as a signature', async () => {
    const digest = (await pushImage(registry.host, REPO, 'work')) as Digest
    await attestImage(`${registry.host}/${REPO}@${digest}`, keyA)
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    expect(finding.outcome).toBe('unsigned')
    expect(finding.count).toBe(0)
    expect(finding.message).toContain('https://slsa.dev/provenance/v1')
  })

  it('skips an image with no signer expected', async () => {
    const digest = `sha256:${'1'.repeat(64)}` as Digest
    const finding = await verifier().verifySignature(
      imagePlan(registry.host, REPO, digest, undefined),
      digest,
      NOW
    )
    expect(finding).toMatchObject({ outcome: 'skipped', count: 0 })
  })
})

describe('verifyAttestation, key-based', () => {
  const attestPlan = (digest: string, mode: 'record' | 'enforce', key = 'keys/a.pub') =>
    imagePlan(registry.host, REPO, digest, keySigner(key), { attestMode: mode })

  it('verifies SLSA provenance and records a statement digest that survives re-signing', async () => {
    const digest = await signedImage(keyA)
    await attestImage(`${registry.host}/${REPO}@${digest}`, keyA)
    const made = verifier()
    const first = await made.verifyAttestation(attestPlan(digest, 'enforce'), digest)
    expect(first).toMatchObject({
      outcome: 'verified',
      mode: 'enforce',
      predicateType: 'https://slsa.dev/provenance/v1',
      subjectDigest: digest,
      builderId: (slsaPredicate() as { runDetails: { builder: { id: string } } }).runDetails.builder
        .id,
      count: 1
    })
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    await attestImage(`${registry.host}/${REPO}@${digest}`, keyA)
    const second = await made.verifyAttestation(attestPlan(digest, 'enforce'), digest)
    expect(second.digest).toBe(first.digest)
  })

  it.each(['record', 'enforce'] as const)('calls no attestation missing under %s', async mode => {
    const digest = await signedImage(keyA)
    const finding = await verifier().verifyAttestation(attestPlan(digest, mode), digest)
    expect(finding).toMatchObject({ outcome: 'attestation-missing', mode })
  })

  it('calls an attestation of another predicate type missing, naming what was found', async () => {
    const digest = await signedImage(keyA)
    await attestImage(
      `${registry.host}/${REPO}@${digest}`,
      keyA,
      { builder: { id: 'v02' } },
      'slsaprovenance'
    )
    const finding = await verifier().verifyAttestation(attestPlan(digest, 'enforce'), digest)
    expect(finding.outcome).toBe('attestation-missing')
    expect(finding.message).toContain('https://slsa.dev/provenance/v0.2')
  })

  it('calls an attestation by another key invalid', async () => {
    const digest = await signedImage(keyA)
    await attestImage(`${registry.host}/${REPO}@${digest}`, keyA)
    const finding = await verifier().verifyAttestation(
      attestPlan(digest, 'enforce', 'keys/b.pub'),
      digest
    )
    expect(finding.outcome).toBe('attestation-invalid')
  })

  it('skips under attest_mode none', async () => {
    const digest = `sha256:${'5'.repeat(64)}` as Digest
    const finding = await verifier().verifyAttestation(
      imagePlan(registry.host, REPO, digest, keySigner('keys/a.pub'), { attestMode: 'none' }),
      digest
    )
    expect(finding).toMatchObject({ outcome: 'skipped', mode: 'none' })
  })
})
