import { describe, expect, it } from '@jest/globals'
import { checkAge } from '../../src/domain/age.js'
import { decideImage, summariseRun } from '../../src/domain/decide.js'
import type { ImageDecision, PolicyMode, TrustStatus } from '../../src/domain/types.js'
import {
  CURRENT,
  KEY_SIGNER,
  KEYLESS_SIGNER,
  makeFindings,
  VERIFIED_BY_KEY,
  type FindingsChanges
} from '../helpers/run-fixtures.js'

interface Case {
  name: string
  changes: FindingsChanges
  rawCode: 0 | 1 | 2 | 3
  trust: TrustStatus
}

const REQUIRED = { requireSignature: true }
const INCOMPLETE = ['transient', 'registry-auth', 'tool-error', 'not-found'] as const

const CASES: Case[] = [
  { name: 'everything fine, no signer, not required', changes: {}, rawCode: 0, trust: 'unsigned' },
  {
    name: 'digest drift',
    changes: { digest: { status: 'drift', currentDigest: CURRENT } },
    rawCode: 2,
    trust: 'unsigned'
  },
  {
    name: 'tag missing',
    changes: { digest: { status: 'tag-missing', currentDigest: undefined } },
    rawCode: 2,
    trust: 'unsigned'
  },
  {
    name: 'not pinned',
    changes: { digest: { status: 'not-pinned', pinnedDigest: undefined } },
    rawCode: 2,
    trust: 'unsigned'
  },
  {
    name: 'registry unreachable',
    changes: {
      digest: { status: 'unreachable', currentDigest: undefined, cause: 'connect ECONNREFUSED' }
    },
    rawCode: 2,
    trust: 'unsigned'
  },
  {
    name: 'registry refused access (a credential problem)',
    changes: {
      digest: {
        status: 'access-denied',
        currentDigest: undefined,
        cause: 'REGISTRY_AUTH: credentials were refused by registry.example'
      }
    },
    rawCode: 2,
    trust: 'unsigned'
  },
  {
    name: 'stale pin',
    changes: { age: { ageDays: 30, stale: true } },
    rawCode: 1,
    trust: 'unsigned'
  },
  {
    name: 'unknown age is not stale',
    changes: { age: { added: undefined, ageDays: undefined, note: 'no added date' } },
    rawCode: 0,
    trust: 'unsigned'
  },
  {
    name: 'required signature verified',
    changes: { policy: REQUIRED, signer: KEY_SIGNER, signature: VERIFIED_BY_KEY },
    rawCode: 0,
    trust: 'valid'
  },
  {
    name: 'required signature missing',
    changes: {
      policy: REQUIRED,
      signer: KEY_SIGNER,
      signature: { outcome: 'unsigned', message: 'no signatures found' }
    },
    rawCode: 3,
    trust: 'unsigned'
  },
  {
    name: 'required signature invalid',
    changes: { policy: REQUIRED, signer: KEY_SIGNER, signature: { outcome: 'invalid' } },
    rawCode: 3,
    trust: 'invalid'
  },
  {
    name: 'required signature expired',
    changes: { policy: REQUIRED, signer: KEYLESS_SIGNER, signature: { outcome: 'expired' } },
    rawCode: 3,
    trust: 'expired'
  },
  {
    name: 'required, but no signer named and nothing checked',
    changes: { policy: REQUIRED, signature: { outcome: 'skipped' } },
    rawCode: 3,
    trust: 'unknown'
  },
  {
    name: 'required, not pinned so the check could not run',
    changes: {
      policy: REQUIRED,
      signer: KEY_SIGNER,
      digest: { status: 'not-pinned', pinnedDigest: undefined }
    },
    rawCode: 3,
    trust: 'unknown'
  },
  {
    name: 'not required, key named, signature invalid',
    changes: { signer: KEY_SIGNER, signature: { outcome: 'invalid' } },
    rawCode: 1,
    trust: 'invalid'
  },
  {
    name: 'not required, identity named, unsigned',
    changes: { signer: KEYLESS_SIGNER, signature: { outcome: 'unsigned' } },
    rawCode: 1,
    trust: 'unsigned'
  },
  {
    name: 'not required, key named, expired',
    changes: { signer: KEY_SIGNER, signature: { outcome: 'expired' } },
    rawCode: 1,
    trust: 'expired'
  },
  {
    name: 'not required, no signer, unsigned is recorded at 0',
    changes: { signature: { outcome: 'unsigned' } },
    rawCode: 0,
    trust: 'unsigned'
  },
  {
    name: 'not required, key named, verified',
    changes: { signer: KEY_SIGNER, signature: VERIFIED_BY_KEY },
    rawCode: 0,
    trust: 'valid'
  },
  ...INCOMPLETE.flatMap((outcome): Case[] => [
    {
      name: `required, check could not complete (${outcome})`,
      changes: { policy: REQUIRED, signer: KEY_SIGNER, signature: { outcome, attempts: 3 } },
      rawCode: 3,
      trust: 'unknown'
    },
    {
      name: `not required, signer named, check could not complete (${outcome})`,
      changes: { signer: KEYLESS_SIGNER, signature: { outcome } },
      rawCode: 1,
      trust: 'unknown'
    }
  ]),
  ...(
    ['verified', 'attestation-missing', 'attestation-invalid', 'transient', 'skipped'] as const
  ).map((outcome): Case => ({
    name: `record never fails (${outcome})`,
    changes: {
      policy: { attestMode: 'record' },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY,
      attestation: { outcome }
    },
    rawCode: 0,
    trust: 'valid'
  })),
  {
    name: 'enforce, attestation verified',
    changes: {
      policy: { attestMode: 'enforce' },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY,
      attestation: { outcome: 'verified' }
    },
    rawCode: 0,
    trust: 'valid'
  },
  {
    name: 'enforce, attestation missing',
    changes: {
      policy: { attestMode: 'enforce' },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY,
      attestation: { outcome: 'attestation-missing' }
    },
    rawCode: 3,
    trust: 'unknown'
  },
  {
    name: 'enforce, attestation invalid',
    changes: {
      policy: { attestMode: 'enforce' },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY,
      attestation: { outcome: 'attestation-invalid' }
    },
    rawCode: 3,
    trust: 'invalid'
  },
  {
    name: 'enforce, attestation check could not complete',
    changes: {
      policy: { attestMode: 'enforce' },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY,
      attestation: { outcome: 'transient' }
    },
    rawCode: 3,
    trust: 'unknown'
  },
  {
    name: 'none ignores a missing attestation',
    changes: { policy: { attestMode: 'none' }, attestation: { outcome: 'attestation-missing' } },
    rawCode: 0,
    trust: 'unsigned'
  },
  {
    name: 'the highest severity wins: drift, stale and a failed optional signature',
    changes: {
      digest: { status: 'drift', currentDigest: CURRENT },
      age: { ageDays: 30, stale: true },
      signer: KEY_SIGNER,
      signature: { outcome: 'invalid' }
    },
    rawCode: 2,
    trust: 'invalid'
  },
  {
    name: 'a verified signature does not hide drift',
    changes: {
      digest: { status: 'drift', currentDigest: CURRENT },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY
    },
    rawCode: 2,
    trust: 'valid'
  }
]

