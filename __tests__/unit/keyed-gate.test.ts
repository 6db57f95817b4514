import { describe, expect, it } from '@jest/globals'
import { KeyedGate } from '../../src/lib/keyed-gate.js'

/** A gate on a clock that only moves when someone sleeps. */
function fakeGate(limit: number) {
  const clock = { now: 0 }
  const gate = new KeyedGate({
    limit,
    now: () => clock.now,
    sleep: async ms => {
      clock.now += ms
    }
  })
  return { gate, clock }
}

describe('KeyedGate', () => {
  it('holds every task of a key under back-off, and only that key', async () => {
    const { gate, clock } = fakeGate(4)
    gate.backOff('a', 1000)
    const startedAt: Record<string, number> = {}
    await gate.run('b', async () => {
      startedAt.b = clock.now
    })
    await gate.run('a', async () => {
      startedAt.a = clock.now
    })
    expect(startedAt).toEqual({ b: 0, a: 1000 })
  })

  it('counts overlapping back-offs once', () => {
    const { gate, clock } = fakeGate(1)
    gate.backOff('a', 1000)
    clock.now = 200
    gate.backOff('a', 500) // inside the first: nothing added
    clock.now = 500
    gate.backOff('a', 1000) // to 1500: 500 added
    clock.now = 3000
    gate.backOff('a', 100)
    expect(gate.records()).toEqual([{ key: 'a', responses: 4, firstAtMs: 0, waitedMs: 1600 }])
  })

  it('runs at most `limit` tasks of a key at once, and every task', async () => {
    const { gate } = fakeGate(2)
    let inFlight = 0
    let most = 0
    const done = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        gate.run('a', async () => {
          inFlight += 1
          most = Math.max(most, inFlight)
          await new Promise(resolve => setImmediate(resolve))
          inFlight -= 1
          return i
        })
      )
    )
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(most).toBe(2)
  })

  it('refuses a limit below one', () => {
    expect(() => new KeyedGate({ limit: 0 })).toThrow(RangeError)
  })
})
