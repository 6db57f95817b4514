/**
 * The pure rules of the trust model (src/domain/signers.ts,
 * src/domain/attestations.ts): distinct-signer counting, the outcome order when
 * a threshold is not met, and what an attestation statement must say.
 */
import { describe, expect, it } from '@jest/globals'
import {
  describeCondition,
  isDottedPath,
  judgeRequirement,
  summariseRequirements,
  valueAtPath,
  type SignerAttestationRun
} from '../../src/domain/attestations.js'
import {
  combineSigners,
  countDistinctSigners,
  describeSigner,
  normaliseFingerprint,
  signingTimeOf
} from '../../src/domain/signers.js'
import type {
  Digest,
  NamedSigner,
  PlannedRequirement,
  SignerFinding
} from '../../src/domain/types.js'

const PINNED: Digest = `sha256:${'4e'.repeat(32)}`
const OTHER: Digest = `sha256:${'23'.repeat(32)}`
const FP_A = `sha256:${'aa'.repeat(32)}`
const FP_B = `sha256:${'bb'.repeat(32)}`
const NOW = new Date('2026-11-30T12:00:00Z')

const key = (name: string, keyPath = `${name}.pub`): NamedSigner => ({
  kind: 'key',
  name,
  keyPath
})

const finding = (name: string, changes: Partial<SignerFinding> = {}): SignerFinding => ({
  name,
  kind: 'key',
  result: 'verified',
  counted: false,
  outcome: 'verified',
  ...changes
})

describe('countDistinctSigners', () => {
  it('counts the same key under two names once, and says whose key it shares', () => {
    const counted = countDistinctSigners(
      [key('a'), key('a-again'), key('b')],
      [
        finding('a', { keyFingerprint: FP_A }),
        finding('a-again', { keyFingerprint: FP_A.toUpperCase().replace('SHA256', 'sha256') }),
        finding('b', { keyFingerprint: FP_B })
      ]
    )
    expect(counted.map(f => f.counted)).toEqual([true, false, true])
    expect(counted[1].message).toContain('the same signer as a')
  })

  it('counts keyless signers by identity and issuer as observed', () => {
    const ci = (name: string): NamedSigner => ({
      kind: 'keyless',
      name,
      identity: '^https://.*$',
      issuer: 'https://issuer',
      issuerIsRegexp: false
    })
    const seen = { kind: 'keyless' as const, identity: 'https://x/wf@v1', issuer: 'https://issuer' }
    const counted = countDistinctSigners(
      [ci('one'), ci('two')],
      [finding('one', seen), finding('two', seen)]
    )
    expect(counted.map(f => f.counted)).toEqual([true, false])
  })

  describe('when cosign did not vouch for the certificate identity', () => {
    const ci = (name: string, identity: string): NamedSigner => ({
      kind: 'keyless',
      name,
      identity,
      issuer: 'https://issuer',
      issuerIsRegexp: false
    })
    const signers = [ci('release-v1', 'wf@refs/tags/v1$'), ci('org', '^https://github/org/')]
    const keyless = (name: string, changes: Partial<SignerFinding> = {}) =>
      finding(name, { kind: 'keyless', ...changes })

    it.each([
      ['no identity observed', {}, {}],
      [
        'identities read from stored bundles only',
        { identity: 'https://github/org/wf@refs/tags/v1', detailsUnverified: true },
        { identity: 'https://github/org/wf@refs/tags/v9-forged', detailsUnverified: true }
      ],
      [
        'one vouched, one read from a stored bundle',
        { identity: 'https://github/org/wf@refs/tags/v1', issuer: 'https://issuer' },
        { identity: 'https://github/org/wf@refs/tags/v9-forged', detailsUnverified: true }
      ]
    ] as const)(
      'counts two keyless signers once: %s (one certificate may match both patterns)',
      (_case, first, second) => {
        const counted = countDistinctSigners(signers, [
          keyless('release-v1', first),
          keyless('org', second)
        ])
        expect(counted.map(f => f.counted)).toEqual([true, false])
        expect(counted[1].message).toContain('cannot be told apart from release-v1')
      }
    )

    it('counts two keyless signers twice when cosign vouched for two identities', () => {
      const counted = countDistinctSigners(signers, [
        keyless('release-v1', { identity: 'https://github/org/a@v1', issuer: 'https://issuer' }),
        keyless('org', { identity: 'https://github/org/b@v1', issuer: 'https://issuer' })
      ])
      expect(counted.map(f => f.counted)).toEqual([true, true])
    })

    it('never dates a signature by a time read from a stored bundle', () => {
      const signedAt = '2024-12-24T00:26:40Z'
      expect(signingTimeOf({ tlogChecked: true, signedAt }, NOW)).toEqual({
        at: new Date(signedAt),
        source: 'tlog'
      })
      expect(signingTimeOf({ tlogChecked: true, signedAt, detailsUnverified: true }, NOW)).toEqual({
        at: NOW,
        source: 'run'
      })
    })
  })

  it('never counts a signer that did not verify', () => {
    const counted = countDistinctSigners(
      [key('a'), key('b')],
      [finding('a', { result: 'expired' }), finding('b', { result: 'invalid' })]
    )
    expect(counted.map(f => f.counted)).toEqual([false, false])
  })
})

