/**
 * The signer model, pure: key fingerprints, validity windows judged at the
 * signing time, distinct-signer counting against a threshold, and "who signed
 * it" as one line of text. The one home of each of these rules.
 */
import type {
  NamedSigner,
  SignatureFinding,
  SignatureOutcome,
  SignerFinding,
  SignerResult,
  SignerWindow,
  ThresholdFinding
} from './types.js'

// ---------------------------------------------------------- fingerprints ---

const FINGERPRINT = /^(?:sha256:)?([0-9a-f]{64})$/i

/**
 * `sha256:<hex>` or bare hex (any case, surrounding blanks ignored) →
 * `sha256:<lowercase hex>`; undefined when it is not a SHA-256 fingerprint.
 * The fingerprint is the SHA-256 of the DER public key (SubjectPublicKeyInfo).
 */
export function normaliseFingerprint(value: string): string | undefined {
  const hex = FINGERPRINT.exec(value.trim())?.[1]
  return hex ? `sha256:${hex.toLowerCase()}` : undefined
}

/** Compares fingerprints written with or without `sha256:`, in any case. */
export function sameFingerprint(actual: string, expected: string): boolean {
  const bare = (value: string): string =>
    value
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, '')
  return bare(actual) === bare(expected)
}

// --------------------------------------------------------------- windows ---

type KeyWindowStatus =
  | { status: 'valid' }
  | { status: 'expired'; message: string }
  | { status: 'not-yet-valid'; message: string }
  | { status: 'bad-date'; message: string }

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Milliseconds of the first (`start`) or last (`end`) instant a window bound
 * covers: a date without a time is the whole UTC day; otherwise RFC 3339.
 * Undefined when it is not a date.
 */
export function windowInstant(value: string, end: 'start' | 'end'): number | undefined {
  const trimmed = value.trim()
  const dateOnly = DATE_ONLY.test(trimmed)
  const time = Date.parse(dateOnly ? `${trimmed}T00:00:00Z` : trimmed)
  if (Number.isNaN(time)) return undefined
  return dateOnly && end === 'end' ? time + DAY_MS - 1 : time
}

/**
 * Whether `at` lies in the signer's `valid_from`..`valid_until` window. Both
 * ends are inclusive; a date without a time covers that whole UTC day.
 * `atLabel` says in messages what `at` is (`now`, `signed at`). cosign has no
 * validity period for a plain key (cosign-outcomes.md, "Expiry"): the window
 * is the policy's own rotation rule.
 */
export function checkKeyWindow(window: SignerWindow, at: Date, atLabel = 'now'): KeyWindowStatus {
  const from = window.validFrom === undefined ? undefined : windowInstant(window.validFrom, 'start')
  const until =
    window.validUntil === undefined ? undefined : windowInstant(window.validUntil, 'end')
  for (const [name, value, parsed] of [
    ['valid_from', window.validFrom, from],
    ['valid_until', window.validUntil, until]
  ] as const) {
    if (value !== undefined && parsed === undefined) {
      return { status: 'bad-date', message: `${name} "${value}" is not an ISO date` }
    }
  }
  if (from !== undefined && at.getTime() < from) {
    return {
      status: 'not-yet-valid',
      message: `signing key is not valid yet: valid_from ${window.validFrom}, ${atLabel} ${at.toISOString()}`
    }
  }
  if (until !== undefined && at.getTime() > until) {
    return {
      status: 'expired',
      message: `signing key expired: valid_until ${window.validUntil}, ${atLabel} ${at.toISOString()}`
    }
  }
  return { status: 'valid' }
}

/**
 * The time a signer's window is judged at: the log-vouched (Rekor integrated)
 * time when a log was checked and gave one, else the run's time.
 */
export function signingTimeOf(
  finding: Pick<SignatureFinding, 'tlogChecked' | 'signedAt' | 'detailsUnverified'>,
  now: Date
): { at: Date; source: 'tlog' | 'run' } {
  // A time read from a stored bundle nobody verified dates nothing.
  if (finding.tlogChecked && finding.signedAt && !finding.detailsUnverified) {
    const at = new Date(finding.signedAt)
    if (!Number.isNaN(at.getTime())) return { at, source: 'tlog' }
  }
  return { at: now, source: 'run' }
}

// ---------------------------------------------------- one signer's result ---

/** A signature outcome as one signer's result (before its window is judged). */
export function signerResultOf(outcome: SignatureOutcome): SignerResult {
  switch (outcome) {
    case 'verified':
      return 'verified'
    case 'unsigned':
    case 'skipped':
      return 'absent'
    case 'invalid':
      return 'invalid'
    case 'expired':
      return 'expired'
    case 'transient':
    case 'registry-auth':
    case 'tool-error':
    case 'not-found':
      return 'could-not-complete'
  }
}

/**
 * What makes two signers the same party: the key's fingerprint (the same key
 * under two names is one signer), or the certificate's identity and issuer as
 * observed (else as expected).
 */
