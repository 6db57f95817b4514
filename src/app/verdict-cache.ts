/**
 * The verification cache's rules, pure: what a cached verdict's key covers,
 * which verdicts may be cached, and whether a cached one may be used now.
 *
 * - The key is the SHA-256 of the canonical JSON of: the entry format, the
 *   action's version, the cosign binary's identity, the image's repository
 *   and pinned digest, its whole plan but the matrix row (the effective
 *   policy, the row signer, the named signers, the threshold, the trust model,
 *   the attestation requirements — less where things were written:
 *   `sources`, `location(s)`), the fingerprint of every key file's public key
 *   and the digest of the trusted root. The plan is hashed whole, so a field
 *   added to it later is covered without touching this file.
 * - Only positive verdicts are kept: a verified signature, an attestation
 *   verified or not asked for (`attest_mode: none`), every requirement met.
 * - At reading: the entry's checksum must hold (else it is corrupted), it
 *   must be younger than `cache_ttl` hours, and what depends on the time is
 *   judged again: each signer's validity window (at the logged signing time,
 *   or now when none was logged — domain/signers.ts) and each requirement's
 *   `max_age_days` (domain/attestations.ts). Drift and pin age are never
 *   cached.
 */
import { canonicalJson, withoutKeys } from '../lib/canonical-json.js'
import { isWithinMaxAge } from '../domain/attestations.js'
import { checkKeyWindow, signingTimeOf } from '../domain/signers.js'
import type {
  AttestationFinding,
  Digest,
  ImagePlan,
  RequirementFinding,
  SignatureFinding,
  NamedSigner,
  SignerExpectation
} from '../domain/types.js'
import type { CachedVerdict, VerdictMaterial } from './ports.js'
import { hasSigner } from './trust.js'

/** Bumped when an entry's meaning changes; part of every key. */
const VERDICT_CACHE_FORMAT = 2
const HOUR_MS = 60 * 60 * 1000
/** Keys that say where something was written, not what it is. */
export const POSITION_KEYS: ReadonlySet<string> = new Set(['sources', 'location', 'locations'])

/** The findings a verdict consists of. */
export interface VerdictFindings {
  signature: SignatureFinding
  attestation: AttestationFinding
  requirements?: RequirementFinding[]
}

function signersOf(plan: ImagePlan): (SignerExpectation | NamedSigner)[] {
  return [...(plan.signer ? [plan.signer] : []), ...(plan.signers ?? [])]
}

/**
 * The key of `plan`'s verdict on `digest`, or undefined when the image has no
 * signer or something the key depends on could not be read (a key file, a
 * trusted root): such an image is neither looked up nor saved.
 */
export function verdictKey(
  plan: ImagePlan,
  digest: Digest,
  material: VerdictMaterial,
  actionVersion: string,
  sha256: (text: string) => string
): string | undefined {
  if (!hasSigner(plan)) return undefined
  const keyFingerprints: Record<string, string> = {}
  for (const signer of signersOf(plan)) {
    if (signer.kind !== 'key') continue
    const fingerprint = material.keyFingerprints[signer.keyPath]
    if (fingerprint === undefined) return undefined
    keyFingerprints[signer.keyPath] = fingerprint
  }
  const trustedRoot =
    plan.policy.trustedRoot !== undefined ? material.trustedRoots[plan.policy.trustedRoot] : null
  if (trustedRoot === undefined) return undefined
  const judged: Partial<ImagePlan> = { ...plan }
  delete judged.row
  return sha256(
    canonicalJson({
      format: VERDICT_CACHE_FORMAT,
      action: actionVersion,
      cosign: material.cosign,
      digest,
      plan: withoutKeys(judged, POSITION_KEYS),
      keyFingerprints,
      trustedRoot
    })
  )
}

/** Whether a fresh verdict may be saved: only positive ones are. */
export function isCacheable(findings: VerdictFindings): boolean {
  const { signature, attestation, requirements } = findings
  return (
    signature.outcome === 'verified' &&
    (attestation.outcome === 'verified' ||
      (attestation.mode === 'none' && attestation.outcome === 'skipped')) &&
    (requirements ?? []).every(requirement => requirement.result === 'met')
  )
}

function checksumOf(entry: Omit<CachedVerdict, 'checksum'>, sha256: (text: string) => string) {
  return sha256(
    canonicalJson({
      key: entry.key,
      judgedAt: entry.judgedAt,
      signature: entry.signature,
      attestation: entry.attestation,
      requirements: entry.requirements
    })
  )
}

