/**
 * `rocm_provenance.json`: the versioned report document, built from a run.
 * Pure. The five keys Clamp's telemetry reader copies (`trustStatus`,
 * `issuer`, `timestamp`, `digestAlgorithm`, `policyDecision`) come first, right
 * after `schemaVersion`, because that reader takes the first occurrence of
 * each key in the text; nested objects reuse some of those names.
 */
import { decisionFor } from '../domain/decide.js'
import type { ConfigIssue } from '../domain/errors.js'
import type {
  AttestationOutcome,
  AttestMode,
  Decision,
  DigestStatus,
  ExitCode,
  ImageCacheUse,
  ImageResult,
  PolicyMode,
  RegistryThrottle,
  RequirementResult,
  RunCacheStatus,
  RunResult,
  SignerResult,
  SignatureOutcome,
  TrustStatus
} from '../domain/types.js'

/**
 * 1.1.0 (4.1): images gained `signers`, `threshold` and `attestations` (issue 18).
 * 1.2.0: `run.cache`, `run.throttles`, `run.shard`, `run.configDigest` and
 * `images[].cache` (issue 17).
 */
const REPORT_SCHEMA_VERSION = '1.2.0'
const DIGEST_ALGORITHM = 'sha256'
/** `issuer` when no image has a verified signature. */
const NO_ISSUER = 'none'
/** A `policyDecision` field the images disagree on. */
const MIXED = 'mixed'

export interface ReportMetadata {
  actionVersion: string
  policyPath: string
  matrixPath: string
  repository?: string
  runId?: string
  runUrl?: string
}

interface ReportSignature {
  status: SignatureOutcome
  expected?: string
  identity?: string
  issuer?: string
  rekorLogIndex?: number
  signedAt?: string
  keyFingerprint?: string
  count: number
  tlogChecked: boolean
  message?: string
  attempts?: number
}

interface ReportAttestation {
  mode: AttestMode
  status: AttestationOutcome
  predicateType: string
  digest?: string
  subjectDigest?: string
  builder?: string
  count?: number
  message?: string
  attempts?: number
}

/** One trusted signer's result for one image. */
interface ReportSigner {
  name: string
  kind: 'key' | 'keyless' | 'github'
  result: SignerResult
  counted: boolean
  signingTime?: string
  signingTimeSource?: 'tlog' | 'tsa' | 'run'
  identity?: string
  issuer?: string
  keyFingerprint?: string
  message?: string
}

/** One attestation requirement's result for one image. */
interface ReportRequirement {
  type: string
  result: RequirementResult
  conditions: { path: string; pattern: string; value?: string; met: boolean }[]
  statementDigest?: string
  signers: string[]
  signedBy?: string
  message?: string
}

export interface ReportImage {
  reference: string
  registry: string
  repository: string
  tag: string
  row: { index: number; version: string; os: string; file?: string; line?: number }
  digestStatus: DigestStatus
  pinnedDigest?: string
  currentDigest?: string
  pinnedKind?: string
  pinnedPlatform?: string
  digestAlgorithm: string
  added?: string
  ageDays?: number
  ttlDays: number
  stale: boolean
  ageNote?: string
  signature: ReportSignature
  attestation: ReportAttestation
  /** Every trusted signer of the image and its result (empty when no check ran). */
  signers: ReportSigner[]
  /** Distinct trusted signers required, and whether that many counted. */
  threshold: { required: number; counted: number; met: boolean }
  /** One entry per attestation requirement (attest_mode other than none). */
  attestations: ReportRequirement[]
  policy: {
    mode: PolicyMode
    requireSignature: boolean
    attestMode: AttestMode
    digestTtlDays: number
    override?: string
    sources: string[]
  }
  trustStatus: TrustStatus
  code: 0 | 1 | 2 | 3
  rawCode: 0 | 1 | 2 | 3
  decision: Decision
  policyDecision: string
  decisionPath: string[]
  errors: string[]
  cache?: ImageCacheUse
}

