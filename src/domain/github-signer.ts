/**
 * GitHub artifact attestation signers (policy `signers.<name>.github`, issue
 * 13), pure: the identity cosign is asked to check, what the certificate's
 * GitHub extensions must say (Fulcio's OID registry, 1.3.6.1.4.1.57264.1.*),
 * and one signer's result from the bundles found for a digest. What a bundle's
 * certificate and statement say is read only after cosign verified it.
 */
import { RE2JS } from 're2js'
import { expandPredicateType, subjectDigests, type VerifiedStatement } from './attestations.js'
import type { BundleTimeEvidence } from './sigstore-bundle.js'
import type { Digest, GitHubSignerExpectation, ImagePlan } from './types.js'

/** The OIDC issuer of GitHub Actions tokens, the only one a `github` signer accepts. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com'

/** Fulcio certificate extensions a `github` signer reads (Fulcio docs, oid-info.md). */
export const FULCIO_OIDS = {
  /** Build Signer URI: the workflow that signed, `https://github.com/<owner>/<repo>/<path>@<ref>`. */
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  /** Runner Environment: `github-hosted` or `self-hosted`. */
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  /** Source Repository URI: `https://github.com/<owner>/<repo>`. */
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  /** Source Repository Ref: `refs/heads/main`, `refs/tags/v1`. */
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14'
} as const

/** What a verified bundle's Fulcio certificate says (absent extensions stay undefined). */
export interface GitHubCertificateClaims {
  /** The certificate's SAN URI (for GitHub: the Build Signer URI). */
  subjectAlternativeName?: string
  buildSignerUri?: string
  runnerEnvironment?: string
  sourceRepositoryUri?: string
  sourceRepositoryRef?: string
}

/** Where a bundle was found. */
type BundleSource = 'registry referrer' | 'referrers tag' | 'API'

/** One bundle as found, before verification. */
export interface FoundBundle {
  source: BundleSource
  /** The bundle's JSON text. */
  json: string
  /** Where exactly: the referrer manifest's digest, or the API path. */
  locator: string
}

/** One found bundle after `cosign verify-blob-attestation` and the checks here. */
export type JudgedBundle = { source: BundleSource; locator: string } & (
  | {
      result: 'verified'
      statement: VerifiedStatement
      claims: GitHubCertificateClaims
      /** RFC 3339: when it was signed, by `signedAtSource`, when the bundle says it verifiably. */
      signedAt?: string
      /** `tlog`: the transparency log's integrated time; `tsa`: the signed timestamp's genTime. */
      signedAtSource?: 'tlog' | 'tsa'
      /** The Rekor log index of the entry cosign verified, when the bundle has one. */
      rekorLogIndex?: number
    }
  /** `invalid`: cosign refused it or it is not this signer's; `could-not-complete`: cosign did not finish. */
  | { result: 'invalid' | 'could-not-complete'; message: string }
)

/** One `github` signer's check of one digest for one predicate type. */
export type GitHubSignerCheck =
  | {
      result: 'verified'
      statement: VerifiedStatement
      identity: string
      issuer: string
      signedAt?: string
      signedAtSource?: 'tlog' | 'tsa'
      rekorLogIndex?: number
      source: BundleSource
      message: string
      attempts: number
    }
  | {
      result: 'absent' | 'invalid' | 'could-not-complete'
      message: string
      source?: BundleSource
      attempts: number
    }

/** How many bundles' reasons an `invalid` result names. */
const SHOWN_REASONS = 3

/** Base64 (the DSSE payload's encoding) to UTF-8 text, with the web platform's `atob`; throws on other text. */
function decodeBase64(text: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(text), char => char.charCodeAt(0)))
}

/** RE2 special characters, escaped (RE2 and JavaScript agree on these). */
function quoteMeta(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
}

/**
 * The identity regex cosign is given: `signer_workflow` as written, else any
 * workflow of the repository, without case (`(?i)`), as GitHub compares
 * owner and repository names (and `gh attestation verify` its default SAN
 * pattern): `rocm/images` as written from a lower-case ghcr.io path is the
 * certificate's `ROCm/images`.
 */
export function identityRegexpFor(signer: GitHubSignerExpectation): string {
  return signer.signerWorkflow ?? `(?i)^https://github\\.com/${quoteMeta(signer.repository)}/`
}

/** The predicate type as a URI (cosign's shorthands expanded). */
export function predicateTypeUri(type: string): string {
  return expandPredicateType(type) ?? type
}

