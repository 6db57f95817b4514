/**
 * The benchmark's arithmetic, pure: medians and spreads, the network time of
 * one image's request chain, the cosign processes a wrapper recorded, and the
 * table printed at the end.
 */
import type { RecordedRequest } from './fault-proxy.js'

export interface Sample {
  median: number
  min: number
  max: number
  values: number[]
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function sampleOf(values: readonly number[]): Sample {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    values: [...values]
  }
}

/** Total length covered by a set of [start, end] intervals (overlaps counted once). */
export function coveredLength(intervals: readonly (readonly [number, number])[]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0])
  let total = 0
  let [start, end] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]
  for (const [from, to] of sorted) {
    if (from > end) {
      if (end > start) total += end - start
      ;[start, end] = [from, to]
    } else if (to > end) end = to
  }
  if (end > start) total += end - start
  return total
}

export interface ImageChain {
  tag: string
  requests: number
  /** Time with at least one of the image's requests in flight, in ms. */
  networkMs: number
}

/**
 * Splits the requests of a run that checked one image at a time into one
 * chain per image: an image's chain starts at the request for its tag's
 * manifest and runs until the next image's does. Requests before the first
 * tag (none, normally) are left out.
 */
export function chainsOfSequentialRun(
  requests: readonly RecordedRequest[],
  tags: readonly string[]
): ImageChain[] {
  const tagOf = new Map(tags.map(tag => [`/manifests/${tag}`, tag]))
  const chains: { tag: string; intervals: [number, number][] }[] = []
  const ordered = [...requests].sort((a, b) => (a.receivedAt ?? 0) - (b.receivedAt ?? 0))
  for (const request of ordered) {
    const suffix = request.path.slice(request.path.lastIndexOf('/manifests/'))
    const tag = request.path.includes('/manifests/') ? tagOf.get(suffix) : undefined
    if (tag !== undefined && !chains.some(chain => chain.tag === tag)) {
      chains.push({ tag, intervals: [] })
    }
    const current = chains.at(-1)
    if (!current || request.receivedAt === undefined) continue
    current.intervals.push([request.receivedAt, request.finishedAt ?? request.receivedAt])
  }
  return chains.map(({ tag, intervals }) => ({
    tag,
    requests: intervals.length,
    networkMs: coveredLength(intervals)
  }))
}

/** What kind of registry request a path is, for counting requests per image. */
export function requestKind(method: string, path: string): string {
  if (/^\/v2\/?$/.test(path)) return `${method} /v2/ (ping)`
  if (path.includes('/referrers/')) return `${method} referrers`
  if (/\/manifests\/sha256-[0-9a-f]{64}(\.sig)?$/.test(path))
    return `${method} manifest by signature tag`
  if (path.includes('/manifests/sha256:')) return `${method} manifest by digest`
  if (path.includes('/manifests/')) return `${method} manifest by tag`
  if (path.includes('/blobs/')) return `${method} blob`
  if (path.includes('/tags/list')) return `${method} tag list`
  return `${method} other`
}

export function countByKind(requests: readonly RecordedRequest[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const { method, path } of requests) {
    const kind = requestKind(method, path)
    counts[kind] = (counts[kind] ?? 0) + 1
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)))
}

export interface CosignProcess {
  /** cosign's first argument: `verify`, `version`, … */
  command: string
  /** Epoch seconds (bash `$EPOCHREALTIME`) when the wrapper started and ended. */
  startedAt: number
  endedAt: number
  userSeconds: number
  systemSeconds: number
}

/** One line of bash `times` (`0m1.234s 0m0.056s`) → [user, system] seconds. */
export function parseBashTimes(line: string): [number, number] {
  const seconds = line
    .trim()
    .split(/\s+/)
    .map(part => {
      const match = /^(\d+)m([\d.]+)s$/.exec(part)
      if (!match) throw new Error(`not a line of bash times: ${line}`)
      return Number(match[1]) * 60 + Number(match[2])
    })
  if (seconds.length !== 2) throw new Error(`not a line of bash times: ${line}`)
  return [seconds[0], seconds[1]]
}

/**
 * One wrapper record: the command, the start and end time, then the two
 * lines of bash `times` (the shell's own, then its children's — cosign's).
 */
export function parseCosignRecord(text: string): CosignProcess {
  const lines = text.trim().split('\n')
  if (lines.length !== 5) throw new Error(`unexpected cosign wrapper record: ${text}`)
  const [command, started, ended, , children] = lines
  const [user, system] = parseBashTimes(children)
  return {
    command,
    startedAt: Number(started.replace(',', '.')),
    endedAt: Number(ended.replace(',', '.')),
    userSeconds: user,
    systemSeconds: system
  }
}

export interface TableRow {
  n: number
  variant: string
  wall: Sample
  ratioToBaseline: number
  ratioToLowerBound: number
  peakMemoryMiB?: number
  startupMs?: number
  /** cosign processes of one run (median), where counted. */
  cosignProcesses?: number
  /** Requests the registry received per image (median run). */
  requestsPerImage?: number
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '-' : value.toFixed(digits)
}

/** The results as a plain-text table: wall time as median (min–max) in seconds. */
export function formatTable(rows: readonly TableRow[]): string {
  const header = [
    'N',
    'variant',
    'wall s median (min-max)',
    'x baseline',
    'x lower bound',
    'peak MiB',
    'start-up ms',
    'cosign procs',
    'req/image'
  ]
  const body = rows.map(row => [
    String(row.n),
    row.variant,
    `${fixed(row.wall.median / 1000, 2)} (${fixed(row.wall.min / 1000, 2)}-${fixed(row.wall.max / 1000, 2)})`,
    fixed(row.ratioToBaseline, 3),
    fixed(row.ratioToLowerBound, 2),
    fixed(row.peakMemoryMiB, 1),
    fixed(row.startupMs, 0),
    fixed(row.cosignProcesses, 0),
    fixed(row.requestsPerImage, 1)
  ])
  const widths = header.map((cell, i) => Math.max(cell.length, ...body.map(line => line[i].length)))
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')
  return [line(header), widths.map(w => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}
