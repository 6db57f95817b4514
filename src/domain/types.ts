/**
 * The domain model every stage of the pipeline shares:
 * config → plan → registry → cosign → decide → report.
 * Pure data: no behaviour, no imports of adapters.
 */
import type { ConfigIssue, SourceLocation } from './errors.js'

/** `sha256:` followed by 64 lowercase hex characters. */
export type Digest = `sha256:${string}`

// ---------------------------------------------------------------- config ---

export type PolicyMode = 'strict' | 'warn' | 'auto_update'
export type AttestMode = 'none' | 'record' | 'enforce'

/** SLSA provenance v1, the predicate type `record`/`enforce` look for by default. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1'
export const DEFAULT_REPOSITORY = 'ghcr.io/rocm/dev'
export const DEFAULT_TAG_TEMPLATE = '{version}-{os}'

/** Per-image settings an override may change. */
export interface PolicyOverride {
  /** Glob on `repository:tag` (`*` any run of characters, `?` one). */
  match: string
  requireSignature?: boolean
  attestMode?: AttestMode
  digestTtlDays?: number
  /** Names from the policy's `signers` that may sign the images this entry matches. */
  trustedSigners?: SignerNames
  /** Distinct trusted signers required for the images this entry matches. */
  threshold?: number
  /** Where `threshold` was written. */
  thresholdLocation?: SourceLocation
  location?: SourceLocation
}

/** A list of signer names as written, with where each name was written. */
export interface SignerNames {
  names: string[]
  /** One location per name (the line of the name, for an undefined-name error). */
  locations: SourceLocation[]
  /** Where the list itself was written. */
  location?: SourceLocation
}

/** One `where` condition: a dotted path in the in-toto statement and an RE2 pattern. */
interface WhereCondition {
  path: string
  pattern: string
}

/** One entry of the policy's `attestations` list: what an attestation of `type` must say. */
export interface AttestationRequirement {
  /** The predicate type (a URI), compared with the statement's `predicateType`. */
  type: string
  /** Who may sign it; default: the image's trusted signers. */
  signers?: SignerNames
  where: WhereCondition[]
  /** The statement's time at `timeField` may be at most this many days old. */
  maxAgeDays?: number
  /** Dotted path of an RFC 3339 time in the statement (defaulted for known types). */
  timeField?: string
  location?: SourceLocation
}

/** `ci/rocm_policy.yml`, normalised; every key has its value or its default. */
export interface Policy {
  mode: PolicyMode
  digestTtlDays: number
  workflow: string
  autoUpdateRef: string
  requireSignature: boolean
  attestMode: AttestMode
  attestationType: string
  ignoreTlog: boolean
  /** Path of a Sigstore trusted root JSON, relative to the workspace. */
  trustedRoot?: string
  /** Default repository for rows that name none; may use `{version}` and `{os}`. */
  repository?: string
  tagTemplate: string
  /** `cache_ttl`: hours a cached verified result may be reused (0: never). */
  cacheTtlHours: number
  /**
   * `min_age_days`: days a candidate's verified signing time must be old
   * before the updater writes it (absent: 0, no cool-down).
   */
  minAgeDays?: number
  /** `registry_concurrency`: most requests in flight to one registry. */
  registryConcurrency: number
  overrides: PolicyOverride[]
  /** Named trust anchors (`signers`), by name; absent when not written. */
  signers?: Record<string, NamedSigner>
  /** Who may sign images by default (`trusted_signers`). */
  trustedSigners?: SignerNames
  /** Distinct trusted signers required (`threshold`); 1 when not written. */
  threshold?: number
  /** Attestation requirements (`attestations`); absent when not written. */
  attestations?: AttestationRequirement[]
  /** Problems that do not stop the run (annotations), e.g. `attest_mode: none` next to requirements. */
  warnings?: ConfigIssue[]
  /** Where each key was written, for annotations (key name → location). */
  locations: Record<string, SourceLocation>
}

