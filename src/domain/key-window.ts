/**
 * A key-based signer's rotation window (`valid_from`..`valid_until` of the
 * matrix row's `provenance` block), judged against an instant. Pure: the
 * cosign verifier judges it at verification, the verification cache again
 * when it reads a verdict judged in an earlier run.
 */

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
