/**
 * A provenance report read back into the run it was built from, so that
 * `command: merge` renders its merged run with the same report, summary,
 * annotations and outputs as a single run (`buildReport(runFromReport(r))`
 * gives `r` back). Pure. What the report does not hold is filled from what it
 * does: the effective policy's attestation type from the attestation, the
 * signer from `signature.expected` (its text is all the summary uses), the
 * row's location from `row.file` and `row.line`.
 */
import type { ConfigIssue } from '../domain/errors.js'
import {
  UNNAMED_SIGNER,
  type Digest,
  type ImageResult,
  type NamedSigner,
  type RequirementFinding,
  type RunResult,
  type SignerFinding
} from '../domain/types.js'
import type { ProvenanceReport, ReportImage } from './report.js'

/**
 * The trust model an image was judged under, from what its report shows:
 * named signers (any signer but the row's own), a threshold above one, or a
 * requirement with conditions mean `signers`; otherwise `row-signer`.
 */
function trustModelOf(image: ReportImage): 'signers' | 'row-signer' {
  const named =
    image.signers.some(signer => signer.name !== UNNAMED_SIGNER) ||
    image.attestations.some(requirement =>
      requirement.signers.some(name => name !== UNNAMED_SIGNER)
    )
  const conditions = image.attestations.some(requirement => requirement.conditions.length > 0)
  return named || image.threshold.required > 1 || conditions ? 'signers' : 'row-signer'
}

/** The image's signers as far as the report names them (names and kinds; enough to render). */
function signersOf(image: ReportImage): NamedSigner[] {
  const names = [
    ...new Set([
      ...image.signers.map(signer => signer.name),
      ...image.attestations.flatMap(requirement => requirement.signers)
    ])
  ]
  return names.map(name => {
    const kind = image.signers.find(signer => signer.name === name)?.kind
    return kind === 'keyless'
      ? { name, kind, identity: '', issuer: '', issuerIsRegexp: false }
      : { name, kind: 'key' as const, keyPath: '' }
  })
}

function imageFromReport(image: ReportImage): ImageResult {
  const location =
    image.row.file !== undefined && image.row.line !== undefined
      ? { file: image.row.file, line: image.row.line, column: 1 }
      : undefined
  const pinned = image.pinnedDigest as Digest | undefined
  const { signature, attestation } = image
  const trustModel = trustModelOf(image)
  return {
    findings: {
      plan: {
        row: {
          index: image.row.index,
          version: image.row.version,
          os: image.row.os,
          pin: pinned ? { kind: 'pinned', digest: pinned } : { kind: 'not-pinned', raw: '' },
          ...(image.added !== undefined && { added: image.added }),
          ...(location && { digestLocation: location })
        },
        registry: image.registry,
        repositoryPath: image.repository.slice(image.registry.length + 1),
        repository: image.repository,
        tag: image.tag,
        reference: image.reference,
        ...(signature.expected !== undefined && {
          signer: { kind: 'key' as const, keyPath: signature.expected }
        }),
        signers: signersOf(image),
        threshold: image.threshold.required,
        trustModel,
        policy: {
          mode: image.policy.mode,
          digestTtlDays: image.policy.digestTtlDays,
          requireSignature: image.policy.requireSignature,
          attestMode: image.policy.attestMode,
          attestationType: attestation.predicateType,
          ignoreTlog: !signature.tlogChecked,
          ...(image.policy.override !== undefined && { override: image.policy.override }),
          sources: image.policy.sources
        }
      },
      digest: {
        status: image.digestStatus,
        pinnedDigest: pinned,
        currentDigest: image.currentDigest as Digest | undefined,
        pinnedKind: image.pinnedKind as 'index' | 'manifest' | 'platform-manifest' | undefined,
        pinnedPlatform: image.pinnedPlatform
      },
      age: {
        added: image.added,
        ageDays: image.ageDays,
        ttlDays: image.ttlDays,
        stale: image.stale,
        note: image.ageNote
      },
      signature: {
        outcome: signature.status,
        expected: signature.expected,
        identity: signature.identity,
        issuer: signature.issuer,
        keyFingerprint: signature.keyFingerprint,
        rekorLogIndex: signature.rekorLogIndex,
        signedAt: signature.signedAt,
        count: signature.count,
        tlogChecked: signature.tlogChecked,
        message: signature.message,
        attempts: signature.attempts,
        signers: image.signers.map((signer): SignerFinding => ({
          name: signer.name,
          kind: signer.kind === 'keyless' ? 'keyless' : 'key',
          result: signer.result,
          counted: signer.counted,
          signingTime: signer.signingTime,
          signingTimeSource: signer.signingTimeSource,
          // Not in the report: the cosign outcome behind the result.
          outcome: signer.result === 'verified' ? 'verified' : 'invalid',
          identity: signer.identity,
          issuer: signer.issuer,
          keyFingerprint: signer.keyFingerprint,
          message: signer.message
        })),
        threshold: image.threshold
      },
      attestation: {
        outcome: attestation.status,
        mode: attestation.mode,
        predicateType: attestation.predicateType,
        digest: attestation.digest as Digest | undefined,
        subjectDigest: attestation.subjectDigest as Digest | undefined,
        builderId: attestation.builder,
        count: attestation.count,
        message: attestation.message,
        attempts: attestation.attempts
      },
      ...(trustModel === 'signers' && {
        requirements: image.attestations.map((requirement): RequirementFinding => ({
          type: requirement.type,
          result: requirement.result,
          conditions: requirement.conditions,
          statementDigest: requirement.statementDigest as Digest | undefined,
          signers: requirement.signers,
          signedBy: requirement.signedBy,
          message: requirement.message
        }))
      }),
      errors: image.errors,
      ...(image.cache && { cache: image.cache })
    },
    decision: {
      code: image.code,
      rawCode: image.rawCode,
      trustStatus: image.trustStatus,
      path: image.decisionPath,
      policyDecision: image.policyDecision
    }
  }
}

/** The run a report was built from, as far as the report holds it. */
export function runFromReport(report: ProvenanceReport): RunResult {
  const run = report.run
  return {
    exitCode: report.exitCode,
    decision: report.decision,
    trustStatus: report.trustStatus,
    images: report.images.map(imageFromReport),
    ...(report.preferredImage !== undefined && { preferredImage: report.preferredImage }),
    ...(report.preferredReason !== undefined && { preferredReason: report.preferredReason }),
    configIssues: report.configIssues as ConfigIssue[],
    errors: report.errors,
    ...(run.cosignVersion !== undefined && {
      cosign: { gitVersion: run.cosignVersion, path: run.cosignPath ?? '' }
    }),
    ...(run.cache && { cache: run.cache }),
    ...(run.throttles && { throttles: run.throttles }),
    ...(run.shard && { shard: run.shard }),
    ...(run.configDigest !== undefined && { configDigest: run.configDigest }),
    startedAt: run.startedAt,
    finishedAt: run.finishedAt
  }
}