/** The optional `provenance` block of a matrix row. */
export interface ProvenanceExpectation {
  /** Public key file (`key_path`, alias `expected_key`), relative to the workspace. */
  keyPath?: string
  /** Expected SHA-256 of the public key (hex, as `sha256:<hex>` or bare). */
  keyFingerprint?: string
  /** Regular expression (RE2) on the certificate identity. */
  identity?: string
  /** OIDC issuer (exact, or a pattern when `issuerIsRegexp`). */
  issuer?: string
  issuerIsRegexp?: boolean
  requireSignature?: boolean
  attestationType?: string
  ignoreTlog?: boolean
  /** Key rotation window, ISO dates (inclusive). */
  validFrom?: string
  validUntil?: string
  /** Names from the policy's `signers` that may sign this image (`trusted_signers`). */
  trustedSigners?: SignerNames
  /** Distinct trusted signers required for this image. */
  threshold?: number
  /** What the updater observed when it pinned the digest; informational, never checked. */
  recorded?: ProvenanceRecord
  /** Where each key of the block was written (key name → location). */
  locations?: Record<string, SourceLocation>
}

/**
 * The `provenance` keys the updater writes as evidence (snake_case in the
 * file: `signer_identity`, `signer_issuer`, `rekor_log_index`,
 * `attestation_digest`). It also sets `key_fingerprint` for key-based signers.
 */
export interface ProvenanceRecord {
  /** Certificate identity (SAN) of the verified keyless signature. */
  signerIdentity?: string
  /** OIDC issuer of that certificate. */
  signerIssuer?: string
  rekorLogIndex?: number
  /** SHA-256 of the verified attestation's in-toto statement. */
  attestationDigest?: Digest
}

export type Pin =
  | { kind: 'pinned'; digest: Digest }
  /** A placeholder (`sha256:TODO_…`, empty, not 64 hex): the row is not pinned yet. */
  | {
      kind: 'not-pinned'
      raw: string
      /** Why what is written is not a pin, when it is not a plain placeholder. */
      note?: string
    }

/** One matrix row, in whichever form it was written. */
export interface MatrixRow {
  /** 0-based position in the file. */
  index: number
  version: string
  os: string
  /** Repository named by the row itself (`repository` or from `image`), if any. */
  repository?: string
  /** Tag named by the row itself, if any. */
  tag?: string
  pin: Pin
  /** Date the digest was pinned (YYYY-MM-DD), when known. */
  added?: string
  provenance?: ProvenanceExpectation
  /** Location of the row's first line. */
  location?: SourceLocation
  /** Location of the row's `digest` (or `sha256`) value. */
  digestLocation?: SourceLocation
}

export interface MatrixPreference {
  default?: [version: string, os: string]
  preferOs?: string
  fallbackOs?: string
  fallbackVersion?: string
}

export interface Matrix {
  form: 'rows' | 'os-map'
  rows: MatrixRow[]
  preference?: MatrixPreference
  /** Problems that do not stop the run (annotations), e.g. an unanchored identity pattern. */
  warnings?: ConfigIssue[]
}

export interface Config {
  policy: Policy
  matrix: Matrix
  policyPath: string
  matrixPath: string
}

// ------------------------------------------------------------------ plan ---

/** A signer's validity window (`valid_from`/`valid_until`: a date, whole UTC days, or RFC 3339; inclusive). */
export interface SignerWindow {
  validFrom?: string
  validUntil?: string
}

export type SignerExpectation =
  | ({
      kind: 'key'
      keyPath: string
      keyFingerprint?: string
    } & SignerWindow)
  | ({ kind: 'keyless'; identity: string; issuer: string; issuerIsRegexp: boolean } & SignerWindow)

/**
 * A GitHub artifact attestation signer (policy `signers.<name>.github`, issue
 * 13): Sigstore bundles made by `actions/attest-build-provenance` in
 * `repository`, checked against the certificate's GitHub extensions.
 */
