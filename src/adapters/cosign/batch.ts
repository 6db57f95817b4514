/**
 * Fewer cosign processes, same verdicts (issue 17 part 1): `cosign verify`
 * accepts several references and checks them one after the other with the
 * same flags, printing one JSON array per verified image in argument order
 * and stopping at the first image that fails (exit 1 with that image's
 * message; several images, mixed: `no valid bundles exist in registry`, see
 * /work/shared/reference/cosign-outcomes.md). So images whose calls would
 * differ only in the reference are gathered for a short window and checked
 * by one call:
 *
 * - when it succeeds, each image gets its own array of the output, checked
 *   to name the image's digest (`critical.image.docker-manifest-digest`), as
 *   if it had been verified alone; the caller reads it as it always does
 *   (signature type, digest: output.ts);
 * - when it fails, the images whose arrays came out before the failure keep
 *   them, the first image without one is verified alone (its exact outcome
 *   and message), and the rest are gathered again.
 *
 * A group of one is the image's own call. Two requests for the same
 * reference never share a group (their arrays could not be told apart).
 */
import type { Digest } from '../../domain/types.js'

/** What a cosign call gave back, as far as grouping needs it. */
export interface GroupedRun {
  exitCode: number | null
  stdout: string
}

/** One image's request to be verified, possibly with others sharing its key. */
export interface BatchRequest<R extends GroupedRun> {
  /** `repository@digest`: the reference cosign is given. */
  reference: string
  /** The pinned digest the image's output must name. */
  digest: Digest
  /** This image's own call (the reference alone). */
  alone: () => Promise<R>
  /** One call for these references, in order (all share this request's key). */
  together: (references: string[]) => Promise<R>
  /** This image's result from its own array of a grouped call's output (`stdout`: that array). */
  fromGroup: (stdout: string) => R
}

export interface BatchOptions {
  /** How long the first request of a group waits for others (ms, default 20). */
  windowMs?: number
  /** Images per call at most (default 10); a full group is called at once. */
  maxImages?: number
  /** Called once per cosign call made for a group of two or more (for counts). */
  onGroup?: (size: number) => void
}

const DEFAULT_BATCH_WINDOW_MS = 20
const DEFAULT_BATCH_MAX_IMAGES = 10
/**
 * cosign checks a group's images one after the other, so a group trades
 * parallel network waits for fewer processes. Measured on 2 cores, 20 ms per
 * round trip (scripts/bench.ts): with fewer than ~4 calls in flight the
 * waits dominate and grouping is slower; above that, the processes' CPU does.
 */
const MIN_CALLS_IN_FLIGHT = 4

/**
 * Images per grouped call when `concurrency` images are checked at once:
 * enough calls stay in flight (MIN_CALLS_IN_FLIGHT), at most
 * DEFAULT_BATCH_MAX_IMAGES per call; 1 (no grouping, no waiting) up to
 * concurrency 7.
 */
export function groupSizeFor(concurrency: number): number {
  return Math.min(
    DEFAULT_BATCH_MAX_IMAGES,
    Math.max(1, Math.floor(concurrency / MIN_CALLS_IN_FLIGHT))
  )
}

interface Pending<R extends GroupedRun> {
  request: BatchRequest<R>
  resolve: (run: R) => void
  reject: (error: unknown) => void
}

interface OpenGroup<R extends GroupedRun> {
  members: Pending<R>[]
  timer: ReturnType<typeof setTimeout>
}

/**
 * The JSON arrays of `cosign verify --output json` in the order printed, as
 * text; undefined when the output holds anything else. An array cut off at
 * the end (a killed process) is left out.
 */
export function splitVerifyOutput(stdout: string): string[] | undefined {
  const arrays: string[] = []
  let depth = 0
  let start = -1
  let inString = false
  let escaped = false
  for (let i = 0; i < stdout.length; i++) {
    const c = stdout[i]
    if (inString) {
      if (escaped) escaped = false
      else if (c === '\\') escaped = true
      else if (c === '"') inString = false
      continue
    }
    if (depth === 0) {
      if (c === '[') {
        start = i
        depth = 1
      } else if (!/\s/.test(c)) return undefined
      continue
    }
    if (c === '"') inString = true
    else if (c === '[' || c === '{') depth++
    else if (c === ']' || c === '}') {
      depth--
      if (depth === 0) arrays.push(stdout.slice(start, i + 1))
    }
  }
  return arrays
}

