/**
 * Pin age: how many whole days ago a digest was pinned (the row's `added`
 * date), and whether that is past the policy's `digest_ttl`. Pure.
 */
import type { AgeFinding } from './types.js'

const DAY_MS = 24 * 60 * 60 * 1000
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** Midnight UTC of a `YYYY-MM-DD` date, or undefined when it is not a real calendar date. */
function parseIsoDate(text: string): number | undefined {
  const match = ISO_DATE.exec(text)
  if (!match) return undefined
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const time = Date.UTC(year, month - 1, day)
  const date = new Date(time)
  const sameDay =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  return sameDay ? time : undefined
}

/**
 * A pin is stale when it is more than `ttlDays` whole days old (UTC calendar
 * days). An absent, malformed or future `added` date leaves the age unknown:
 * not stale, with a `note` saying why.
 */
export function checkAge(added: string | undefined, ttlDays: number, now: Date): AgeFinding {
  if (added === undefined || added.trim() === '') {
    return { ttlDays, stale: false, note: 'no `added` date: the pin age is unknown' }
  }
  const addedAt = parseIsoDate(added.trim())
  if (addedAt === undefined) {
    return { added, ttlDays, stale: false, note: `\`added\` "${added}" is not a YYYY-MM-DD date` }
  }
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
  const ageDays = Math.round((today - addedAt) / DAY_MS)
  if (ageDays < 0) {
    return { added, ageDays, ttlDays, stale: false, note: `\`added\` ${added} is in the future` }
  }
  return { added, ageDays, ttlDays, stale: ageDays > ttlDays }
}