export interface GitHubSignerExpectation extends SignerWindow {
  kind: 'github'
  /** `owner/name`: the certificate's Source Repository URI is `https://github.com/<repository>`. */
  repository: string
  /** RE2 on the certificate's Build Signer URI (the workflow that signed, `…@<ref>`). */
  signerWorkflow?: string
  /** RE2 on the certificate's Source Repository Ref (e.g. `refs/tags/v1.2`). */
  sourceRef?: string
  /** Refuse bundles whose certificate says Runner Environment `self-hosted` (default true). */
  hostedRunnersOnly: boolean
  /** The predicate type of the attestation that signs the image (default SLSA provenance v1). */
  predicateType: string
}

/**
 * A signer with its name: one of the policy's `signers`, or the row's own
 * `provenance` signer, named `provenance` (UNNAMED_SIGNER).
 */
export type NamedSigner = (SignerExpectation | GitHubSignerExpectation) & {
  name: string
  location?: SourceLocation
}

/** The report name of a row's own (unnamed) `provenance` signer. */
export const UNNAMED_SIGNER = 'provenance'

/** An attestation requirement of one image, its signer names resolved. */
export interface PlannedRequirement {
  type: string
  signers: NamedSigner[]
  where: WhereCondition[]
  maxAgeDays?: number
  timeField?: string
}

/** The policy that applies to one image, after overrides and row settings. */
export interface EffectivePolicy {
  mode: PolicyMode
  digestTtlDays: number
  requireSignature: boolean
  attestMode: AttestMode
  attestationType: string
  ignoreTlog: boolean
  trustedRoot?: string
  /** The override that applied, by its `match` glob. */
  override?: string
  /** Which setting came from where, e.g. `require_signature=true (override "ghcr.io/*")`. */
  sources: string[]
}

/** Everything needed to check one image. */
export interface ImagePlan {
  row: MatrixRow
  /** Registry host (with port), e.g. `ghcr.io`, `127.0.0.1:5000`. */
  registry: string
  /** Repository path within the registry, e.g. `rocm/dev`. */
  repositoryPath: string
  /** `registry/repositoryPath`. */
  repository: string
  tag: string
  /** `repository:tag`. */
  reference: string
  /** The row's own (unnamed) `provenance` signer, as today. */
  signer?: SignerExpectation
  /**
   * Every trusted signer of the image: its `trusted_signers` (the row's, else the
   * override's, else the policy's), then the row's unnamed signer.
   */
  signers?: NamedSigner[]
  /** Distinct trusted signers required (1 when absent). */
  threshold?: number
  /**
   * `row-signer` (also when absent): no named signer and no `attestations` list — the image is
   * checked exactly as before 4.1 (one signer, one attestation type).
   * `signers`: the trust model of named signers, thresholds and requirements.
   */
  trustModel?: 'row-signer' | 'signers'
  /** What attestations must say (the `attestations` list, or `attestation_type` as one). */
  requirements?: PlannedRequirement[]
  policy: EffectivePolicy
}

// -------------------------------------------------------------- registry ---

/**
 * `access-denied`: the registry refused access (401/403: no credentials, or
 * refused ones) — a credential problem, not an unreachable registry.
 */
export type DigestStatus =
  'match' | 'drift' | 'tag-missing' | 'not-pinned' | 'unreachable' | 'access-denied'

export interface DigestFinding {
  status: DigestStatus
  pinnedDigest?: Digest
  /** What the tag points at now (absent when it could not be read). */
  currentDigest?: Digest
  currentMediaType?: string
  /** Whether the pin is the index itself or one platform's manifest within it. */
  pinnedKind?: 'index' | 'manifest' | 'platform-manifest'
  /** `os/arch[/variant]` when the pin is one platform's manifest of the current index. */
  pinnedPlatform?: string
  /** Whether the pinned digest exists in the repository (checked before believing "unsigned"). */
  pinnedExists?: boolean
  /** Why the registry could not answer (for `unreachable`). */
  cause?: string
  /** Requests this check made, for diagnostics and the benchmark. */
  requests?: number
}

