/**
 * The updater's no-regression rule and cool-down, on plain values: what
 * counts as a pin's evidence, what a candidate must keep, and which signing
 * times count for `min_age_days`.
 */
import { describe, expect, it } from '@jest/globals'
import { checkCoolDown, verifiedSigningTime } from '../../src/domain/cool-down.js'
import {
  compareEvidence,
  describeRequirement,
  evidenceOf,
  type JudgedTrust
} from '../../src/domain/regression.js'
import type {
  ImagePlan,
  PlannedRequirement,
  RequirementFinding,
  SignerFinding
} from '../../src/domain/types.js'

const SLSA: PlannedRequirement = {
  type: 'slsaprovenance1',
  signers: [{ kind: 'key', keyPath: 'ci/keys/ci.pub', name: 'images-ci' }],
  where: [{ path: 'predicate.runDetails.builder.id', pattern: '^https://github.com/rocm/' }]
}
const SBOM: PlannedRequirement = {
  type: 'https://spdx.dev/Document',
  signers: SLSA.signers,
  where: []
}

const signersPlan = {
  trustModel: 'signers',
  requirements: [SLSA, SBOM],
  policy: { attestMode: 'record', attestationType: 'https://slsa.dev/provenance/v1' }
} as unknown as ImagePlan

const rowPlan = {
  trustModel: 'row-signer',
  signer: { kind: 'key', keyPath: 'ci/keys/stable.pub' },
  policy: { attestMode: 'record', attestationType: 'https://slsa.dev/provenance/v1' }
} as unknown as ImagePlan

function signer(name: string, counted: boolean, extra: Partial<SignerFinding> = {}): SignerFinding {
  return {
    name,
    kind: 'key',
    result: counted ? 'verified' : 'absent',
    counted,
    outcome: counted ? 'verified' : 'unsigned',
    ...(counted && { keyFingerprint: `sha256:${name.padEnd(64, '0').slice(0, 64)}` }),
    ...extra
  }
}

function requirement(
  planned: PlannedRequirement,
  result: RequirementFinding['result'],
  message?: string
): RequirementFinding {
  return {
    type: planned.type,
    result,
    conditions: [],
    signers: planned.signers.map(s => s.name),
    ...(result === 'met' && { signedBy: planned.signers[0].name }),
    ...(message !== undefined && { message })
  }
}

function judged(signers: SignerFinding[], requirements: RequirementFinding[]): JudgedTrust {
  return {
    signature: {
      outcome: signers.some(s => s.counted) ? 'verified' : 'unsigned',
      count: signers.filter(s => s.counted).length,
      tlogChecked: true,
      signers
    },
    attestation: { outcome: 'verified', mode: 'record', predicateType: SLSA.type },
    requirements
  }
}

