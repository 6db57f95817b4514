/**
 * One run's use of the verification cache (the port `VerdictCache`): restore
 * once before the images are checked, look each image up, collect the fresh
 * positive verdicts, save once at the end. Every failure becomes a note in
 * the run's cache status; none changes a verdict or stops the run.
 */
import { causeChain } from '../domain/errors.js'
import type { Digest, ImageCacheUse, ImagePlan, RunCacheStatus } from '../domain/types.js'
import type { CachedVerdict, VerdictCache, VerdictMaterial } from './ports.js'
import {
  checkCachedVerdict,
  isCacheable,
  mergeCachedVerdicts,
  newCachedVerdict,
  reuseCachedVerdict,
  verdictKey,
  type VerdictFindings
} from './verdict-cache.js'

/** Said once when a run has no cache service at all (the command line, a runner without one). */
const NO_CACHE_SERVICE = 'no cache service here; every image was verified by cosign'

export type CacheLookup =
  ({ use: 'hit'; judgedAt: string } & VerdictFindings) | { use: 'miss'; ignored?: string }

export interface CacheSession {
  lookup(plan: ImagePlan, digest: Digest, now: Date): CacheLookup | Promise<CacheLookup>
  /** Keeps a fresh verdict for saving, when it is positive and its key could be made. */
  record(plan: ImagePlan, digest: Digest, findings: VerdictFindings, judgedAt: Date): void
  /** Saves what is new; returns the run's cache status. */
  finish(): Promise<RunCacheStatus>
}

interface CacheSessionOptions {
  /** The `cache` input. */
  enabled: boolean
  ttlHours: number
  actionVersion: string
  now: Date
  log?: (message: string) => void
}

/** What an image's cache use says, for its findings. */
export function imageCacheUse(lookup: CacheLookup | undefined): ImageCacheUse | undefined {
  if (!lookup) return undefined
  if (lookup.use === 'hit') return { status: 'hit', judgedAt: lookup.judgedAt }
  return lookup.ignored !== undefined ? { status: 'ignored', reason: lookup.ignored } : undefined
}

function inactive(status: RunCacheStatus): CacheSession {
  return {
    lookup: () => ({ use: 'miss' }),
    record: () => undefined,
    finish: () => Promise.resolve(status)
  }
}

/**
 * Opens the session at once and restores in the background: digest checks
 * start while the cache is restored (and the cosign binary hashed); only an
 * image that reaches its signature check waits for the restore.
 */
export function openCacheSession(
  plans: readonly ImagePlan[],
  options: CacheSessionOptions,
  cache: VerdictCache | undefined
): CacheSession {
  const session = restoreCacheSession(plans, options, cache)
  const recorded: Promise<void>[] = []
  return {
    lookup: async (plan, digest, now) => (await session).lookup(plan, digest, now),
    record(...args) {
      recorded.push(session.then(opened => opened.record(...args)))
    },
    async finish() {
      await Promise.all(recorded)
      return (await session).finish()
    }
  }
}

async function restoreCacheSession(
  plans: readonly ImagePlan[],
  options: CacheSessionOptions,
  cache: VerdictCache | undefined
): Promise<CacheSession> {
  if (!options.enabled) return inactive({ status: 'disabled', hits: 0, saved: 0 })
  if (!cache) {
    options.log?.(`verification cache: ${NO_CACHE_SERVICE}`)
    return inactive({ status: 'unavailable', note: NO_CACHE_SERVICE, hits: 0, saved: 0 })
  }
  const unavailable = (reason: string): CacheSession => {
    const note = `the verification cache could not be used (${reason}); every image was verified by cosign`
    options.log?.(`verification cache: ${note}`)
    return inactive({ status: 'unavailable', note, hits: 0, saved: 0 })
  }
  // The material (hashing the cosign binary, reading keys) only once a
  // service answered: a run without one pays nothing for it.
  let material: VerdictMaterial
  let restored: Awaited<ReturnType<VerdictCache['restore']>>
  try {
    restored = await cache.restore()
    if (!restored.ok) return unavailable(restored.reason)
    material = await cache.material(plans)
  } catch (error) {
    return unavailable(causeChain(error).join(': '))
  }

  const sha256 = (text: string): string => cache.sha256(text)
  const notes: string[] = restored.note ? [restored.note] : []
  // Intact, unexpired entries by key; the rest are reported when an image meets them.
  const usable = new Map<string, CachedVerdict>()
  const unusable = new Map<string, string>()
  for (const raw of restored.entries) {
    const checked = checkCachedVerdict(raw, options.now, options.ttlHours, sha256)
    const key = (raw as { key?: unknown } | null)?.key
    if (checked.ok) usable.set(checked.entry.key, checked.entry)
    else if (typeof key === 'string') unusable.set(key, checked.reason)
  }
  const fresh: CachedVerdict[] = []
  let hits = 0

  return {
    lookup(plan, digest, now) {
      const key = verdictKey(plan, digest, material, options.actionVersion, sha256)
      if (key === undefined) return { use: 'miss' }
      const entry = usable.get(key)
      if (!entry) {
        const why = unusable.get(key)
        return why !== undefined ? { use: 'miss', ignored: why } : { use: 'miss' }
      }
      const reused = reuseCachedVerdict(entry, plan, now)
      if (!reused.ok) {
        usable.delete(key)
        return { use: 'miss', ignored: reused.reason }
      }
      hits += 1
      return { use: 'hit', ...reused, judgedAt: entry.judgedAt }
    },
    record(plan, digest, findings, judgedAt) {
      if (!isCacheable(findings)) return
      const key = verdictKey(plan, digest, material, options.actionVersion, sha256)
      if (key === undefined) return
      fresh.push(newCachedVerdict(key, judgedAt, findings, sha256))
    },
    async finish() {
      let saved = 0
      if (fresh.length > 0) {
        try {
          const result = await cache.save(mergeCachedVerdicts([...usable.values()], fresh))
          if (result.ok) saved = fresh.length
          else notes.push(`the verified results were not saved (${result.reason})`)
        } catch (error) {
          notes.push(`the verified results were not saved (${causeChain(error).join(': ')})`)
        }
      }
      for (const note of notes) options.log?.(`verification cache: ${note}`)
      return {
        status: 'used',
        ...(notes.length > 0 && { note: notes.join('; ') }),
        hits,
        saved
      }
    }
  }
}