export interface AgeFinding {
  added?: string
  ageDays?: number
  ttlDays: number
  stale: boolean
  /** Why the age is unknown (no or bad `added`). */
  note?: string
}

// ---------------------------------------------------------------- cosign ---

export type SignatureOutcome =
  | 'verified'
  | 'unsigned'
  | 'invalid'
  | 'expired'
  | 'registry-auth'
  | 'not-found'
  | 'transient'
  | 'tool-error'
  /** No check was run (not pinned, digest missing, no signer and not required…). */
  | 'skipped'

export interface SignatureFinding {
  outcome: SignatureOutcome
  /** The signer the policy expected, as written (key path or identity regexp). */
  expected?: string
  /** Certificate identity (SAN) of the verified signature. */
  identity?: string
  issuer?: string
  keyFingerprint?: string
  rekorLogIndex?: number
  /** RFC 3339: Rekor integrated time or signed timestamp. */
  signedAt?: string
  /**
   * True when identity, issuer, log index and signedAt were read from the
   * stored bundles (`cosign download signature`), not from what cosign
   * verified: shown, but never used to tell signers apart or to date a
   * signature.
   */
  detailsUnverified?: boolean
  /** Number of verified signatures of the signature type. */
  count: number
  /** False when `--insecure-ignore-tlog` was passed: no log entry was checked. */
  tlogChecked: boolean
  /** cosign's own message, or ours, for anything but `verified`. */
  message?: string
  /** How many cosign calls this took (retries included). */
  attempts?: number
  /**
   * When the pin is one platform's manifest of a multi-arch index and it has
   * no signature: the same check of the index the tag points at (signing an
   * index without `--recursive` signs the index only).
   */
  indexSignature?: IndexSignature
  /** Each trusted signer's own result (absent when no check ran). */
  signers?: SignerFinding[]
  /** The threshold and how many distinct signers counted. */
  threshold?: ThresholdFinding
}

interface IndexSignature {
  /** The index the tag points at. */
  digest: Digest
  /** `os/arch[/variant]` of the pinned manifest within it. */
  platform?: string
  outcome: SignatureOutcome
  /** Who signed the index, when verified (identity, key fingerprint or key path). */
  signedBy?: string
}

export type SignerResult =
  'verified' | 'absent' | 'invalid' | 'expired' | 'not-yet-valid' | 'could-not-complete'

/** One trusted signer's check of one image. */
export interface SignerFinding {
  name: string
  kind: 'key' | 'keyless' | 'github'
  result: SignerResult
  /** Whether it counts towards the threshold (verified, in its window, not a duplicate). */
  counted: boolean
  /** RFC 3339: the time the window was judged at. */
  signingTime?: string
  /** `tlog`: the transparency log's integrated time; `tsa`: a signed timestamp; `run`: the run's time. */
  signingTimeSource?: 'tlog' | 'tsa' | 'run'
  /** The underlying cosign outcome (what the signature check alone found). */
  outcome: SignatureOutcome
  identity?: string
  issuer?: string
  keyFingerprint?: string
  rekorLogIndex?: number
  signedAt?: string
  /** See SignatureFinding.detailsUnverified. */
  detailsUnverified?: boolean
  /** Why it did not count, for anything but a counted `verified`. */
  message?: string
  attempts?: number
  /** The signature details as one finding (what a single-signer check reports). */
  finding?: SignatureFinding
  /** Where the bundle that decided came from (GitHub signers): `registry referrer`, `referrers tag`, `API`. */
  source?: string
}

export interface ThresholdFinding {
  required: number
  /** Distinct signers that counted. */
  counted: number
  met: boolean
}

export type RequirementResult = 'met' | 'unmet' | 'absent' | 'could-not-complete'