const MODES: PolicyMode[] = ['strict', 'warn', 'auto_update']

function expectedCode(mode: PolicyMode, raw: 0 | 1 | 2 | 3): 0 | 1 | 2 | 3 {
  return mode === 'strict' || raw < 2 ? raw : 1
}

describe('decideImage', () => {
  describe.each(MODES)('when mode is %s', mode => {
    it.each(CASES)('$name', ({ changes, rawCode, trust }) => {
      const decision = decideImage(
        makeFindings({ ...changes, policy: { ...changes.policy, mode } })
      )
      expect(decision.rawCode).toBe(rawCode)
      expect(decision.code).toBe(expectedCode(mode, rawCode))
      expect(decision.trustStatus).toBe(trust)
      const policy = { requireSignature: false, attestMode: 'none', ...changes.policy }
      expect(decision.policyDecision).toBe(
        `mode=${mode}|require_sig=${policy.requireSignature}|attest=${policy.attestMode}|status=${decision.code}`
      )
      expect(decision.path.at(-1)).toMatch(/^mode: /)
    })
  })

  it('never reports a check that could not complete as valid or unsigned', () => {
    for (const outcome of INCOMPLETE) {
      for (const requireSignature of [true, false]) {
        const { trustStatus } = decideImage(
          makeFindings({ policy: { requireSignature }, signer: KEY_SIGNER, signature: { outcome } })
        )
        expect(trustStatus).toBe('unknown')
      }
    }
  })

  describe('the decision path', () => {
    it('names each check in order, the policy key and its source, and the downgrade', () => {
      const decision = decideImage(
        makeFindings({
          policy: {
            mode: 'warn',
            requireSignature: true,
            override: 'ghcr.io/rocm/*',
            sources: [
              'require_signature=true (override "ghcr.io/rocm/*")',
              'mode=warn (ci/rocm_policy.yml:2)'
            ]
          },
          signer: KEY_SIGNER,
          signature: {
            outcome: 'invalid',
            expected: 'ci/provenance_keys/rocm.pub',
            message: 'invalid signature\nmore'
          }
        })
      )
      expect(decision.path).toEqual([
        'policy: override "ghcr.io/rocm/*" applies',
        `digest: ghcr.io/rocm/dev:6.4.0-ubuntu-22.04 still points at the pinned sha256:aaaaaaaaaaaa`,
        'age: pinned 2026-11-20, 3 days old, within digest_ttl=7',
        'signature: signature invalid (expected signer ci/provenance_keys/rocm.pub): invalid signature; required by require_signature=true (override "ghcr.io/rocm/*") → 3',
        'attestation: not checked (attest_mode=none)',
        'mode: mode=warn (ci/rocm_policy.yml:2) downgrades 3 → 1'
      ])
      expect(decision).toMatchObject({
        rawCode: 3,
        code: 1,
        trustStatus: 'invalid'
      })
    })

    it('says why an unsigned image without a signer costs nothing', () => {
      const { path } = decideImage(makeFindings())
      expect(path[2]).toBe(
        'signature: not checked — the row names no signer and require_signature=false; recorded as unsigned'
      )
    })

    it('names drift with both digests and a stale pin with its TTL', () => {
      const { path } = decideImage(
        makeFindings({
          digest: { status: 'drift', currentDigest: CURRENT },
          age: { ageDays: 30, stale: true },
          policy: { digestTtlDays: 14 }
        })
      )
      expect(path[0]).toContain('drift')
      expect(path[0]).toContain('sha256:bbbbbbbbbbbb')
      expect(path[0]).toContain('sha256:aaaaaaaaaaaa')
      expect(path[1]).toBe(
        'age: pinned 2026-11-20, 30 days old, older than digest_ttl=14 → stale → 1'
      )
    })

    it('says 1 day old, not 1 days', () => {
      const { path } = decideImage(makeFindings({ age: { ageDays: 1, stale: false } }))
      expect(path[1]).toMatch(/, 1 day old, within digest_ttl=7$/)
    })

    it('names the attempts and the outcome of a check that could not complete', () => {
      const { path } = decideImage(
        makeFindings({
          policy: REQUIRED,
          signer: KEY_SIGNER,
          signature: { outcome: 'transient', attempts: 3, message: 'UNAVAILABLE' }
        })
      )
      expect(path[2]).toMatch(
        /could not complete \(transient\) after 3 attempts.*UNAVAILABLE.*trust unknown, required by require_signature=true → 3/
      )
    })

    it('does not tell the cosign calls of several named signers as attempts of one check', () => {
      const signerResult = (name: string) => ({
        name,
        kind: 'key' as const,
        result: 'could-not-complete' as const,
        counted: false,
        outcome: 'transient' as const,
        attempts: 2
      })
      const { path } = decideImage(
        makeFindings({
          policy: REQUIRED,
          signer: KEY_SIGNER,
          signature: {
            outcome: 'transient',
            attempts: 4,
            message: 'UNAVAILABLE',
            signers: [signerResult('a'), signerResult('b')]
          }
        })
      )
      expect(path[2]).toContain('could not complete (transient)')
      expect(path[2]).not.toContain('attempts')
    })
  })
})