function matches(pattern: string, value: string | undefined): boolean {
  return value !== undefined && RE2JS.compile(pattern).matcher(value).find()
}

function valueOf(document: unknown, key: string): unknown {
  return typeof document === 'object' && document !== null
    ? (document as Record<string, unknown>)[key]
    : undefined
}

/**
 * Whether a certificate says it was issued for a build of `repository`
 * (`owner/name`): its Source Repository URI is `https://github.com/<repository>`,
 * compared without case as GitHub compares owner and repository names.
 */
export function fromRepository(claims: GitHubCertificateClaims, repository: string): boolean {
  // ASCII case only: GitHub's names are ASCII, and Unicode folding would
  // equate the Kelvin sign with `k`.
  const fold = (text: string): string => text.replace(/[A-Z]/g, c => c.toLowerCase())
  return (
    claims.sourceRepositoryUri !== undefined &&
    fold(claims.sourceRepositoryUri) === fold(`https://github.com/${repository}`)
  )
}

/** One digest a run may ask GitHub's attestations API about. */
export interface GitHubApiSubject {
  /** `owner/name` of the `github` signer. */
  repository: string
  digest: Digest
  /** The predicate type as a URI (the API's `predicate_type` filter). */
  predicateType: string
}

/**
 * Every (repository, pinned digest, predicate type) the `github` signers of
 * these plans may ask GitHub's attestations API about: trusted signers with
 * their `predicate_type`, attestation requirements with their `type`. Unpinned
 * rows ask nothing. Distinct; in plan order. Lets the API adapter list an
 * owner's digests with one bulk request (`POST /orgs/{org}/attestations/bulk-list`).
 */
export function gitHubApiSubjects(plans: readonly ImagePlan[]): GitHubApiSubject[] {
  const subjects = new Map<string, GitHubApiSubject>()
  const add = (repository: string, digest: Digest, type: string): void => {
    const predicateType = predicateTypeUri(type)
    subjects.set(`${repository.toLowerCase()} ${digest} ${predicateType}`, {
      repository,
      digest,
      predicateType
    })
  }
  for (const plan of plans) {
    if (plan.row.pin.kind !== 'pinned') continue
    const { digest } = plan.row.pin
    for (const signer of plan.signers ?? [])
      if (signer.kind === 'github') add(signer.repository, digest, signer.predicateType)
    for (const requirement of plan.requirements ?? [])
      for (const signer of requirement.signers)
        if (signer.kind === 'github') add(signer.repository, digest, requirement.type)
  }
  return [...subjects.values()]
}

/**
 * Why a bundle cosign verified is not this signer's attestation of `pinned`,
 * or undefined when it is: the statement's subject names the pin, its
 * predicate type is `predicateType`, and the certificate says the signer's
 * source repository, Source Repository Ref (`source_ref`), Build Signer URI
 * (`signer_workflow`) and, with `hosted_runners_only`, a GitHub-hosted runner.
 */
export function checkGitHubBundle(
  signer: GitHubSignerExpectation,
  claims: GitHubCertificateClaims,
  statement: unknown,
  pinned: Digest,
  predicateType: string
): string | undefined {
  const subjects = subjectDigests(statement)
  if (!subjects.includes(pinned))
    return `the statement's subject is ${subjects.join(', ') || '(none)'}, not the pinned ${pinned}`
  const expectedType = predicateTypeUri(predicateType)
  const actualType = valueOf(statement, 'predicateType')
  if (actualType !== expectedType)
    return `the statement's predicateType is ${JSON.stringify(actualType ?? '')}, not ${expectedType}`
  if (!fromRepository(claims, signer.repository))
    return `the certificate's Source Repository URI is ${claims.sourceRepositoryUri ?? '(none)'}, not https://github.com/${signer.repository}`
  if (signer.sourceRef !== undefined && !matches(signer.sourceRef, claims.sourceRepositoryRef))
    return `the certificate's Source Repository Ref ${claims.sourceRepositoryRef ?? '(none)'} does not match source_ref ${JSON.stringify(signer.sourceRef)}`
  if (signer.signerWorkflow !== undefined && !matches(signer.signerWorkflow, claims.buildSignerUri))
    return `the certificate's Build Signer URI ${claims.buildSignerUri ?? '(none)'} does not match signer_workflow ${JSON.stringify(signer.signerWorkflow)}`
  if (signer.hostedRunnersOnly && claims.runnerEnvironment !== 'github-hosted')
    return `built on a ${claims.runnerEnvironment ?? 'unknown'} runner; hosted_runners_only refuses anything but github-hosted`
  return undefined
}