export interface ConditionFinding {
  /** Dotted path in the statement, or the time field for `max_age_days`. */
  path: string
  /** The RE2 pattern, or `<= N days old` for `max_age_days`. */
  pattern: string
  /** The value found (absent when the path is missing). */
  value?: string
  met: boolean
}

/** One attestation requirement's result for one image. */
export interface RequirementFinding {
  type: string
  result: RequirementResult
  /** The conditions of the statement judged (the one that met them, else the closest). */
  conditions: ConditionFinding[]
  /** SHA-256 of the judged in-toto statement. */
  statementDigest?: Digest
  /** Signer names the requirement was checked against. */
  signers: string[]
  /** Which signer's attestation met it. */
  signedBy?: string
  message?: string
  attempts?: number
}

export type AttestationOutcome =
  | 'verified'
  | 'attestation-missing'
  | 'attestation-invalid'
  | 'registry-auth'
  | 'not-found'
  | 'transient'
  | 'tool-error'
  | 'skipped'

export interface AttestationFinding {
  outcome: AttestationOutcome
  mode: AttestMode
  predicateType: string
  /** SHA-256 of the decoded in-toto statement (stable across re-signing). */
  digest?: Digest
  subjectDigest?: Digest
  /** SLSA provenance `builder.id`. */
  builderId?: string
  count?: number
  message?: string
  attempts?: number
}

export interface CosignVersion {
  gitVersion: string
  goVersion?: string
  platform?: string
  path: string
}

// ---------------------------------------------------------------- decide ---

export type TrustStatus = 'valid' | 'unsigned' | 'invalid' | 'expired' | 'unknown'
export type ExitCode = 0 | 1 | 2 | 3 | 4
export type Decision = 'pass' | 'warn' | 'fail'

/** Everything observed about one image. */
export interface ImageFindings {
  plan: ImagePlan
  digest: DigestFinding
  age: AgeFinding
  signature: SignatureFinding
  attestation: AttestationFinding
  /** One entry per attestation requirement (trust model `signers` only). */
  requirements?: RequirementFinding[]
  /** Errors met while checking this image (messages, no secrets). */
  errors: string[]
  /** The verification cache's part: a verdict reused, or an entry found and not used. */
  cache?: ImageCacheUse
}

/**
 * How the verification cache served one image: `hit` — the signature and
 * attestation findings are an earlier run's, judged at `judgedAt` (drift and
 * age are always live); `ignored` — an entry was found but not used (expired,
 * corrupted, its key window no longer holds), and the image was verified afresh.
 */
export type ImageCacheUse =
  { status: 'hit'; judgedAt: string } | { status: 'ignored'; reason: string }

/** The verification cache over a run. */
export interface RunCacheStatus {
  /** `used`: restored (possibly empty) and saved when new; `unavailable`: no service or it failed; `disabled`: input `cache: false`. */
  status: 'used' | 'unavailable' | 'disabled'
  /** Why the cache was unavailable or partly failed, said once. */
  note?: string
  /** Verified results reused from an earlier run. */
  hits: number
  /** Verified results saved for later runs. */
  saved: number
}

/** How long and when requests to one registry waited on its Retry-After. */
export interface RegistryThrottle {
  registry: string
  /** How many 429/503 answers set the back-off. */
  responses: number
  /** RFC 3339 instant of the first back-off. */
  firstAt: string
  /** Milliseconds during which requests to this registry were held back (overlaps merged). */
  waitedMs: number
}

export interface ImageDecision {
  /** Code after the policy mode was applied. */
  code: 0 | 1 | 2 | 3
  /** Code before the mode was applied. */
  rawCode: 0 | 1 | 2 | 3
  trustStatus: TrustStatus
  /** Ordered steps that led to the code. */
  path: string[]
  /** `mode=…|require_sig=…|attest=…|status=N`, the form existing tooling reads. */
  policyDecision: string
}