describe('summariseRun', () => {
  const decision = (code: 0 | 1 | 2 | 3, trustStatus: TrustStatus): ImageDecision => ({
    code,
    rawCode: code,
    trustStatus,
    path: [],
    policyDecision: ''
  })

  it.each([
    [[], 0, 'pass', 'unknown'],
    [[decision(0, 'valid')], 0, 'pass', 'valid'],
    [[decision(0, 'valid'), decision(0, 'unsigned')], 0, 'pass', 'unsigned'],
    [[decision(1, 'unknown'), decision(0, 'unsigned')], 1, 'warn', 'unknown'],
    [[decision(2, 'valid'), decision(1, 'expired'), decision(0, 'unknown')], 2, 'fail', 'expired'],
    [[decision(3, 'expired'), decision(2, 'invalid')], 3, 'fail', 'invalid']
  ] as const)(
    '%# takes the highest code and the worst trust',
    (decisions, exitCode, verdict, trustStatus) => {
      expect(summariseRun([...decisions])).toEqual({ exitCode, decision: verdict, trustStatus })
    }
  )

  it('makes any configuration issue exit 4, fail', () => {
    const result = summariseRun(
      [decision(0, 'valid')],
      [{ code: 'unknown-key', message: 'unknown key "mdoe"' }]
    )
    expect(result).toEqual({ exitCode: 4, decision: 'fail', trustStatus: 'valid' })
    expect(summariseRun([], [{ code: 'yaml-syntax', message: 'bad' }])).toEqual({
      exitCode: 4,
      decision: 'fail',
      trustStatus: 'unknown'
    })
  })
})