export interface ProvenanceReport {
  schemaVersion: string
  trustStatus: TrustStatus
  issuer: string
  timestamp: string
  digestAlgorithm: string
  policyDecision: string
  exitCode: ExitCode
  decision: Decision
  run: {
    actionVersion: string
    cosignVersion?: string
    cosignPath?: string
    startedAt: string
    finishedAt: string
    policyPath: string
    matrixPath: string
    repository?: string
    runId?: string
    runUrl?: string
    cache?: RunCacheStatus
    throttles?: RegistryThrottle[]
    shard?: { index: number; count: number }
    configDigest?: string
  }
  preferredImage?: string
  preferredReason?: string
  counts: Record<TrustStatus, number>
  configIssues: ConfigIssue[]
  errors: string[]
  images: ReportImage[]
}

/** Drops keys whose value is undefined, so the JSON has no `null`s and a stable shape. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T
}

function agreed<T>(values: T[]): string {
  if (values.length === 0) return 'unknown'
  const distinct = [...new Set(values.map(v => String(v)))]
  return distinct.length === 1 ? distinct[0] : MIXED
}

/**
 * The run's `policyDecision`: each field is the images' common value, `mixed`
 * when they differ, `unknown` when there are no images; `status` is the exit code.
 */
function aggregatePolicyDecision(run: RunResult): string {
  const policies = run.images.map(image => image.findings.plan.policy)
  return [
    `mode=${agreed(policies.map(p => p.mode))}`,
    `require_sig=${agreed(policies.map(p => p.requireSignature))}`,
    `attest=${agreed(policies.map(p => p.attestMode))}`,
    `status=${run.exitCode}`
  ].join('|')
}

/**
 * The run's `issuer`: the distinct issuers of verified signatures, in image
 * order, joined by `, ` — the OIDC issuer for keyless signatures, `key` and the
 * key's fingerprint for key-based ones (under named signers, of every signer
 * that counted) — or `none`.
 */
function aggregateIssuer(run: RunResult): string {
  const issuerOf = (signer: { issuer?: string; keyFingerprint?: string }): string =>
    signer.issuer ?? (signer.keyFingerprint ? `key ${signer.keyFingerprint}` : 'key')
  const issuers = run.images.flatMap(image => {
    const signature = image.findings.signature
    if (signature.outcome !== 'verified') return []
    // Under named signers, every signer that counted.
    if (image.findings.plan.trustModel === 'signers' && signature.signers)
      return signature.signers.filter(s => s.counted).map(issuerOf)
    return [issuerOf(signature)]
  })
  const distinct = [...new Set(issuers)]
  return distinct.length > 0 ? distinct.join(', ') : NO_ISSUER
}

function countTrust(run: RunResult): Record<TrustStatus, number> {
  const counts: Record<TrustStatus, number> = {
    valid: 0,
    unsigned: 0,
    invalid: 0,
    expired: 0,
    unknown: 0
  }
  for (const image of run.images) counts[image.decision.trustStatus] += 1
  return counts
}

/**
 * The attestation requirements as reported: the trust model's own findings,
 * else today's single attestation as one requirement of that type with no
 * conditions (verified → met, missing → absent, invalid → unmet, else
 * could-not-complete); none under attest_mode none or when nothing was checked.
 */
function reportRequirements(image: ImageResult): ReportRequirement[] {
  const { findings } = image
  if (findings.requirements) {
    return findings.requirements.map(requirement =>
      compact<ReportRequirement>({
        type: requirement.type,
        result: requirement.result,
        conditions: requirement.conditions.map(condition => compact({ ...condition })),
        statementDigest: requirement.statementDigest,
        signers: requirement.signers,
        signedBy: requirement.signedBy,
        message: requirement.message
      })
    )
  }
  const { attestation, plan } = findings
  if (attestation.mode === 'none' || attestation.outcome === 'skipped') return []
  const result: RequirementResult =
    attestation.outcome === 'verified'
      ? 'met'
      : attestation.outcome === 'attestation-missing'
        ? 'absent'
        : attestation.outcome === 'attestation-invalid'
          ? 'unmet'
          : 'could-not-complete'
  return [
    compact<ReportRequirement>({
      type: attestation.predicateType,
      result,
      conditions: [],
      statementDigest: attestation.digest,
      signers: (plan.signers ?? []).map(s => s.name),
      message: attestation.message
    })
  ]
}