describe('combineSigners: verified at the threshold, else the first match wins', () => {
  const incomplete = (name: string) =>
    finding(name, { result: 'could-not-complete', outcome: 'transient' })
  it.each([
    [
      'threshold met',
      [finding('a', { counted: true }), finding('b', { counted: true })],
      2,
      'verified'
    ],
    [
      'unknown when the incomplete signer would have met it',
      [finding('a', { counted: true }), incomplete('b'), finding('c', { result: 'expired' })],
      2,
      'transient'
    ],
    [
      'expired before invalid when the incomplete one could not have met it',
      [incomplete('a'), finding('b', { result: 'expired' }), finding('c', { result: 'invalid' })],
      3,
      'expired'
    ],
    ['not-yet-valid counts as expired', [finding('a', { result: 'not-yet-valid' })], 1, 'expired'],
    [
      'invalid when signatures exist but not enough',
      [finding('a', { counted: true }), finding('b', { result: 'invalid' })],
      2,
      'invalid'
    ],
    [
      'unsigned when there are none',
      [finding('a', { result: 'absent', outcome: 'unsigned' })],
      1,
      'unsigned'
    ]
  ] as const)('%s', (_name, findings, threshold, outcome) => {
    expect(combineSigners([...findings], threshold).outcome).toBe(outcome)
  })

  it('reports required, counted and met', () => {
    expect(combineSigners([finding('a', { counted: true })], 2).threshold).toEqual({
      required: 2,
      counted: 1,
      met: false
    })
  })
})

describe('fingerprints and who signed it', () => {
  it('normalises case, prefix and blanks; refuses anything else', () => {
    expect(normaliseFingerprint(` ${'AB'.repeat(32)} `)).toBe(`sha256:${'ab'.repeat(32)}`)
    expect(normaliseFingerprint('sha256:abc')).toBeUndefined()
  })

  it('describes a signer by identity (issuer optional), else key fingerprint, else as expected', () => {
    expect(describeSigner({ identity: 'i', issuer: 's' }, { withIssuer: true })).toBe('i (s)')
    expect(describeSigner({ identity: 'i', issuer: 's' })).toBe('i')
    expect(describeSigner({ keyFingerprint: `SHA256:${'AB'.repeat(32)}` })).toBe(
      `key sha256:${'ab'.repeat(32)}`
    )
    expect(describeSigner({ expected: 'ci/keys/a.pub' })).toBe('ci/keys/a.pub')
  })
})