describe('checkAge', () => {
  const now = new Date('2026-11-27T23:30:00Z')

  it.each([
    ['2026-11-27', 7, 0, false],
    ['2026-11-20', 7, 7, false],
    ['2026-11-19', 7, 8, true],
    ['2025-11-27', 365, 365, false],
    ['2024-02-29', 30, 1002, true]
  ])('added %s with TTL %i is %i days old, stale=%s', (added, ttl, ageDays, stale) => {
    expect(checkAge(added, ttl, now)).toEqual({ added, ageDays, ttlDays: ttl, stale })
  })

  it('leaves the age unknown, not stale, without a date, with a bad one, or one in the future', () => {
    expect(checkAge(undefined, 7, now)).toMatchObject({
      stale: false,
      ttlDays: 7,
      note: expect.stringContaining('no `added`')
    })
    expect(checkAge('2026-02-30', 7, now)).toMatchObject({
      stale: false,
      note: expect.stringContaining('not a YYYY-MM-DD')
    })
    expect(checkAge('20/11/2026', 7, now)).toMatchObject({
      stale: false,
      note: expect.stringContaining('not a YYYY-MM-DD')
    })
    expect(checkAge('2026-12-01', 7, now)).toMatchObject({
      stale: false,
      ageDays: -4,
      note: expect.stringContaining('future')
    })
  })
})

describe('the not-pinned step', () => {
  it('counts rows from 1 and says where the row is written', () => {
    const findings = makeFindings({ digest: { status: 'not-pinned', pinnedDigest: undefined } }, 2)
    findings.plan.row.location = { file: 'ci/rocm_matrix.yml', line: 14, column: 7 }
    const step = decideImage(findings).path.find(text => text.startsWith('digest:'))
    expect(step).toBe(
      `digest: row 3 (${findings.plan.row.version}, ${findings.plan.row.os}) at ci/rocm_matrix.yml:14:7 is not pinned to a digest yet → 2`
    )
  })
})