export interface ImageResult {
  findings: ImageFindings
  decision: ImageDecision
}

export interface RunResult {
  exitCode: ExitCode
  decision: Decision
  trustStatus: TrustStatus
  images: ImageResult[]
  /** The preferred row as `repository:tag@digest`, when one could be chosen. */
  preferredImage?: string
  /** Which row `preferredImage` is and why it was chosen (or why there is none). */
  preferredReason?: string
  /** Configuration problems (exit 4), when the config could not be used. */
  configIssues: import('./errors.js').ConfigIssue[]
  /** Configuration warnings (annotations, never an exit code). */
  configWarnings?: import('./errors.js').ConfigIssue[]
  /** Errors that stopped the run outside any one image. */
  errors: string[]
  cosign?: CosignVersion
  /** The verification cache's part, when the caller has one (the action; the CLI says why not). */
  cache?: RunCacheStatus
  /** Registries that asked this run to slow down (429/503 with Retry-After). */
  throttles?: RegistryThrottle[]
  /** This run's share of the matrix (input `shard`), 1-based. */
  shard?: { index: number; count: number }
  /** SHA-256 of the configuration the run was judged under (policy, plans, action version); merge compares shards by it. */
  configDigest?: string
  /** Present when the policy's mode is `auto_update`: the updater workflow to dispatch. */
  autoUpdate?: { workflow: string; ref: string }
  startedAt: string
  finishedAt: string
}

/** Why a row is (or would be) re-pinned. */
export type UpdateReason = 'tag-moved' | 'pin-stale' | 'not-pinned' | 'new-tag'

/** Why a row was looked at without being written: a re-pin reason, or its tag could not be read. */
export type RejectTrigger = UpdateReason | 'tag-unreadable'

/** A pin the updater wrote. */
export interface UpdatedImage {
  /** `repository:tag` */
  reference: string
  version: string
  os: string
  /** The pin it replaced; absent for a placeholder or a new row. */
  oldDigest?: Digest
  newDigest: Digest
  trustStatus: TrustStatus
  /** Who signed it: `identity (issuer)`, or the key's fingerprint or path. */
  signer?: string
  rekorLogIndex?: number
  attestationDigest?: Digest
  reason: UpdateReason
  /** The evidence of each side as judged in this run (src/domain/regression.ts). */
  evidence?: { current?: PinEvidence; candidate: PinEvidence }
  /** The candidate's verified signing time (log or timestamp), when one was verified. */
  signedAt?: VerifiedSigningTime
}

/** One counted signer in a pin's evidence. */
export interface EvidenceSigner {
  /** The trusted signer's name (`provenance` for the row's own). */
  name: string
  /** Who signed: identity or key fingerprint (describeSigner). */
  who?: string
}

/** One attestation requirement a pin meets. */
interface EvidenceAttestation {
  /** The requirement as written: predicate type and `where` conditions. */
  requirement: string
  /** Who signed the attestation that met it. */
  signedBy?: string
}

/**
 * What a pin (or candidate) proves, as the updater compares it: the distinct
 * trusted signers that counted and the attestation requirements met.
 */
export interface PinEvidence {
  signers: EvidenceSigner[]
  attestations: EvidenceAttestation[]
}

/** A signing time that counts for `min_age_days`: vouched for by a log or a timestamp. */
export interface VerifiedSigningTime {
  /** RFC 3339. */
  at: string
  source: 'tlog' | 'tsa'
  /** The signer whose signature carries it. */
  signer: string
}

/** A digest the updater did not write, and why. */
export interface RejectedImage {
  reference: string
  version: string
  os: string
  oldDigest?: Digest
  /** The digest it would have written; absent when the tag could not be resolved. */
  newDigest?: Digest
  trustStatus: TrustStatus
  signer?: string
  /** Why the row would have changed, or that its tag could not be read. */
  trigger: RejectTrigger
  /** Why it was not written: the failing policy steps, or the error met. */
  reason: string
}