function distinctSignerKey(signer: NamedSigner, finding: SignerFinding): string {
  if (signer.kind === 'key') {
    const fingerprint = finding.keyFingerprint ?? signer.keyFingerprint
    return fingerprint
      ? `key ${normaliseFingerprint(fingerprint) ?? fingerprint}`
      : `key-path ${signer.keyPath}`
  }
  if (signer.kind === 'github') {
    // The workflow that signed (Build Signer URI) in its repository; GitHub's
    // issuer is fixed.
    return `github ${finding.identity ?? `${signer.repository} ${signer.signerWorkflow ?? ''}`}`
  }
  return `keyless ${finding.identity ?? signer.identity}\u0000${finding.issuer ?? signer.issuer}`
}

/**
 * Marks which verified signers count: the first of each distinct party (by
 * distinctSignerKey) whose result is `verified`; later duplicates do not count
 * (their message says whose key they share). Returns new findings, same order.
 */
export function countDistinctSigners(
  signers: readonly NamedSigner[],
  findings: readonly SignerFinding[]
): SignerFinding[] {
  const seen = new Map<string, string>()
  // A keyless signer whose certificate identity cosign did not vouch for may
  // be the very certificate another keyless signer's pattern also matched: it
  // counts only when no other keyless signer does, and none counts after it.
  let keyless: { name: string; vouched: boolean } | undefined
  return findings.map((finding, i) => {
    if (finding.result !== 'verified') return { ...finding, counted: false }
    if (signers[i].kind === 'keyless') {
      const vouched = finding.identity !== undefined && !finding.detailsUnverified
      if (keyless && (!vouched || !keyless.vouched)) {
        return {
          ...finding,
          counted: false,
          message: `cannot be told apart from ${keyless.name}: cosign did not say which certificate it verified; counted once`
        }
      }
      keyless ??= { name: finding.name, vouched }
    }
    const key = distinctSignerKey(signers[i], finding)
    const first = seen.get(key)
    if (first !== undefined) {
      return {
        ...finding,
        counted: false,
        message: `the same signer as ${first} (${key.split('\u0000')[0]}); counted once`
      }
    }
    seen.set(key, finding.name)
    return { ...finding, counted: true }
  })
}

interface CombinedSignature {
  outcome: SignatureOutcome
  threshold: ThresholdFinding
  /** The signer finding the outcome was taken from, when one decided it. */
  decisive?: SignerFinding
}

/**
 * The image's signature outcome from its signers' counted findings (issue 18):
 * `verified` when at least `threshold` distinct signers count; otherwise, first
 * match wins: could-not-complete (the first such signer's outcome) when a
 * signer's check did not complete and, had those counted, the threshold would
 * be met; `expired` when a signature verified but fell outside its signer's
 * window; `invalid` when signatures exist but not by enough trusted signers;
 * `unsigned` when there are none.
 */
export function combineSigners(
  findings: readonly SignerFinding[],
  required: number
): CombinedSignature {
  const counted = findings.filter(f => f.counted).length
  const threshold: ThresholdFinding = { required, counted, met: counted >= required }
  if (threshold.met) return { outcome: 'verified', threshold }
  const incomplete = findings.filter(f => f.result === 'could-not-complete')
  if (incomplete.length > 0 && counted + incomplete.length >= required) {
    return { outcome: incomplete[0].outcome, threshold, decisive: incomplete[0] }
  }
  const outside = findings.find(f => f.result === 'expired' || f.result === 'not-yet-valid')
  if (outside) return { outcome: 'expired', threshold, decisive: outside }
  const some = findings.find(f => f.result === 'verified' || f.result === 'invalid')
  if (some) return { outcome: 'invalid', threshold, decisive: some }
  return { outcome: 'unsigned', threshold, decisive: findings[0] }
}

// ------------------------------------------------------- who signed it ---

/**
 * Who signed it, one line — the one rendering of a signer, used by the
 * decision path, the job summary, the telemetry block, `inspect` and the
 * updater: the certificate identity (with ` (issuer)` when `withIssuer`), else
 * the key fingerprint (`key <sha256:hex>`, normalised and optionally
 * shortened; as written, without `key `, when `bareKey`), else the expected
 * signer as written. Undefined when nothing is known.
 */
export function describeSigner(
  signature: {
    identity?: string
    issuer?: string
    keyFingerprint?: string
    expected?: string
  },
  options: {
    withIssuer?: boolean
    bareKey?: boolean
    shorten?: (fingerprint: string) => string
  } = {}
): string | undefined {
  if (signature.identity) {
    return options.withIssuer && signature.issuer
      ? `${signature.identity} (${signature.issuer})`
      : signature.identity
  }
  if (signature.keyFingerprint) {
    if (options.bareKey) return signature.keyFingerprint
    const fingerprint = normaliseFingerprint(signature.keyFingerprint) ?? signature.keyFingerprint
    return `key ${options.shorten ? options.shorten(fingerprint) : fingerprint}`
  }
  return signature.expected || undefined
}

/** The signer as the policy wrote it: the key path, the identity pattern, or `github:<repository>`. */
export function expectedSignerText(
  signer:
    | { kind: 'key'; keyPath: string }
    | { kind: 'keyless'; identity: string }
    | { kind: 'github'; repository: string }
    | undefined
): string | undefined {
  if (!signer) return undefined
  if (signer.kind === 'github') return `github:${signer.repository}`
  return signer.kind === 'key' ? signer.keyPath : signer.identity
}
