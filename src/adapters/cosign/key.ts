/**
 * Pure checks of a key-based signer: its fingerprint and its rotation window.
 *
 * The fingerprint is the SHA-256 of the DER-encoded public key
 * (SubjectPublicKeyInfo), written `sha256:<hex>` — not of the PEM file, so
 * line endings and armour do not change it. To compute it by hand:
 *   openssl pkey -pubin -in cosign.pub -outform DER | sha256sum
 */
import { createHash, createPublicKey } from 'node:crypto'

/** `sha256:<hex>` of the DER public key in a PEM file; throws when it is not a public key. */
export function publicKeyFingerprint(pem: string): string {
  const der = createPublicKey({ key: pem, format: 'pem' }).export({ type: 'spki', format: 'der' })
  return `sha256:${createHash('sha256').update(der).digest('hex')}`
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

export type KeyWindowStatus =
  | { status: 'valid' }
  | { status: 'expired'; message: string }
  | { status: 'bad-date'; message: string }

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Whether `at` lies in the key's `valid_from`..`valid_until` window. Both
 * ends are inclusive; a date without a time covers that whole UTC day.
 * `atLabel` says in messages what `at` is (`now`, `signed at`).
 */
export function checkKeyWindow(
  window: { validFrom?: string; validUntil?: string },
  at: Date,
  atLabel = 'now'
): KeyWindowStatus {
  const from = parseWindowDate(window.validFrom, 'start')
  const until = parseWindowDate(window.validUntil, 'end')
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
      status: 'expired',
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

/** Milliseconds of the first (start) or last (end) instant a date covers. */
function parseWindowDate(value: string | undefined, end: 'start' | 'end'): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  const time = Date.parse(DATE_ONLY.test(trimmed) ? `${trimmed}T00:00:00Z` : trimmed)
  if (Number.isNaN(time)) return undefined
  return DATE_ONLY.test(trimmed) && end === 'end' ? time + DAY_MS - 1 : time
}