function reportImage(image: ImageResult): ReportImage {
  const { findings, decision } = image
  const { plan, digest, age, signature, attestation } = findings
  const location = plan.row.digestLocation ?? plan.row.location
  return compact<ReportImage>({
    reference: plan.reference,
    registry: plan.registry,
    repository: plan.repository,
    tag: plan.tag,
    row: compact({
      index: plan.row.index,
      version: plan.row.version,
      os: plan.row.os,
      file: location?.file,
      line: location?.line
    }),
    digestStatus: digest.status,
    pinnedDigest:
      digest.pinnedDigest ?? (plan.row.pin.kind === 'pinned' ? plan.row.pin.digest : undefined),
    currentDigest: digest.currentDigest,
    pinnedKind: digest.pinnedKind,
    pinnedPlatform: digest.pinnedPlatform,
    digestAlgorithm: DIGEST_ALGORITHM,
    added: age.added,
    ageDays: age.ageDays,
    ttlDays: age.ttlDays,
    stale: age.stale,
    ageNote: age.note,
    signature: compact<ReportSignature>({
      status: signature.outcome,
      expected: signature.expected,
      identity: signature.identity,
      issuer: signature.issuer,
      rekorLogIndex: signature.rekorLogIndex,
      signedAt: signature.signedAt,
      keyFingerprint: signature.keyFingerprint,
      count: signature.count,
      tlogChecked: signature.tlogChecked,
      message: signature.message,
      attempts: signature.attempts
    }),
    attestation: compact<ReportAttestation>({
      mode: attestation.mode,
      status: attestation.outcome,
      predicateType: attestation.predicateType,
      digest: attestation.digest,
      subjectDigest: attestation.subjectDigest,
      builder: attestation.builderId,
      count: attestation.count,
      message: attestation.message,
      attempts: attestation.attempts
    }),
    signers: (signature.signers ?? []).map(signer =>
      compact<ReportSigner>({
        name: signer.name,
        kind: signer.kind,
        result: signer.result,
        counted: signer.counted,
        signingTime: signer.signingTime,
        signingTimeSource: signer.signingTimeSource,
        identity: signer.identity,
        issuer: signer.issuer,
        keyFingerprint: signer.keyFingerprint,
        message: signer.message
      })
    ),
    threshold: signature.threshold ?? {
      required: plan.threshold ?? 1,
      counted: 0,
      met: false
    },
    attestations: reportRequirements(image),
    policy: compact({
      mode: plan.policy.mode,
      requireSignature: plan.policy.requireSignature,
      attestMode: plan.policy.attestMode,
      digestTtlDays: plan.policy.digestTtlDays,
      override: plan.policy.override,
      sources: plan.policy.sources
    }),
    trustStatus: decision.trustStatus,
    code: decision.code,
    rawCode: decision.rawCode,
    decision: decisionFor(decision.code),
    policyDecision: decision.policyDecision,
    decisionPath: decision.path,
    errors: findings.errors,
    cache: findings.cache
  })
}

export function buildReport(run: RunResult, meta: ReportMetadata): ProvenanceReport {
  return compact<ProvenanceReport>({
    schemaVersion: REPORT_SCHEMA_VERSION,
    trustStatus: run.trustStatus,
    issuer: aggregateIssuer(run),
    timestamp: run.finishedAt,
    digestAlgorithm: DIGEST_ALGORITHM,
    policyDecision: aggregatePolicyDecision(run),
    exitCode: run.exitCode,
    decision: run.decision,
    run: compact({
      actionVersion: meta.actionVersion,
      cosignVersion: run.cosign?.gitVersion,
      cosignPath: run.cosign?.path,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      policyPath: meta.policyPath,
      matrixPath: meta.matrixPath,
      repository: meta.repository,
      runId: meta.runId,
      runUrl: meta.runUrl,
      cache: run.cache,
      throttles: run.throttles && run.throttles.length > 0 ? run.throttles : undefined,
      shard: run.shard,
      configDigest: run.configDigest
    }),
    preferredImage: run.preferredImage,
    preferredReason: run.preferredReason,
    counts: countTrust(run),
    configIssues: run.configIssues.map(issue =>
      compact({ code: issue.code, message: issue.message, location: issue.location })
    ),
    errors: run.errors,
    images: run.images.map(reportImage)
  })
}

/** The report as written to disk: two-space JSON and a final newline. */
export function serialiseReport(report: ProvenanceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`
}
