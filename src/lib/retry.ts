/**
 * Bounded retries with exponential backoff and full jitter; a server's
 * `Retry-After` overrides the computed delay. Pure apart from the injected
 * `sleep`, so the schedule is testable without waiting.
 */

export interface RetryPolicy {
  /** Total attempts, the first included (>= 1). */
  maxAttempts: number
  /** Delay cap of the first retry; doubles each retry, before jitter. */
  baseDelayMs: number
  /** Upper bound of any computed delay. */
  maxDelayMs: number
  /** A `Retry-After` longer than this is not waited for: the error is returned instead. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 60_000
}

/** What a failed attempt says about trying again. */
interface RetryVerdict {
  retryable: boolean
  retryAfterMs?: number
}

/**
 * `Retry-After` as milliseconds from `nowMs`: delta-seconds or an HTTP date.
 * Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const dateMs = Date.parse(trimmed)
  if (Number.isNaN(dateMs)) return undefined
  return Math.max(0, dateMs - nowMs)
}

/** Full jitter: uniform in [0, min(maxDelayMs, baseDelayMs * 2^(retry-1))]. `retry` is 1-based. */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1))
  return Math.floor(random() * ceiling)
}

interface RetryHooks {
  classify: (error: unknown) => RetryVerdict
  sleep?: (ms: number) => Promise<void>
  random?: () => number
  /** Called before each wait, for a log line. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

const realSleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Runs `attempt` until it succeeds, fails with an error `classify` calls
 * final, or `policy.maxAttempts` is used up; then rethrows the last error.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks
): Promise<T> {
  const sleep = hooks.sleep ?? realSleep
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber)
    } catch (error: unknown) {
      const verdict = hooks.classify(error)
      if (!verdict.retryable || attemptNumber >= policy.maxAttempts) throw error
      if (verdict.retryAfterMs !== undefined && verdict.retryAfterMs > policy.maxRetryAfterMs)
        throw error
      const delayMs = verdict.retryAfterMs ?? backoffDelay(attemptNumber, policy, hooks.random)
      hooks.onRetry?.(error, attemptNumber, delayMs)
      await sleep(delayMs)
    }
  }
}
