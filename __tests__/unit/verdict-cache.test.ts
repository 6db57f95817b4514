import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import type { VerdictMaterial } from '../../src/app/ports.js'
import {
  checkCachedVerdict,
  isCacheable,
  newCachedVerdict,
  reuseCachedVerdict,
  verdictKey
} from '../../src/app/verdict-cache.js'
import type { AttestationFinding, SignatureFinding } from '../../src/domain/types.js'
import {
  KEY_SIGNER,
  KEYLESS_SIGNER,
  makeFindings,
  PINNED,
  CURRENT
} from '../helpers/run-fixtures.js'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')
const MATERIAL: VerdictMaterial = {
  cosign: 'release v3.0.6 sha256:abc',
  keyFingerprints: { [KEY_SIGNER.kind === 'key' ? KEY_SIGNER.keyPath : '']: 'sha256:f1' },
  trustedRoots: { 'ci/trusted_root.json': 'sha256:r1' }
}
const VERIFIED: SignatureFinding = {
  outcome: 'verified',
  count: 1,
  tlogChecked: false,
  keyFingerprint: 'sha256:f1'
}
const NO_ATTESTATION: AttestationFinding = {
  outcome: 'skipped',
  mode: 'none',
  predicateType: 'https://slsa.dev/provenance/v1'
}
const NOW = new Date('2026-11-30T12:00:00Z')

function keyOf(changes: Parameters<typeof makeFindings>[0] = {}, material = MATERIAL) {
  const { plan } = makeFindings({ signer: KEY_SIGNER, ...changes })
  return verdictKey(plan, PINNED, material, '4.0.0', sha256)
}

