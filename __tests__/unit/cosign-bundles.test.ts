import { describe, expect, it } from '@jest/globals'
import {
  acceptsCertificate,
  COSIGN_SIGN_PREDICATE_TYPE,
  signatureBundleCandidates,
  type SignatureBundleClaims
} from '../../src/domain/cosign-bundles.js'
import type { Digest, SignerExpectation } from '../../src/domain/types.js'

const PINNED = `sha256:${'a'.repeat(64)}` as Digest
const OTHER = `sha256:${'b'.repeat(64)}`
const KEY_A = `sha256:${'1'.repeat(64)}`
const KEY_B = `sha256:${'2'.repeat(64)}`
const RELEASE = 'https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/heads/main'
const NIGHTLY = 'https://github.com/rocm/rocm-images/.github/workflows/nightly.yml@refs/heads/main'
const ISSUER = 'https://token.actions.githubusercontent.com'

const keyless: SignerExpectation & { kind: 'keyless' } = {
  kind: 'keyless',
  identity: '^https://github\\.com/rocm/rocm-images/\\.github/workflows/release\\.yml@',
  issuer: ISSUER,
  issuerIsRegexp: false
}
const key: SignerExpectation = { kind: 'key', keyPath: 'ci/a.pub' }

function bundle(claims: Partial<SignatureBundleClaims> = {}): SignatureBundleClaims {
  return {
    predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    subjectDigests: [PINNED],
    tlogEntries: 1,
    signedAt: '2026-11-20T00:00:00.000Z',
    ...claims
  }
}
const byKey = (fingerprint: string | undefined, signedAt?: string): SignatureBundleClaims =>
  bundle({ ...(fingerprint && { keyFingerprint: fingerprint }), ...(signedAt && { signedAt }) })
const byIdentity = (identity: string, signedAt?: string): SignatureBundleClaims =>
  bundle({ identity, issuer: ISSUER, ...(signedAt && { signedAt }) })

describe('acceptsCertificate', () => {
  it('matches the identity as RE2, unanchored, and a plain issuer exactly', () => {
    expect(acceptsCertificate(keyless, RELEASE, ISSUER)).toBe(true)
    expect(acceptsCertificate({ ...keyless, identity: 'release' }, RELEASE, ISSUER)).toBe(true)
    expect(acceptsCertificate(keyless, NIGHTLY, ISSUER)).toBe(false)
    expect(acceptsCertificate(keyless, RELEASE, `${ISSUER}/`)).toBe(false)
    expect(acceptsCertificate(keyless, RELEASE, undefined)).toBe(false)
    expect(acceptsCertificate(keyless, undefined, ISSUER)).toBe(false)
  })

  it('matches an issuer pattern as RE2', () => {
    const pattern = { ...keyless, issuer: '^https://token\\.actions\\.', issuerIsRegexp: true }
    expect(acceptsCertificate(pattern, RELEASE, ISSUER)).toBe(true)
    expect(acceptsCertificate(pattern, RELEASE, 'https://accounts.google.com')).toBe(false)
  })
})

describe('signatureBundleCandidates', () => {
  it("keeps only cosign 3 signatures of the pinned digest with a log entry that claim to be the signer's", () => {
    const claims = [
      byIdentity(RELEASE), // 0: yes
      byIdentity(NIGHTLY), // 1: another identity
      bundle({
        identity: RELEASE,
        issuer: ISSUER,
        predicateType: 'https://slsa.dev/provenance/v1'
      }), // 2: an attestation
      bundle({ identity: RELEASE, issuer: ISSUER, subjectDigests: [OTHER] }), // 3: another digest
      bundle({ identity: RELEASE, issuer: ISSUER, tlogEntries: 0 }), // 4: no log entry
      byKey(KEY_A), // 5: a key signature
      bundle({ identity: RELEASE, issuer: ISSUER, predicateType: undefined }) // 6: no statement
    ]
    expect(signatureBundleCandidates(claims, keyless, PINNED)).toEqual([0])
  })

  it("routes a key signer's bundles by the key hint; a bundle without a hint stays a candidate", () => {
    const claims = [byKey(KEY_B), byKey(KEY_A), byKey(undefined), byIdentity(RELEASE)]
    expect(signatureBundleCandidates(claims, key, PINNED, { keyFingerprint: KEY_A })).toEqual([
      1, 2
    ])
    // Without a fingerprint of its own, every key-signed bundle is a candidate.
    expect(signatureBundleCandidates(claims, key, PINNED)).toEqual([0, 1, 2])
  })

  it('tries signing times inside the window first, earliest first, then the rest, then those without a time', () => {
    const claims = [
      byIdentity(RELEASE, '2026-11-28T00:00:00Z'), // 0: in window
      byIdentity(RELEASE, '2026-06-01T00:00:00Z'), // 1: before valid_from
      bundle({ identity: RELEASE, issuer: ISSUER, signedAt: undefined }), // 2: no time
      byIdentity(RELEASE, '2026-11-10T00:00:00Z') // 3: in window, earlier
    ]
    const windowed = { ...keyless, validFrom: '2026-11-01', validUntil: '2026-12-31' }
    expect(signatureBundleCandidates(claims, windowed, PINNED, { limit: 4 })).toEqual([3, 0, 1, 2])
    // Without a window: earliest first.
    expect(signatureBundleCandidates(claims, keyless, PINNED, { limit: 4 })).toEqual([1, 3, 0, 2])
  })

  it('tries at most the limit (3 by default)', () => {
    const claims = Array.from({ length: 5 }, (_, i) =>
      byIdentity(RELEASE, `2026-11-2${i}T00:00:00Z`)
    )
    expect(signatureBundleCandidates(claims, keyless, PINNED)).toEqual([0, 1, 2])
  })
})