/** Whether every entry of one image's array names `digest` as the signed manifest. */
function namesOnly(array: string, digest: Digest): boolean {
  let entries: unknown
  try {
    entries = JSON.parse(array)
  } catch {
    return false
  }
  if (!Array.isArray(entries)) return false
  return entries.every(entry => {
    const critical = (entry as { critical?: { image?: Record<string, unknown> } } | null)?.critical
    return critical?.image?.['docker-manifest-digest'] === digest
  })
}

/**
 * How many of `digests` (in argument order) the arrays can be given to: the
 * k-th array to the k-th image while it names that image's digest only.
 */
export function attributeArrays(arrays: readonly string[], digests: readonly Digest[]): number {
  let k = 0
  while (k < arrays.length && k < digests.length && namesOnly(arrays[k], digests[k])) k++
  return k
}

/** Gathers `cosign verify` requests by key (everything but the reference) into grouped calls. */
export class CosignBatcher<R extends GroupedRun> {
  private readonly windowMs: number
  private readonly maxImages: number
  private readonly open = new Map<string, OpenGroup<R>>()

  constructor(private readonly options: BatchOptions = {}) {
    this.windowMs = Math.max(0, options.windowMs ?? DEFAULT_BATCH_WINDOW_MS)
    this.maxImages = Math.max(1, options.maxImages ?? DEFAULT_BATCH_MAX_IMAGES)
  }

  /** The image's result: from a grouped call, or from its own when grouping cannot tell. */
  submit(key: string, request: BatchRequest<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.enqueue(key, { request, resolve, reject })
    })
  }

  private enqueue(key: string, pending: Pending<R>): void {
    let group = this.open.get(key)
    if (group?.members.some(m => m.request.reference === pending.request.reference)) {
      this.close(key)
      group = undefined
    }
    if (!group) {
      const timer = setTimeout(() => this.close(key), this.windowMs)
      group = { members: [], timer }
      this.open.set(key, group)
    }
    group.members.push(pending)
    if (group.members.length >= this.maxImages) this.close(key)
  }

  private close(key: string): void {
    const group = this.open.get(key)
    if (!group) return
    clearTimeout(group.timer)
    this.open.delete(key)
    void this.runGroup(key, group.members)
  }

  private async runGroup(key: string, members: Pending<R>[]): Promise<void> {
    if (members.length === 1) {
      const [only] = members
      await only.request.alone().then(only.resolve, only.reject)
      return
    }
    let run: R
    try {
      this.options.onGroup?.(members.length)
      run = await members[0].request.together(members.map(m => m.request.reference))
    } catch {
      // The grouped call itself broke: every image gets its own.
      for (const m of members) void m.request.alone().then(m.resolve, m.reject)
      return
    }
    const arrays = splitVerifyOutput(run.stdout) ?? []
    let attributed = attributeArrays(
      arrays,
      members.map(m => m.request.digest)
    )
    // A success prints every image's array; a failure stops before the last.
    if (run.exitCode === 0 && attributed !== members.length) attributed = 0
    if (run.exitCode !== 0) attributed = Math.min(attributed, members.length - 1)
    for (const m of members.slice(0, attributed)) {
      try {
        m.resolve(m.request.fromGroup(`\n${arrays[members.indexOf(m)]}\n`))
      } catch (error: unknown) {
        m.reject(error)
      }
    }
    const rest = members.slice(attributed)
    if (rest.length === 0) return
    // The first image without its array is the one that failed (or could not
    // be told apart): its own call gives its exact outcome and message.
    const [failed, ...unreached] = rest
    void failed.request.alone().then(failed.resolve, failed.reject)
    if (run.exitCode === 0) {
      for (const m of unreached) void m.request.alone().then(m.resolve, m.reject)
      return
    }
    for (const m of unreached) this.enqueue(key, m)
  }
}
