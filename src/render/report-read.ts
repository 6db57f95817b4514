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
import type { Digest, ImageResult, RunResult } from '../domain/types.js'
import type { ProvenanceReport, ReportImage } from './report.js'

function imageFromReport(image: ReportImage): ImageResult {
  const location =
    image.row.file !== undefined && image.row.line !== undefined
      ? { file: image.row.file, line: image.row.line, column: 1 }
      : undefined
  const pinned = image.pinnedDigest as Digest | undefined
  const { signature, attestation } = image
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
        attempts: signature.attempts
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