/**
 * How cosign is to verify when a bundle was signed, as `gh attestation
 * verify` does (cli/cli pkg/cmd/attestation/verification/sigstore.go):
 *
 * - a bundle with a transparency-log entry: cosign's default, the entry
 *   verified against the trusted root's Rekor and its integrated time used;
 * - a bundle with none but an RFC 3161 signed timestamp, when a trusted root
 *   is given (GitHub's own Sigstore instance, which signs attestations of
 *   private repositories, writes no log entry, only timestamps from its TSA;
 *   gh verifies it with signed timestamps only): `--use-signed-timestamps
 *   --insecure-ignore-tlog`, with which cosign 3.1 requires at least one
 *   timestamp verified against the trusted root's timestamp authorities
 *   (sigstore-go `WithSignedTimestamps(1)`) and the certificate valid at its
 *   time; `--insecure-ignore-sct` too only when the trusted root lists no CT
 *   log, so no SCT could be verified (gh asks none of such a root);
 * - without a trusted root (Sigstore's public-good instance, which logs every
 *   signature; gh requires the log there) or with neither a log entry nor a
 *   signed timestamp: refused, never verified. `--insecure-ignore-tlog` alone
 *   would have cosign accept a bundle with neither (cosign 3.1.1 then checks
 *   the certificate at the current time).
 */
export function timeVerificationFor(
  evidence: BundleTimeEvidence,
  trustedRoot: { given: false } | { given: true; hasCtLogs: boolean }
): { args: string[] } | { problem: string } {
  if (evidence.tlogEntries > 0) return { args: [] }
  if (evidence.signedTimestamps.length === 0)
    return { problem: 'the bundle has neither a transparency-log entry nor a signed timestamp' }
  if (!trustedRoot.given)
    return {
      problem:
        "the bundle has no transparency-log entry, only a signed timestamp; such a bundle (GitHub's own Sigstore instance) verifies only against trusted_root"
    }
  return {
    args: [
      '--use-signed-timestamps',
      '--insecure-ignore-tlog',
      ...(trustedRoot.hasCtLogs ? [] : ['--insecure-ignore-sct'])
    ]
  }
}

/** Most signed timestamps of one bundle verified, each alone (GitHub's bundles carry one). */
export const MAX_SIGNED_TIMESTAMPS = 4

/**
 * The bundles cosign is to verify for one bundle without a log entry: each
 * of its signed timestamps alone in a copy of it, when it has several (else
 * the bundle as it is). cosign requires one verified timestamp and tolerates
 * others it cannot verify, without saying which verified, and no signature
 * covers the list (anyone who can push a referrer can add one): verified
 * alone, the timestamp whose time is read is the one cosign verified. More
 * than MAX_SIGNED_TIMESTAMPS: `{ problem }`.
 */
export function timestampVariants(
  bundle: unknown,
  evidence: BundleTimeEvidence
): { bundles: unknown[] } | { problem: string } {
  if (evidence.tlogEntries > 0 || evidence.signedTimestamps.length <= 1)
    return { bundles: [bundle] }
  if (evidence.signedTimestamps.length > MAX_SIGNED_TIMESTAMPS)
    return {
      problem: `the bundle has ${evidence.signedTimestamps.length} signed timestamps; at most ${MAX_SIGNED_TIMESTAMPS} are verified`
    }
  const material = valueOf(bundle, 'verificationMaterial') as Record<string, unknown>
  const data = valueOf(material, 'timestampVerificationData') as Record<string, unknown>
  return {
    bundles: evidence.signedTimestamps.map(signedTimestamp => ({
      ...(bundle as Record<string, unknown>),
      verificationMaterial: {
        ...material,
        timestampVerificationData: { ...data, rfc3161Timestamps: [{ signedTimestamp }] }
      }
    }))
  }
}

/**
 * The signed timestamp whose time a bundle without a log entry was signed
 * at, once cosign verified the bundle: its only one (timestampVariants gives
 * cosign each of several alone); of several, none is read.
 */
export function timestampToRead(evidence: BundleTimeEvidence): string | undefined {
  return evidence.tlogEntries === 0 && evidence.signedTimestamps.length === 1
    ? evidence.signedTimestamps[0]
    : undefined
}

/**
 * The time a verified github signer's window is judged at: the time its
 * bundle verifiably says (`tlog` integrated time or `tsa` genTime), else
 * the run's time.
 */