describe('statements', () => {
  const statement = (changes: Record<string, unknown> = {}): unknown => ({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'x', digest: { sha256: PINNED.slice(7) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      runDetails: { builder: { id: 'https://github.com/rocm/images/wf@refs/tags/v1' } }
    },
    ...changes
  })
  const requirement = (changes: Partial<PlannedRequirement> = {}): PlannedRequirement => ({
    type: 'https://slsa.dev/provenance/v1',
    signers: [key('a')],
    where: [{ path: 'predicate.runDetails.builder.id', pattern: '^https://github\\.com/rocm/' }],
    ...changes
  })
  const ran = (...statements: unknown[]): SignerAttestationRun[] => [
    {
      name: 'a',
      completed: true,
      statements: statements.map((s, i) => ({
        digest: `sha256:${String(i).repeat(64)}` as Digest,
        statement: s
      }))
    }
  ]

  it('reads dotted paths, lists by index; a path is letters, digits, _ @ $ - between dots', () => {
    expect(valueAtPath(statement(), 'subject.0.digest.sha256')).toBe(PINNED.slice(7))
    expect(valueAtPath(statement(), 'predicate.runDetails')).toBeUndefined()
    expect(valueAtPath(statement(), 'predicate.nothing.here')).toBeUndefined()
    expect(isDottedPath('predicate.runDetails.builder.id')).toBe(true)
    expect(isDottedPath('predicate..id')).toBe(false)
    expect(isDottedPath('predicate[0]')).toBe(false)
  })

  it('is met by a statement of the type, about the pinned digest, meeting every condition', () => {
    const result = judgeRequirement(requirement(), ran(statement()), PINNED, NOW)
    expect(result).toMatchObject({
      result: 'met',
      signedBy: 'a',
      statementDigest: `sha256:${'0'.repeat(64)}`
    })
  })

  it('does not count a statement about another digest, even with cosign having passed it', () => {
    const other = statement({ subject: [{ digest: { sha256: OTHER.slice(7) } }] })
    const result = judgeRequirement(requirement(), ran(other), PINNED, NOW)
    expect(result.result).toBe('unmet')
    expect(result.message).toContain(`not the pinned ${PINNED}`)
  })

  it('does not count a statement of another predicate type', () => {
    const result = judgeRequirement(
      requirement(),
      ran(statement({ predicateType: 'https://slsa.dev/provenance/v0.2' })),
      PINNED,
      NOW
    )
    expect(result.result).toBe('unmet')
    expect(result.message).toContain('predicateType')
  })

  it('names the failed condition with its path, pattern and value, quoted and escaped', () => {
    const evil = statement({ predicate: { runDetails: { builder: { id: 'https://evil/"x"\n' } } } })
    const result = judgeRequirement(requirement(), ran(evil), PINNED, NOW)
    expect(result.result).toBe('unmet')
    expect(describeCondition(result.conditions[0])).toBe(
      'predicate.runDetails.builder.id fails "^https://github\\\\.com/rocm/" (value "https://evil/\\"x\\"\\n")'
    )
  })

  it('judges max_age_days at the time field: 2 days old meets 7, 30 does not, a missing time fails', () => {
    const vuln = (daysAgo: number | undefined): unknown => ({
      subject: [{ digest: { sha256: PINNED.slice(7) } }],
      predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      predicate: {
        metadata:
          daysAgo === undefined
            ? {}
            : { scanFinishedOn: new Date(NOW.getTime() - daysAgo * 86_400_000).toISOString() }
      }
    })
    const age = requirement({
      type: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      where: [],
      maxAgeDays: 7
    })
    expect(judgeRequirement(age, ran(vuln(2)), PINNED, NOW).result).toBe('met')
    expect(judgeRequirement(age, ran(vuln(30)), PINNED, NOW).result).toBe('unmet')
    expect(judgeRequirement(age, ran(vuln(undefined)), PINNED, NOW).result).toBe('unmet')
  })

  it('takes no scan time from the future, and only RFC 3339 times', () => {
    const scanned = (scanFinishedOn: string): unknown => ({
      subject: [{ digest: { sha256: PINNED.slice(7) } }],
      predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      predicate: { metadata: { scanFinishedOn } }
    })
    const age = requirement({
      type: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      where: [],
      maxAgeDays: 7
    })
    const judged = (time: string) => judgeRequirement(age, ran(scanned(time)), PINNED, NOW).result
    expect(judged('2026-11-29T12:00:00Z')).toBe('met')
    expect(judged('2026-11-29T13:00:00+01:00')).toBe('met')
    expect(judged('2026-11-30T12:04:00Z')).toBe('met')
    expect(judged('2999-01-01T00:00:00Z')).toBe('unmet')
    expect(judged('2026-11-30T13:00:00Z')).toBe('unmet')
    expect(judged('2026')).toBe('unmet')
    expect(judged('Nov 29 2026')).toBe('unmet')
  })

  it('takes no attestation from a signer outside its window', () => {
    const retired = { ...key('a'), validUntil: '2026-06-30' }
    const result = judgeRequirement(
      requirement({ signers: [retired] }),
      ran(statement()),
      PINNED,
      NOW
    )
    expect(result.result).toBe('unmet')
    expect(result.message).toBe(
      'a: signing key expired: valid_until 2026-06-30, now 2026-11-30T12:00:00.000Z'
    )
    const current = { ...key('a'), validFrom: '2026-06-01' }
    expect(
      judgeRequirement(requirement({ signers: [current] }), ran(statement()), PINNED, NOW).result
    ).toBe('met')
  })

  it('orders failures: could-not-complete, then unmet, then absent', () => {
    const missing: SignerAttestationRun = {
      name: 'a',
      completed: false,
      failure: 'missing',
      message: 'none'
    }
    const broken: SignerAttestationRun = {
      name: 'b',
      completed: false,
      failure: 'incomplete',
      message: '503'
    }
    const rejected: SignerAttestationRun = {
      name: 'b',
      completed: false,
      failure: 'invalid',
      message: 'sig'
    }
    expect(judgeRequirement(requirement(), [missing], PINNED, NOW).result).toBe('absent')
    expect(judgeRequirement(requirement(), [missing, rejected], PINNED, NOW).result).toBe('unmet')
    expect(judgeRequirement(requirement(), [missing, broken], PINNED, NOW).result).toBe(
      'could-not-complete'
    )
    // A statement that meets everything wins over another signer's failure.
    expect(judgeRequirement(requirement(), [...ran(statement()), broken], PINNED, NOW).result).toBe(
      'met'
    )
  })

  it('summarises requirements as one attestation finding, worst first', () => {
    const met = judgeRequirement(requirement(), ran(statement()), PINNED, NOW)
    const absent = judgeRequirement(
      requirement({ type: 'https://spdx.dev/Document' }),
      [{ name: 'a', completed: false, failure: 'missing', message: 'none' }],
      PINNED,
      NOW
    )
    expect(summariseRequirements('enforce', [met]).outcome).toBe('verified')
    expect(summariseRequirements('enforce', [met, absent])).toMatchObject({
      outcome: 'attestation-missing',
      predicateType: 'https://spdx.dev/Document'
    })
  })
})
