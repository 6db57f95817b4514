/**
 * The verification cache's rules, pure: what a cached verdict's key covers,
 * which verdicts may be cached, and whether a cached one may be used now.
 *
 * - The key is the SHA-256 of the canonical JSON of: the entry format, the
 *   action's version, the cosign binary's identity, the image's repository
 *   and pinned digest, its whole effective policy (less `sources`, which only
 *   says where settings were written) and its whole signer expectation, the
 *   fingerprint of the key file's public key and the digest of the trusted
 *   root it names. Whole objects are hashed, so a field added to either later
 *   is covered without touching this file.
 * - Only positive verdicts are kept: a verified signature, and an attestation
 *   that is verified or not asked for (`attest_mode: none`).
 * - At reading: the entry's checksum must hold (else it is corrupted), it
 *   must be younger than `cache_ttl` hours, and a key's validity window is
 *   judged again — at the signing time the log vouched for, or now when no
 *   log entry was checked (the verifier's own rule). Drift and pin age are
 *   never cached.
 */
import { canonicalJson } from '../lib/canonical-json.js'
import { checkKeyWindow } from '../domain/key-window.js'
import type { AttestationFinding, Digest, ImagePlan, SignatureFinding } from '../domain/types.js'
import type { CachedVerdict, VerdictMaterial } from './ports.js'

/** Bumped when an entry's meaning changes; part of every key. */
export const VERDICT_CACHE_FORMAT = 1
const HOUR_MS = 60 * 60 * 1000

/**
 * The key of `plan`'s verdict on `digest`, or undefined when something it
 * depends on could not be read (a key file, a trusted root): such an image is
 * neither looked up nor saved.
 */
export function verdictKey(
  plan: ImagePlan,
  digest: Digest,
  material: VerdictMaterial,
  actionVersion: string,
  sha256: (text: string) => string
): string | undefined {
  if (!plan.signer) return undefined
  const keyFingerprint =
    plan.signer.kind === 'key' ? material.keyFingerprints[plan.signer.keyPath] : null
  if (keyFingerprint === undefined) return undefined
  const trustedRoot =
    plan.policy.trustedRoot !== undefined ? material.trustedRoots[plan.policy.trustedRoot] : null
  if (trustedRoot === undefined) return undefined
  // `sources` says where settings were written, not what they are.
  const policy: Partial<ImagePlan['policy']> = { ...plan.policy }
  delete policy.sources
  return sha256(
    canonicalJson({
      format: VERDICT_CACHE_FORMAT,
      action: actionVersion,
      cosign: material.cosign,
      repository: plan.repository,
      digest,
      policy,
      signer: plan.signer,
      keyFingerprint,
      trustedRoot
    })
  )
}

/** Whether a fresh verdict may be saved: only positive ones are. */
export function isCacheable(signature: SignatureFinding, attestation: AttestationFinding): boolean {
  return (
    signature.outcome === 'verified' &&
    (attestation.outcome === 'verified' ||
      (attestation.mode === 'none' && attestation.outcome === 'skipped'))
  )
}

function checksumOf(entry: Omit<CachedVerdict, 'checksum'>, sha256: (text: string) => string) {
  return sha256(
    canonicalJson({
      key: entry.key,
      judgedAt: entry.judgedAt,
      signature: entry.signature,
      attestation: entry.attestation
    })
  )
}

/** A cache entry for a verdict judged at `judgedAt`. */
export function newCachedVerdict(
  key: string,
  judgedAt: Date,
  signature: SignatureFinding,
  attestation: AttestationFinding,
  sha256: (text: string) => string
): CachedVerdict {
  const entry = { key, judgedAt: judgedAt.toISOString(), signature, attestation }
  return { ...entry, checksum: checksumOf(entry, sha256) }
}

export type CachedVerdictCheck =
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
  if (typeof entry.signature !== 'object' || typeof entry.attestation !== 'object')
    return corrupted('no findings')
  const whole = entry as CachedVerdict
  if (checksumOf(whole, sha256) !== whole.checksum) return corrupted('checksum mismatch')
  if (!isCacheable(whole.signature, whole.attestation)) return corrupted('not a positive verdict')
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

/**
 * The findings a cached entry stands for, judged again for `now`: a key's
 * validity window holds at the time it is judged against, or the entry is not
 * used (the image is verified afresh, which gives the exact outcome).
 */
export function reuseCachedVerdict(
  entry: CachedVerdict,
  plan: ImagePlan,
  now: Date
):
  | { ok: true; signature: SignatureFinding; attestation: AttestationFinding }
  | { ok: false; reason: string } {
  const { signature } = entry
  if (plan.signer?.kind === 'key') {
    const signedAt =
      signature.tlogChecked && signature.signedAt ? new Date(signature.signedAt) : undefined
    const window = signedAt
      ? checkKeyWindow(plan.signer, signedAt, 'signed at')
      : checkKeyWindow(plan.signer, now)
    if (window.status !== 'valid') {
      return { ok: false, reason: `the cached verdict no longer holds: ${window.message}` }
    }
  }
  return { ok: true, signature: entry.signature, attestation: entry.attestation }
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