export function gitHubSigningTime(
  check: Pick<GitHubSignerCheck & { result: 'verified' }, 'signedAt' | 'signedAtSource'>,
  now: Date
): { at: Date; source: 'tlog' | 'tsa' | 'run' } {
  const at = check.signedAt !== undefined ? new Date(check.signedAt) : undefined
  if (at && !Number.isNaN(at.getTime())) return { at, source: check.signedAtSource ?? 'tlog' }
  return { at: now, source: 'run' }
}

/**
 * One signer's result from its judged bundles, first match wins: `verified`
 * (the first bundle that passed); `could-not-complete` when a source could not
 * be read or cosign did not finish (a hidden bundle might have verified);
 * `invalid` when bundles exist but none is this signer's (the first one's
 * reason); `absent` when none was found. `unreadable` lists the sources that
 * could not be read, with why.
 */
export function combineGitHubBundles(
  judged: readonly JudgedBundle[],
  unreadable: readonly string[],
  attempts: number,
  passedOver = 0
): GitHubSignerCheck {
  const verified = judged.find(j => j.result === 'verified')
  if (verified && verified.result === 'verified') {
    const identity = verified.claims.buildSignerUri ?? verified.claims.subjectAlternativeName ?? ''
    return {
      result: 'verified',
      statement: verified.statement,
      identity,
      issuer: GITHUB_ACTIONS_ISSUER,
      ...(verified.signedAt !== undefined && { signedAt: verified.signedAt }),
      ...(verified.signedAtSource !== undefined && { signedAtSource: verified.signedAtSource }),
      ...(verified.rekorLogIndex !== undefined && { rekorLogIndex: verified.rekorLogIndex }),
      source: verified.source,
      message: `bundle from the ${verified.source} (${verified.locator})`,
      attempts
    }
  }
  const incomplete = judged.find(j => j.result === 'could-not-complete')
  if (unreadable.length > 0 || incomplete) {
    const reasons = [
      ...unreadable,
      ...(incomplete && incomplete.result !== 'verified'
        ? [`${incomplete.source} bundle ${incomplete.locator}: ${incomplete.message}`]
        : [])
    ]
    return { result: 'could-not-complete', message: reasons.join('; '), attempts }
  }
  const first = judged[0]
  if (first && first.result === 'invalid') {
    // Each bundle's own reason (up to three): the one that matters may be any.
    const reasons = judged
      .slice(0, SHOWN_REASONS)
      .map(j => `${j.source} bundle ${j.locator}: ${j.result === 'verified' ? '' : j.message}`)
    const more =
      judged.length > SHOWN_REASONS
        ? ` (and ${judged.length - SHOWN_REASONS} more bundle(s), none this signer's)`
        : ''
    return {
      result: 'invalid',
      message: `${reasons.join('; ')}${more}`,
      source: first.source,
      attempts
    }
  }
  const other =
    passedOver > 0
      ? ` (${passedOver} bundle referrer(s) of other kinds passed over: signatures, key-signed attestations or other predicate types)`
      : ''
  return {
    result: 'absent',
    message: `no Sigstore bundle for the digest in the registry (referrers) or GitHub API${other}`,
    attempts
  }
}

/**
 * Why a bundle found as a registry referrer is not a candidate for a `github`
 * signer of `predicateType`, or undefined when it is. Routing, not trust (as
 * the API's `predicate_type` filter is): a GitHub artifact attestation is a
 * DSSE envelope signed with a Fulcio certificate; cosign 3 stores its key and
 * keyless signatures (message signatures) and key-signed attestations as
 * referrers of the same artifact type, and other attestations (an SBOM) sit
 * next to the provenance. What a candidate says is still verified by cosign
 * and judged by checkGitHubBundle.
 */
export function notACandidate(bundle: unknown, predicateType: string): string | undefined {
  const envelope = valueOf(bundle, 'dsseEnvelope')
  if (typeof envelope !== 'object' || envelope === null) return 'a signature, not an attestation'
  const material = valueOf(bundle, 'verificationMaterial')
  if (
    valueOf(material, 'certificate') === undefined &&
    valueOf(material, 'x509CertificateChain') === undefined
  )
    return 'signed with a key, not a Fulcio certificate'
  const payload = valueOf(envelope, 'payload')
  if (typeof payload !== 'string') return undefined
  let statement: unknown
  try {
    statement = JSON.parse(decodeBase64(payload)) as unknown
  } catch {
    return undefined
  }
  const type = valueOf(statement, 'predicateType')
  return typeof type === 'string' && type !== predicateTypeUri(predicateType)
    ? `an attestation of ${type}`
    : undefined
}