/** A cache entry for a verdict judged at `judgedAt`. */
export function newCachedVerdict(
  key: string,
  judgedAt: Date,
  findings: VerdictFindings,
  sha256: (text: string) => string
): CachedVerdict {
  const entry = {
    key,
    judgedAt: judgedAt.toISOString(),
    signature: findings.signature,
    attestation: findings.attestation,
    ...(findings.requirements && { requirements: findings.requirements })
  }
  return { ...entry, checksum: checksumOf(entry, sha256) }
}

type CachedVerdictCheck =
  { ok: true; entry: CachedVerdict } | { ok: false; reason: string; corrupted: boolean }

/** Whether a restored raw entry is intact and younger than `ttlHours` at `now`. */
export function checkCachedVerdict(
  raw: unknown,
  now: Date,
  ttlHours: number,
  sha256: (text: string) => string
): CachedVerdictCheck {
  const corrupted = (why: string): CachedVerdictCheck => ({
    ok: false,
    corrupted: true,
    reason: `the cached entry is corrupted (${why})`
  })
  if (typeof raw !== 'object' || raw === null) return corrupted('not an object')
  const entry = raw as Partial<CachedVerdict>
  if (typeof entry.key !== 'string' || typeof entry.checksum !== 'string')
    return corrupted('no key or checksum')
  if (typeof entry.judgedAt !== 'string' || Number.isNaN(Date.parse(entry.judgedAt)))
    return corrupted('no judging time')
  if (
    typeof entry.signature !== 'object' ||
    typeof entry.attestation !== 'object' ||
    (entry.requirements !== undefined && !Array.isArray(entry.requirements))
  )
    return corrupted('no findings')
  const whole = entry as CachedVerdict
  if (checksumOf(whole, sha256) !== whole.checksum) return corrupted('checksum mismatch')
  if (!isCacheable(whole)) return corrupted('not a positive verdict')
  const judgedAt = Date.parse(whole.judgedAt)
  const age = now.getTime() - judgedAt
  if (age < 0) return corrupted(`judged in the future, at ${whole.judgedAt}`)
  if (age >= ttlHours * HOUR_MS) {
    return {
      ok: false,
      corrupted: false,
      reason: `the cached verdict of ${whole.judgedAt} is older than cache_ttl (${ttlHours} h)`
    }
  }
  return { ok: true, entry: whole }
}

/** Why a cached verdict no longer holds at `now`, if it does not. */
function rejudge(entry: CachedVerdict, plan: ImagePlan, now: Date): string | undefined {
  const { signature } = entry
  if (plan.trustModel === 'signers') {
    for (const finding of signature.signers ?? []) {
      if (!finding.counted) continue
      const signer = plan.signers?.find(named => named.name === finding.name)
      if (!signer) return `signer ${finding.name} is no longer trusted for this image`
      const logged =
        finding.signingTime !== undefined && finding.signingTimeSource !== 'run'
          ? new Date(finding.signingTime)
          : undefined
      const window = checkKeyWindow(signer, logged ?? now, logged ? 'signed at' : 'now')
      if (window.status !== 'valid') return `signer ${finding.name}: ${window.message}`
    }
  } else if (plan.signer) {
    const { at, source } = signingTimeOf(signature, now)
    const window = checkKeyWindow(plan.signer, at, source === 'tlog' ? 'signed at' : 'now')
    if (window.status !== 'valid') return window.message
  }
  for (const [index, requirement] of (plan.requirements ?? []).entries()) {
    if (requirement.maxAgeDays === undefined) continue
    const pattern = `<= ${requirement.maxAgeDays} days old`
    const condition = entry.requirements?.[index]?.conditions.find(c => c.pattern === pattern)
    if (!condition || !isWithinMaxAge(condition.value, requirement.maxAgeDays, now)) {
      return `the ${requirement.type} attestation is now older than max_age_days (${requirement.maxAgeDays})`
    }
  }
  return undefined
}

/**
 * The findings a cached entry stands for, if they still hold at `now`;
 * otherwise why not (the image is then verified afresh, which gives the
 * exact outcome).
 */
export function reuseCachedVerdict(
  entry: CachedVerdict,
  plan: ImagePlan,
  now: Date
): ({ ok: true } & VerdictFindings) | { ok: false; reason: string } {
  const why = rejudge(entry, plan, now)
  if (why !== undefined) return { ok: false, reason: `the cached verdict no longer holds: ${why}` }
  return {
    ok: true,
    signature: entry.signature,
    attestation: entry.attestation,
    ...(entry.requirements && { requirements: entry.requirements })
  }
}

/** Entries to save: still-valid restored ones (by key) and this run's, newest winning. */
export function mergeCachedVerdicts(
  restored: readonly CachedVerdict[],
  fresh: readonly CachedVerdict[]
): CachedVerdict[] {
  const byKey = new Map<string, CachedVerdict>()
  for (const entry of [...restored, ...fresh]) byKey.set(entry.key, entry)
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key))
}