describe('verdictKey', () => {
  const base = keyOf()

  it('is stable for the same inputs and ignores where settings were written', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/)
    expect(keyOf()).toBe(base)
    expect(keyOf({ policy: { sources: ['mode=strict (policy ci/rocm_policy.yml:2:3)'] } })).toBe(
      base
    )
  })

  it.each([
    ['a policy field', { policy: { attestationType: 'https://example.com/other' } }],
    ['a field the policy did not have before', { policy: { maxAgeDays: 7 } as never }],
    ['the signer', { signer: { ...KEY_SIGNER, validUntil: '2027-01-01' } }],
    ['the repository', { plan: { repository: 'ghcr.io/rocm/other' } }]
  ])('changes with %s', (_what, changes) => {
    expect(keyOf(changes)).not.toBe(base)
  })

  it('changes with the key fingerprint, the cosign binary, the trusted root and the action', () => {
    const { plan } = makeFindings({ signer: KEY_SIGNER })
    expect(
      verdictKey(
        plan,
        PINNED,
        {
          ...MATERIAL,
          keyFingerprints: { [KEY_SIGNER.kind === 'key' ? KEY_SIGNER.keyPath : '']: 'sha256:f2' }
        },
        '4.0.0',
        sha256
      )
    ).not.toBe(base)
    expect(verdictKey(plan, PINNED, { ...MATERIAL, cosign: 'other' }, '4.0.0', sha256)).not.toBe(
      base
    )
    expect(verdictKey(plan, PINNED, MATERIAL, '4.0.1', sha256)).not.toBe(base)
    expect(verdictKey(plan, CURRENT, MATERIAL, '4.0.0', sha256)).not.toBe(base)
    const rooted = makeFindings({
      signer: KEY_SIGNER,
      policy: { trustedRoot: 'ci/trusted_root.json' }
    }).plan
    const withRoot = verdictKey(rooted, PINNED, MATERIAL, '4.0.0', sha256)
    expect(withRoot).not.toBe(base)
    expect(
      verdictKey(
        rooted,
        PINNED,
        { ...MATERIAL, trustedRoots: { 'ci/trusted_root.json': 'sha256:r2' } },
        '4.0.0',
        sha256
      )
    ).not.toBe(withRoot)
  })

  it('is undefined when a key file or trusted root could not be read, or there is no signer', () => {
    expect(keyOf({}, { ...MATERIAL, keyFingerprints: {} })).toBeUndefined()
    expect(keyOf({ policy: { trustedRoot: 'missing.json' } })).toBeUndefined()
    const unsigned = makeFindings().plan
    expect(verdictKey(unsigned, PINNED, MATERIAL, '4.0.0', sha256)).toBeUndefined()
    const keyless = makeFindings({ signer: KEYLESS_SIGNER }).plan
    expect(verdictKey(keyless, PINNED, MATERIAL, '4.0.0', sha256)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('isCacheable', () => {
  it.each([
    [VERIFIED, NO_ATTESTATION, true],
    [VERIFIED, { ...NO_ATTESTATION, mode: 'enforce', outcome: 'verified' }, true],
    [VERIFIED, { ...NO_ATTESTATION, mode: 'record', outcome: 'attestation-missing' }, false],
    [VERIFIED, { ...NO_ATTESTATION, mode: 'enforce', outcome: 'transient' }, false],
    [{ ...VERIFIED, outcome: 'unsigned' }, NO_ATTESTATION, false],
    [{ ...VERIFIED, outcome: 'expired' }, NO_ATTESTATION, false]
  ] as [SignatureFinding, AttestationFinding, boolean][])(
    'signature %j with attestation %j: %s',
    (signature, attestation, expected) => {
      expect(isCacheable({ signature, attestation })).toBe(expected)
    }
  )
})

describe('checkCachedVerdict', () => {
  const entry = newCachedVerdict(
    'k',
    new Date('2026-11-30T00:00:00Z'),
    { signature: VERIFIED, attestation: NO_ATTESTATION },
    sha256
  )

  it('accepts an intact entry younger than cache_ttl', () => {
    expect(checkCachedVerdict(JSON.parse(JSON.stringify(entry)), NOW, 24, sha256)).toEqual({
      ok: true,
      entry
    })
  })

  it('refuses an entry as old as cache_ttl, and every entry with cache_ttl 0', () => {
    expect(checkCachedVerdict(entry, NOW, 12, sha256)).toMatchObject({
      ok: false,
      corrupted: false,
      reason: expect.stringContaining('older than cache_ttl (12 h)')
    })
    expect(checkCachedVerdict(entry, NOW, 0, sha256).ok).toBe(false)
  })

  it.each([
    ['a changed finding', { ...entry, signature: { ...VERIFIED, count: 2 } }, 'checksum mismatch'],
    ['no checksum', { ...entry, checksum: undefined }, 'no key or checksum'],
    ['a bad time', { ...entry, judgedAt: 'yesterday' }, 'no judging time'],
    [
      'a time to come',
      newCachedVerdict(
        'k',
        new Date('2026-12-01T00:00:00Z'),
        { signature: VERIFIED, attestation: NO_ATTESTATION },
        sha256
      ),
      'judged in the future'
    ],
    [
      'a negative verdict',
      newCachedVerdict(
        'k',
        new Date('2026-11-30T00:00:00Z'),
        { signature: { ...VERIFIED, outcome: 'invalid' }, attestation: NO_ATTESTATION },
        sha256
      ),
      'not a positive verdict'
    ],
    ['not an object', 'garbage', 'not an object']
  ])('calls an entry with %s corrupted', (_what, raw, why) => {
    expect(checkCachedVerdict(raw, NOW, 24, sha256)).toEqual({
      ok: false,
      corrupted: true,
      reason: expect.stringContaining(why)
    })
  })
})

describe('reuseCachedVerdict', () => {
  it('judges a key window again against now when no log entry vouched for the signing time', () => {
    const signer = { ...KEY_SIGNER, validUntil: '2026-11-29' }
    const { plan } = makeFindings({ signer })
    const entry = newCachedVerdict(
      'k',
      new Date('2026-11-28T00:00:00Z'),
      { signature: VERIFIED, attestation: NO_ATTESTATION },
      sha256
    )
    expect(reuseCachedVerdict(entry, plan, new Date('2026-11-29T12:00:00Z')).ok).toBe(true)
    expect(reuseCachedVerdict(entry, plan, NOW)).toEqual({
      ok: false,
      reason: expect.stringContaining('signing key expired: valid_until 2026-11-29')
    })
  })

  it('judges it at the logged signing time when the log was checked', () => {
    const signer = { ...KEY_SIGNER, validUntil: '2026-11-29' }
    const { plan } = makeFindings({ signer })
    const logged = { ...VERIFIED, tlogChecked: true, signedAt: '2026-11-20T00:00:00Z' }
    const entry = newCachedVerdict(
      'k',
      new Date('2026-11-28T00:00:00Z'),
      { signature: logged, attestation: NO_ATTESTATION },
      sha256
    )
    expect(reuseCachedVerdict(entry, plan, NOW)).toEqual({
      ok: true,
      signature: logged,
      attestation: NO_ATTESTATION
    })
  })
})

describe('the trust model of named signers in the cache', () => {
  const release = { name: 'release', kind: 'key' as const, keyPath: 'ci/keys/release.pub' }
  const counted = {
    name: 'release',
    kind: 'key' as const,
    result: 'verified' as const,
    counted: true,
    signingTime: '2026-11-28T00:00:00.000Z',
    signingTimeSource: 'run' as const,
    outcome: 'verified' as const
  }
  const signed: SignatureFinding = { ...VERIFIED, signers: [counted] }

  function namedPlan(signer: typeof release & { validUntil?: string }, maxAgeDays?: number) {
    const { plan } = makeFindings({
      plan: {
        trustModel: 'signers',
        signers: [signer],
        threshold: 1,
        requirements: [
          {
            type: 'https://slsa.dev/provenance/v1',
            signers: [signer],
            where: [],
            ...(maxAgeDays !== undefined && { maxAgeDays })
          }
        ]
      }
    })
    return plan
  }
  const met = (value: string) => ({
    type: 'https://slsa.dev/provenance/v1',
    result: 'met' as const,
    conditions: [
      { path: 'predicate.metadata.finishedOn', pattern: '<= 7 days old', value, met: true }
    ],
    signers: ['release']
  })
  const enforced: AttestationFinding = { ...NO_ATTESTATION, mode: 'enforce', outcome: 'verified' }

  it('keys on every named signer and needs each key file read', () => {
    const plan = namedPlan(release)
    const material = { ...MATERIAL, keyFingerprints: { 'ci/keys/release.pub': 'sha256:f1' } }
    const key = verdictKey(plan, PINNED, material, '4.0.0', sha256)
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(
      verdictKey(
        namedPlan({ ...release, validUntil: '2027-01-01' }),
        PINNED,
        material,
        '4.0.0',
        sha256
      )
    ).not.toBe(key)
    expect(verdictKey(plan, PINNED, MATERIAL, '4.0.0', sha256)).toBeUndefined()
  })

  it('saves only when every requirement was met', () => {
    expect(
      isCacheable({
        signature: signed,
        attestation: enforced,
        requirements: [met('2026-11-27T00:00:00Z')]
      })
    ).toBe(true)
    expect(
      isCacheable({
        signature: signed,
        attestation: enforced,
        requirements: [{ ...met('2026-11-27T00:00:00Z'), result: 'unmet' }]
      })
    ).toBe(false)
  })

  it("judges a signer's window again at reading when it was judged at the run's time", () => {
    const entry = newCachedVerdict(
      'k',
      new Date('2026-11-28T00:00:00Z'),
      { signature: signed, attestation: NO_ATTESTATION },
      sha256
    )
    const plan = namedPlan({ ...release, validUntil: '2026-11-29' })
    expect(reuseCachedVerdict(entry, plan, new Date('2026-11-29T12:00:00Z')).ok).toBe(true)
    expect(reuseCachedVerdict(entry, plan, NOW)).toEqual({
      ok: false,
      reason: expect.stringContaining('signer release: signing key expired: valid_until 2026-11-29')
    })
  })

  it('judges max_age_days again at reading', () => {
    const entry = newCachedVerdict(
      'k',
      new Date('2026-11-28T00:00:00Z'),
      { signature: signed, attestation: enforced, requirements: [met('2026-11-22T00:00:00Z')] },
      sha256
    )
    const plan = namedPlan(release, 7)
    expect(reuseCachedVerdict(entry, plan, new Date('2026-11-28T12:00:00Z')).ok).toBe(true)
    expect(reuseCachedVerdict(entry, plan, NOW)).toEqual({
      ok: false,
      reason: expect.stringContaining('older than max_age_days (7)')
    })
  })
})
