/**
 * Plain-value fixtures for the decision, report, summary and hand-off tests:
 * one image's findings with sensible defaults (pinned, matching, fresh,
 * not required to be signed, no signer, attestations off), changed per test.
 */
import type {
  AttestationFinding,
  Digest,
  EffectivePolicy,
  ImageFindings,
  ImagePlan,
  ImageResult,
  RunResult,
  SignatureFinding,
  SignerExpectation
} from '../../src/domain/types.js'
import type { ConfigIssue } from '../../src/domain/errors.js'
import { decideImage, summariseRun } from '../../src/domain/decide.js'

export const PINNED: Digest = `sha256:${'a'.repeat(64)}`
export const CURRENT: Digest = `sha256:${'b'.repeat(64)}`
export const KEY_SIGNER: SignerExpectation = { kind: 'key', keyPath: 'ci/provenance_keys/rocm.pub' }
export const KEYLESS_SIGNER: SignerExpectation = {
  kind: 'keyless',
  identity: '^https://github.com/example/rocm-images/.github/workflows/release.yml@refs/tags/.*$',
  issuer: 'https://token.actions.githubusercontent.com',
  issuerIsRegexp: false
}

export interface FindingsChanges {
  policy?: Partial<EffectivePolicy>
  signer?: SignerExpectation
  digest?: Partial<ImageFindings['digest']>
  age?: Partial<ImageFindings['age']>
  signature?: Partial<SignatureFinding>
  attestation?: Partial<AttestationFinding>
  errors?: string[]
  plan?: Partial<ImagePlan>
}

export function makeFindings(changes: FindingsChanges = {}, index = 0): ImageFindings {
  const policy: EffectivePolicy = {
    mode: 'strict',
    digestTtlDays: 7,
    requireSignature: false,
    attestMode: 'none',
    attestationType: 'https://slsa.dev/provenance/v1',
    ignoreTlog: false,
    sources: [],
    ...changes.policy
  }
  const tag = `6.4.${index}-ubuntu-22.04`
  const plan: ImagePlan = {
    row: {
      index,
      version: `6.4.${index}`,
      os: 'ubuntu-22.04',
      pin:
        changes.digest?.status === 'not-pinned'
          ? { kind: 'not-pinned', raw: 'sha256:TODO_NEXT_RELEASE' }
          : { kind: 'pinned', digest: PINNED },
      added: '2026-11-20',
      location: { file: 'ci/rocm_matrix.yml', line: 3 + index * 5, column: 7 },
      digestLocation: { file: 'ci/rocm_matrix.yml', line: 5 + index * 5, column: 15 }
    },
    registry: 'ghcr.io',
    repositoryPath: 'rocm/dev',
    repository: 'ghcr.io/rocm/dev',
    tag,
    reference: `ghcr.io/rocm/dev:${tag}`,
    policy,
    ...(changes.signer ? { signer: changes.signer } : {}),
    ...changes.plan
  }
  return {
    plan,
    digest: { status: 'match', pinnedDigest: PINNED, currentDigest: PINNED, ...changes.digest },
    age: {
      added: '2026-11-20',
      ageDays: 3,
      ttlDays: policy.digestTtlDays,
      stale: false,
      ...changes.age
    },
    signature: { outcome: 'skipped', count: 0, tlogChecked: true, ...changes.signature },
    attestation: {
      outcome: 'skipped',
      mode: policy.attestMode,
      predicateType: policy.attestationType,
      ...changes.attestation
    },
    errors: changes.errors ?? []
  }
}

export function makeImage(changes: FindingsChanges = {}, index = 0): ImageResult {
  const findings = makeFindings(changes, index)
  return { findings, decision: decideImage(findings) }
}

export function makeRun(
  images: ImageResult[],
  extra: { configIssues?: ConfigIssue[]; errors?: string[] } = {}
): RunResult {
  const configIssues = extra.configIssues ?? []
  return {
    ...summariseRun(
      images.map(image => image.decision),
      configIssues
    ),
    images,
    configIssues,
    errors: extra.errors ?? [],
    cosign: { gitVersion: 'v3.1.1', path: '/opt/cosign' },
    startedAt: '2026-11-26T10:00:00.000Z',
    finishedAt: '2026-11-26T10:00:05.000Z'
  }
}

/** A verified key-based signature. */
export const VERIFIED_BY_KEY: Partial<SignatureFinding> = {
  outcome: 'verified',
  expected: KEY_SIGNER.kind === 'key' ? KEY_SIGNER.keyPath : undefined,
  keyFingerprint: `sha256:${'c'.repeat(64)}`,
  count: 1,
  tlogChecked: false
}

/** A verified keyless signature with a log entry. */
export const VERIFIED_KEYLESS: Partial<SignatureFinding> = {
  outcome: 'verified',
  identity: 'https://github.com/example/rocm-images/.github/workflows/release.yml@refs/tags/v6.4.4',
  issuer: 'https://token.actions.githubusercontent.com',
  rekorLogIndex: 123456789,
  signedAt: '2026-11-19T08:00:00Z',
  count: 1,
  tlogChecked: true
}