describe('evidenceOf and compareEvidence', () => {
  const both = judged(
    [signer('release', true), signer('images-ci', true)],
    [requirement(SLSA, 'met'), requirement(SBOM, 'absent')]
  )

  it('keeps a candidate with the same or more evidence', () => {
    const current = evidenceOf(signersPlan, both)
    expect(current.evidence).toEqual({
      signers: [
        { name: 'release', who: expect.stringMatching(/^key sha256:/) },
        { name: 'images-ci', who: expect.stringMatching(/^key sha256:/) }
      ],
      attestations: [
        {
          requirement:
            'SLSA provenance with predicate.runDetails.builder.id matching "^https://github.com/rocm/"',
          signedBy: 'images-ci'
        }
      ]
    })
    expect(compareEvidence(current, evidenceOf(signersPlan, both))).toEqual({ regressed: false })
    const more = judged(
      [signer('release', true), signer('images-ci', true)],
      [requirement(SLSA, 'met'), requirement(SBOM, 'met')]
    )
    expect(compareEvidence(current, evidenceOf(signersPlan, more))).toEqual({ regressed: false })
  })

  it('names the signer a candidate signed by fewer distinct signers would lose', () => {
    const fewer = judged(
      [signer('release', true), signer('images-ci', false)],
      [requirement(SLSA, 'met'), requirement(SBOM, 'absent')]
    )
    expect(compareEvidence(evidenceOf(signersPlan, both), evidenceOf(signersPlan, fewer))).toEqual({
      regressed: true,
      losses: [
        'current pin is signed by 2 distinct trusted signers (release, images-ci); candidate by 1 (release): images-ci would be lost'
      ]
    })
  })

  it('refuses a candidate that loses an attestation the pin had, even under record', () => {
    const lost = judged(
      [signer('release', true), signer('images-ci', true)],
      [requirement(SLSA, 'absent'), requirement(SBOM, 'met')]
    )
    expect(compareEvidence(evidenceOf(signersPlan, both), evidenceOf(signersPlan, lost))).toEqual({
      regressed: true,
      losses: [
        'current pin has SLSA provenance with predicate.runDetails.builder.id matching "^https://github.com/rocm/" by images-ci; candidate has none'
      ]
    })
    const unmet = judged(
      [signer('release', true), signer('images-ci', true)],
      [
        requirement(SLSA, 'unmet', 'predicate.runDetails.builder.id fails …'),
        requirement(SBOM, 'met')
      ]
    )
    const verdict = compareEvidence(evidenceOf(signersPlan, both), evidenceOf(signersPlan, unmet))
    expect(verdict.regressed && verdict.losses[0]).toMatch(
      /by images-ci; candidate's does not meet it \(predicate.runDetails.builder.id fails …\)$/
    )
  })

  it('tells apart two requirements of the same type by their place in the plan', () => {
    const byRelease: PlannedRequirement = {
      ...SBOM,
      signers: [{ kind: 'key', keyPath: 'ci/keys/release.pub', name: 'release' }]
    }
    const plan = { ...signersPlan, requirements: [SBOM, byRelease] } as ImagePlan
    const pin = judged(
      [signer('release', true)],
      [requirement(SBOM, 'absent'), requirement(byRelease, 'met')]
    )
    const candidate = judged(
      [signer('release', true)],
      [requirement(SBOM, 'met'), requirement(byRelease, 'absent')]
    )
    expect(compareEvidence(evidenceOf(plan, pin), evidenceOf(plan, candidate))).toEqual({
      regressed: true,
      losses: ['current pin has an SPDX SBOM by release; candidate has none']
    })
  })

  it('reads attestation_type alone as the requirement under the row-signer model', () => {
    const pin: JudgedTrust = {
      signature: {
        outcome: 'verified',
        count: 1,
        tlogChecked: false,
        keyFingerprint: 'sha256:' + 'ab'.repeat(32),
        signers: [signer('provenance', true, { keyFingerprint: 'sha256:' + 'ab'.repeat(32) })]
      },
      attestation: { outcome: 'verified', mode: 'record', predicateType: SLSA.type }
    }
    const candidate: JudgedTrust = {
      ...pin,
      attestation: {
        outcome: 'attestation-missing',
        mode: 'record',
        predicateType: SLSA.type,
        message: 'no attestation'
      }
    }
    expect(compareEvidence(evidenceOf(rowPlan, pin), evidenceOf(rowPlan, candidate))).toEqual({
      regressed: true,
      losses: [
        `current pin has SLSA provenance by key sha256:${'ab'.repeat(32)}; candidate has none`
      ]
    })
  })

  it('finds nothing to lose in a pin with no evidence, and refuses when the pin could not be judged', () => {
    const unsigned = judged([signer('release', false)], [])
    const candidate = judged([], [])
    expect(
      compareEvidence(evidenceOf(signersPlan, unsigned), evidenceOf(signersPlan, candidate))
    ).toEqual({ regressed: false })
    const unknown = judged(
      [
        signer('release', false, {
          result: 'could-not-complete',
          outcome: 'transient',
          message: 'registry answered 503'
        })
      ],
      []
    )
    expect(
      compareEvidence(evidenceOf(signersPlan, unknown), evidenceOf(signersPlan, both))
    ).toEqual({
      regressed: true,
      losses: [
        "the current pin's evidence could not be judged (release: registry answered 503), so the candidate cannot be shown to keep it"
      ]
    })
  })

  it('describes requirements by their type and conditions', () => {
    expect(describeRequirement({ ...SBOM, maxAgeDays: 7 })).toBe(
      'an SPDX SBOM with at most 7 days old'
    )
    expect(describeRequirement({ ...SBOM, type: 'https://example.com/x/v1' })).toBe(
      'an attestation of type https://example.com/x/v1'
    )
  })
})

describe('verifiedSigningTime and checkCoolDown', () => {
  const NOW = new Date('2026-11-30T12:00:00Z')
  const at = (daysAgo: number): string =>
    new Date(NOW.getTime() - daysAgo * 24 * 60 * 60 * 1000).toISOString()

  it('takes the earliest log or timestamp time of a signer that counted, never the run’s', () => {
    expect(
      verifiedSigningTime({
        signers: [
          signer('a', true, { signingTime: at(1), signingTimeSource: 'tlog' }),
          signer('b', true, { signingTime: at(9), signingTimeSource: 'run' }),
          signer('c', false, { signingTime: at(8), signingTimeSource: 'tlog' }),
          signer('d', true, { signingTime: at(4), signingTimeSource: 'tsa' })
        ]
      })
    ).toEqual({ at: at(4), source: 'tsa', signer: 'd' })
    expect(
      verifiedSigningTime({
        signers: [signer('a', true, { signingTime: at(9), signingTimeSource: 'run' })]
      })
    ).toBeUndefined()
  })

  it('refuses a candidate younger than min_age_days, or of unverifiable age', () => {
    const signed = (daysAgo: number) => ({ at: at(daysAgo), source: 'tlog' as const, signer: 'ci' })
    expect(checkCoolDown(signed(5), 3, NOW)).toEqual({ passes: true, signedAt: signed(5) })
    expect(checkCoolDown(signed(3), 3, NOW).passes).toBe(true)
    expect(checkCoolDown(signed(1), 3, NOW)).toEqual({
      passes: false,
      reason: `min_age_days is 3: the candidate was signed ${at(1)} (transparency log, ci), 1.0 days ago; it may be written from ${at(-2)}`
    })
    expect(checkCoolDown(undefined, 3, NOW)).toEqual({
      passes: false,
      reason: expect.stringMatching(
        /^min_age_days is 3, but the candidate's signing time could not be verified/
      )
    })
    expect(checkCoolDown(undefined, 0, NOW)).toEqual({ passes: true })
  })
})
