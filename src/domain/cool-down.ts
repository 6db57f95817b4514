/**
 * The updater's cool-down, pure (issue 14, policy `min_age_days`): a candidate
 * digest is written only when its signing time is at least `min_age_days`
 * old, and only a verified signing time counts — the transparency log's
 * integrated time or an RFC 3161 timestamp of a signer that counted.
 * Registry metadata, an image config's `created` and the run's own clock
 * never count (anyone who can push can write them). A candidate whose age
 * cannot be verified is refused while `min_age_days > 0`.
 */
import type { SignatureFinding, VerifiedSigningTime } from './types.js'

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * The earliest verified signing time among the signers that counted: the
 * digest was publicly signed by a trusted signer since then. Undefined when
 * none carries a log or timestamp time (a key checked with
 * `--insecure-ignore-tlog`, a signature whose bundle gave no time).
 */
export function verifiedSigningTime(
  signature: Pick<SignatureFinding, 'signers'>
): VerifiedSigningTime | undefined {
  let earliest: VerifiedSigningTime | undefined
  for (const signer of signature.signers ?? []) {
    if (!signer.counted || signer.signingTime === undefined) continue
    const source = signer.signingTimeSource
    if (source !== 'tlog' && source !== 'tsa') continue
    const at = Date.parse(signer.signingTime)
    if (Number.isNaN(at)) continue
    if (earliest === undefined || at < Date.parse(earliest.at)) {
      earliest = { at: new Date(at).toISOString(), source, signer: signer.name }
    }
  }
  return earliest
}

type CoolDownVerdict =
  { passes: true; signedAt?: VerifiedSigningTime } | { passes: false; reason: string }

/**
 * Whether a candidate signed at `signedAt` is at least `minAgeDays` days old
 * at `now` (days of 24 hours). `minAgeDays` 0 always passes.
 */
export function checkCoolDown(
  signedAt: VerifiedSigningTime | undefined,
  minAgeDays: number,
  now: Date
): CoolDownVerdict {
  if (minAgeDays <= 0) return { passes: true, ...(signedAt && { signedAt }) }
  if (!signedAt) {
    return {
      passes: false,
      reason:
        `min_age_days is ${minAgeDays}, but the candidate's signing time could not be verified ` +
        '(no transparency-log or timestamp time from a signer that counted; registry dates and image `created` do not count)'
    }
  }
  const signed = Date.parse(signedAt.at)
  const ageMs = now.getTime() - signed
  if (ageMs >= minAgeDays * DAY_MS) return { passes: true, signedAt }
  const from = new Date(signed + minAgeDays * DAY_MS).toISOString()
  const source = signedAt.source === 'tlog' ? 'transparency log' : 'signed timestamp'
  return {
    passes: false,
    reason:
      `min_age_days is ${minAgeDays}: the candidate was signed ${signedAt.at} (${source}, ${signedAt.signer}), ` +
      `${(Math.max(0, ageMs) / DAY_MS).toFixed(1)} days ago; it may be written from ${from}`
  }
}
