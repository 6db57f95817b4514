/**
 * The verification cache on GitHub's cache service, through the real
 * `@actions/cache` client (loaded only when the cache is used: it brings the
 * Azure storage client). One service entry holds every verified result as a
 * JSON file; entries are immutable, so each save that adds results makes a new
 * entry `rocm-provenance-verdicts-v1-<sha256 of its content>`, and a restore
 * takes the newest entry with that prefix (the service's rule for restore
 * keys). Which results are usable is the use case's decision
 * (app/verdict-cache.ts); this file only moves bytes and reads the material a
 * key depends on. Nothing here throws at its caller for a service problem.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { CachedVerdict, CacheRestore, VerdictCache, VerdictMaterial } from '../../app/ports.js'
import type { ImagePlan } from '../../domain/types.js'
import { causeChain } from '../../domain/errors.js'
import { publicKeyFingerprint } from '../cosign/key.js'

/** Every entry's key starts with this; bump the `v1` with the file's format. */
const VERDICT_CACHE_KEY_PREFIX = 'rocm-provenance-verdicts-v1-'
const VERDICT_CACHE_FILE = 'verdicts.json'
const FILE_FORMAT = 1

interface ActionsVerdictCacheOptions {
  workspace: string
  /**
   * Folder the file is saved from and restored into. The service files
   * entries under a version that hashes the paths, so it must be the same
   * path in every run (the runner's temporary folder is).
   */
  directory: string
  /** Identity of the cosign binary, without running it (see `cosignIdentity`). */
  cosignIdentity: () => Promise<string>
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

async function readMaterial(
  plans: readonly ImagePlan[],
  workspace: string,
  cosign: Promise<string>
): Promise<VerdictMaterial> {
  const keyFingerprints: Record<string, string> = {}
  const trustedRoots: Record<string, string> = {}
  const keyPaths = new Set<string>()
  const rootPaths = new Set<string>()
  for (const plan of plans) {
    if (plan.signer?.kind === 'key') keyPaths.add(plan.signer.keyPath)
    if (plan.policy.trustedRoot !== undefined) rootPaths.add(plan.policy.trustedRoot)
  }
  // A file that cannot be read is left out: its images are verified, not cached.
  await Promise.all([
    ...[...keyPaths].map(async path => {
      try {
        keyFingerprints[path] = publicKeyFingerprint(
          await readFile(resolve(workspace, path), 'utf8')
        )
      } catch {
        /* left out */
      }
    }),
    ...[...rootPaths].map(async path => {
      try {
        trustedRoots[path] = `sha256:${sha256Hex(await readFile(resolve(workspace, path)))}`
      } catch {
        /* left out */
      }
    })
  ])
  return { cosign: await cosign, keyFingerprints, trustedRoots }
}

/** Resolves after two turns of the event loop: I/O already under way (a connect, a write) goes first. */
async function afterPendingIo(): Promise<void> {
  for (let turn = 0; turn < 2; turn++) await new Promise(resolve => setImmediate(resolve))
}

export function createActionsVerdictCache(options: ActionsVerdictCacheOptions): VerdictCache {
  const file = join(options.directory, VERDICT_CACHE_FILE)
  return {
    material: plans => readMaterial(plans, options.workspace, options.cosignIdentity()),
    sha256: text => sha256Hex(text),

    async restore(): Promise<CacheRestore> {
      const noService = {
        ok: false as const,
        reason: 'no cache service on this runner (ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL unset)'
      }
      // Without either address the library's own test fails too: do not load
      // it (its parse is a good part of the start-up) just to be told so.
      if (!process.env.ACTIONS_CACHE_URL && !process.env.ACTIONS_RESULTS_URL) return noService
      // The restore starts as the digest checks do: let their first requests
      // go out before the client's evaluation holds the event loop.
      await afterPendingIo()
      const cache = await import('@actions/cache')
      if (!cache.isFeatureAvailable()) return noService
      try {
        await rm(options.directory, { recursive: true, force: true })
        await mkdir(options.directory, { recursive: true })
        // The library answers a miss and a failing service alike (undefined,
        // with its own warning for the latter): both mean "verify afresh".
        const matched = await cache.restoreCache(
          [options.directory],
          `${VERDICT_CACHE_KEY_PREFIX}latest`,
          [VERDICT_CACHE_KEY_PREFIX]
        )
        if (matched === undefined) return { ok: true, entries: [] }
      } catch (error) {
        return { ok: false, reason: causeChain(error).join(': ') }
      }
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch (error) {
        return {
          ok: true,
          entries: [],
          note: `the restored cache entry has no ${VERDICT_CACHE_FILE} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}); verified afresh`
        }
      }
      try {
        const parsed = JSON.parse(text) as { format?: unknown; entries?: unknown }
        if (parsed.format !== FILE_FORMAT || !Array.isArray(parsed.entries))
          throw new Error(`not format ${FILE_FORMAT}`)
        return { ok: true, entries: parsed.entries }
      } catch (error) {
        return {
          ok: true,
          entries: [],
          note: `the restored ${VERDICT_CACHE_FILE} is corrupted (${causeChain(error).join(': ')}); every image was verified afresh`
        }
      }
    },

    async save(entries: readonly CachedVerdict[]) {
      try {
        const cache = await import('@actions/cache')
        const text = `${JSON.stringify({ format: FILE_FORMAT, entries }, null, 1)}\n`
        await mkdir(options.directory, { recursive: true })
        await writeFile(file, text)
        const key = `${VERDICT_CACHE_KEY_PREFIX}${sha256Hex(text)}`
        const id = await cache.saveCache([options.directory], key)
        return id === -1
          ? { ok: false as const, reason: `the cache service did not take entry ${key}` }
          : { ok: true as const }
      } catch (error) {
        return { ok: false as const, reason: causeChain(error).join(': ') }
      }
    }
  }
}

/**
 * The cosign binary's identity for cache keys, without running it: the
 * release and the SHA-256 the install checks it against, or, for a given
 * binary (`cosign-path`), the SHA-256 of the file itself.
 */
export async function cosignIdentity(
  source: { cosignPath: string } | { version: string; sha256: string },
  hashFile: (path: string) => Promise<string>
): Promise<string> {
  if ('cosignPath' in source) return `file sha256:${await hashFile(source.cosignPath)}`
  return `release ${source.version} sha256:${source.sha256}`
}
