/**
 * Scheduling per key (a registry host): at most `limit` tasks in flight per
 * key, and a back-off shared by every task of a key — when one is told to
 * wait (`429`/`503` with `Retry-After`), none of that key's tasks starts
 * until the time has passed, not only the one that was told. Records how
 * often and how long each key was held back. The clock and sleep are
 * injected so the schedule is testable.
 */

interface GateRecord {
  key: string
  /** How many back-offs were asked for. */
  responses: number
  /** Clock time (ms) of the first back-off. */
  firstAtMs: number
  /** Milliseconds under back-off, overlapping back-offs counted once. */
  waitedMs: number
}

interface KeyState {
  inFlight: number
  queue: (() => void)[]
  untilMs: number
  record?: GateRecord
}

interface KeyedGateOptions {
  /** Tasks in flight per key, >= 1. */
  limit: number
  now?: () => number
  sleep?: (ms: number) => Promise<void>
}

const realSleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export class KeyedGate {
  private limit: number
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly keys = new Map<string, KeyState>()

  constructor(options: KeyedGateOptions) {
    this.limit = KeyedGate.checkLimit(options.limit)
    this.now = options.now ?? Date.now
    this.sleep = options.sleep ?? realSleep
  }

  private static checkLimit(limit: number): number {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`a gate's limit must be a positive integer, got ${limit}`)
    return limit
  }

  /** Changes the per-key limit for tasks not yet started. */
  setLimit(limit: number): void {
    this.limit = KeyedGate.checkLimit(limit)
    for (const state of this.keys.values()) this.wake(state)
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key)
    if (!state) {
      state = { inFlight: 0, queue: [], untilMs: 0 }
      this.keys.set(key, state)
    }
    return state
  }

  /** Resolves once `key` is not under back-off (at once when it is not). */
  async clearance(key: string): Promise<void> {
    const state = this.state(key)
    for (let wait = state.untilMs - this.now(); wait > 0; wait = state.untilMs - this.now()) {
      await this.sleep(wait)
    }
  }

  /** Runs `task` when `key` is clear and has a free slot. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const state = this.state(key)
    for (;;) {
      await this.clearance(key)
      if (state.inFlight < this.limit) break
      await new Promise<void>(resolve => state.queue.push(resolve))
    }
    state.inFlight += 1
    try {
      return await task()
    } finally {
      state.inFlight -= 1
      this.wake(state)
    }
  }

  /** Lets every waiting task look again; those that find no free slot wait again. */
  private wake(state: KeyState): void {
    const waiting = state.queue.splice(0)
    for (const resume of waiting) resume()
  }

  /** Holds every task of `key` for `ms` from now (a longer hold already set stands). */
  backOff(key: string, ms: number): void {
    const state = this.state(key)
    const now = this.now()
    const until = now + Math.max(0, ms)
    const added = Math.max(0, until - Math.max(now, state.untilMs))
    state.record ??= { key, responses: 0, firstAtMs: now, waitedMs: 0 }
    state.record.responses += 1
    state.record.waitedMs += added
    state.untilMs = Math.max(state.untilMs, until)
  }

  /** Every key that was held back, in the order first held. */
  records(): GateRecord[] {
    return [...this.keys.values()]
      .flatMap(state => (state.record ? [{ ...state.record }] : []))
      .sort((a, b) => a.firstAtMs - b.firstAtMs)
  }
}
