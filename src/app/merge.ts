/**
 * `command: merge`: shard reports (input `reports`) → the run a single,
 * unsharded run would have given — its images in matrix order, its exit code,
 * decision and trust status — rendered by the same report, summary and
 * outputs. Shards that do not make up one whole run are a configuration
 * error (exit 4) naming the shard: a missing or duplicated shard, shards of
 * different counts, shards judged under different configurations
 * (`run.configDigest`, app/config-digest.ts) or another one than the merging
 * workspace's, shards of another workflow run, shards that do not report
 * exactly their own images, and shards whose recorded decisions are not what
 * their findings decide.
 */
import { decideImage, decisionFor, summariseRun } from '../domain/decide.js'
import type { ConfigIssue } from '../domain/errors.js'
import type { ExitCode, RegistryThrottle, RunCacheStatus, RunResult } from '../domain/types.js'
import { ACTION_VERSION } from '../domain/action-version.js'
import { shardOf } from '../domain/shard.js'
import { runFromReport } from '../render/report-read.js'
import { configDigest } from './config-digest.js'
import type { LoadConfig } from './ports.js'
import { loadPlans, preferredReference, type PipelineOptions } from './verify.js'
import type { ProvenanceReport } from '../render/report.js'

/** One file the `reports` glob matched: where it came from and what it holds (parsed JSON). */
export interface ShardReportFile {
  source: string
  document: unknown
}

interface Shard {
  source: string
  report: ProvenanceReport
  index: number
  count: number
}

function shortConfig(digest: string | undefined): string {
  return digest === undefined ? 'no configuration digest' : digest.slice(0, 'sha256:'.length + 12)
}

/** The shard a document is, or why it is not one. */
function readShard(file: ShardReportFile): Shard | string {
  const report = file.document as Partial<ProvenanceReport> | null
  if (
    typeof report !== 'object' ||
    report === null ||
    typeof report.schemaVersion !== 'string' ||
    !report.schemaVersion.startsWith('1.') ||
    !Array.isArray(report.images) ||
    typeof report.run !== 'object'
  ) {
    return `${file.source} is not a provenance report (rocm_provenance.json, schemaVersion 1.x)`
  }
  const shard = report.run.shard
  if (!shard || !Number.isInteger(shard.index) || !Number.isInteger(shard.count)) {
    return `${file.source} is the report of an unsharded run (no run.shard); merge takes the reports of a run with input shard`
  }
  return {
    source: file.source,
    report: report as ProvenanceReport,
    index: shard.index,
    count: shard.count
  }
}

/**
 * What the merging job itself knows, that every shard must agree with: its
 * workflow run (`GITHUB_RUN_ID`: a shard of another run, or a report
 * committed to the repository that the glob happened to match, is refused)
 * and the digest of the configuration in its own workspace (a shard judged
 * under another policy or matrix is refused).
 */
interface MergeExpectations {
  runId?: string
  configDigest?: string
  /** Every image reference this configuration plans: each shard must report exactly its own. */
  references?: readonly string[]
}

/** Why these shards do not make up one whole run; empty when they do. */
function checkShards(
  files: readonly ShardReportFile[],
  expected: MergeExpectations = {}
): {
  shards: Shard[]
  issues: ConfigIssue[]
} {
  const issues: ConfigIssue[] = []
  const shards: Shard[] = []
  for (const file of files) {
    const shard = readShard(file)
    if (typeof shard === 'string') issues.push({ code: 'shard-unreadable', message: shard })
    else shards.push(shard)
  }
  if (files.length === 0) {
    issues.push({ code: 'shard-missing', message: 'no shard reports were found to merge' })
  }
  if (shards.length === 0) return { shards, issues }
  shards.sort((a, b) => a.index - b.index || a.source.localeCompare(b.source))
  const reference = shards[0]
  const count = reference.count
  for (const shard of shards) {
    if (shard.count !== count) {
      issues.push({
        code: 'shard-mismatch',
        message: `${shard.source} is shard ${shard.index} of ${shard.count}, but ${reference.source} is shard ${reference.index} of ${count}`
      })
    } else if (shard.report.run.configDigest !== reference.report.run.configDigest) {
      issues.push({
        code: 'shard-mismatch',
        message: `shard ${shard.index} of ${count} (${shard.source}) was judged under another configuration (${shortConfig(shard.report.run.configDigest)}) than shard ${reference.index} of ${count} (${reference.source}, ${shortConfig(reference.report.run.configDigest)})`
      })
    }
  }
  for (const shard of shards) {
    const name = `shard ${shard.index} of ${shard.count} (${shard.source})`
    if (expected.runId !== undefined && shard.report.run.runId !== expected.runId) {
      issues.push({
        code: 'shard-foreign',
        message: `${name} is from ${shard.report.run.runId ? `workflow run ${shard.report.run.runId}` : 'no workflow run'}, not this run ${expected.runId}`
      })
    }
    if (
      expected.configDigest !== undefined &&
      shard.report.run.configDigest !== expected.configDigest
    ) {
      issues.push({
        code: 'shard-mismatch',
        message: `${name} was judged under another configuration (${shortConfig(shard.report.run.configDigest)}) than this workspace's (${shortConfig(expected.configDigest)})`
      })
    }
    if (expected.references !== undefined) {
      const want = expected.references.filter(r => shardOf(r, shard.count) === shard.index)
      const got = shard.report.images.map(image => image.reference)
      const missing = want.filter(r => !got.includes(r))
      const extra = got.filter((r, i) => !want.includes(r) || got.indexOf(r) !== i)
      if (missing.length > 0 || extra.length > 0)
        issues.push({
          code: 'shard-incomplete',
          message: `${name} does not report exactly its images under this configuration${missing.length > 0 ? `; missing ${listed(missing)}` : ''}${extra.length > 0 ? `; not its own or repeated ${listed(extra)}` : ''}`
        })
    }
    const edited = inconsistentImage(shard.report)
    if (edited) issues.push({ code: 'shard-inconsistent', message: `${name}: ${edited}` })
  }
  for (let index = 1; index <= count; index += 1) {
    const found = shards.filter(shard => shard.index === index && shard.count === count)
    if (found.length === 0) {
      issues.push({ code: 'shard-missing', message: `shard ${index} of ${count} is missing` })
    } else if (found.length > 1) {
      issues.push({
        code: 'shard-duplicate',
        message: `shard ${index} of ${count} appears ${found.length} times: ${found.map(shard => shard.source).join(', ')}`
      })
    }
  }
  for (const shard of shards) {
    if ((shard.index < 1 || shard.index > count) && shard.count === count) {
      issues.push({
        code: 'shard-mismatch',
        message: `${shard.source} claims to be shard ${shard.index} of ${count}`
      })
    }
  }
  return { shards, issues }
}

/**
 * The first image whose recorded decision is not what its recorded findings
 * decide (the table in domain/decide.ts), or whose run exit code is below its
 * images': the report was edited, or written by another version.
 */
function inconsistentImage(report: ProvenanceReport): string | undefined {
  const run = runFromReport(report)
  for (const image of run.images) {
    const decided = decideImage(image.findings)
    const recorded = image.decision
    if (
      decided.code !== recorded.code ||
      decided.rawCode !== recorded.rawCode ||
      decided.trustStatus !== recorded.trustStatus
    )
      return `${image.findings.plan.reference} records code ${recorded.code} (${recorded.trustStatus}), but its findings decide code ${decided.code} (${decided.trustStatus})`
  }
  const overall = summariseRun(run.images.map(image => image.decision))
  if (run.exitCode < overall.exitCode || run.trustStatus !== overall.trustStatus)
    return `records exit code ${run.exitCode} (${run.trustStatus}), but its images decide ${overall.exitCode} (${overall.trustStatus})`
  return undefined
}

/** At most three references, then how many more. */
function listed(references: readonly string[]): string {
  const shown = references.slice(0, 3).join(', ')
  return references.length > 3 ? `${shown} and ${references.length - 3} more` : shown
}

function unique<T>(values: T[], keyOf: (value: T) => string = String): T[] {
  const seen = new Map<string, T>()
  for (const value of values) if (!seen.has(keyOf(value))) seen.set(keyOf(value), value)
  return [...seen.values()]
}

function mergeCache(statuses: RunCacheStatus[]): RunCacheStatus | undefined {
  if (statuses.length === 0) return undefined
  const notes = unique(statuses.flatMap(status => (status.note ? [status.note] : [])))
  const status = statuses.some(s => s.status === 'used') ? 'used' : statuses[0].status
  return {
    status,
    ...(notes.length > 0 && { note: notes.join('; ') }),
    hits: statuses.reduce((sum, s) => sum + s.hits, 0),
    saved: statuses.reduce((sum, s) => sum + s.saved, 0)
  }
}

function mergeThrottles(throttles: RegistryThrottle[]): RegistryThrottle[] {
  const byRegistry = new Map<string, RegistryThrottle>()
  for (const throttle of throttles) {
    const earlier = byRegistry.get(throttle.registry)
    byRegistry.set(
      throttle.registry,
      earlier
        ? {
            registry: throttle.registry,
            responses: earlier.responses + throttle.responses,
            firstAt: earlier.firstAt < throttle.firstAt ? earlier.firstAt : throttle.firstAt,
            waitedMs: earlier.waitedMs + throttle.waitedMs
          }
        : { ...throttle }
    )
  }
  return [...byRegistry.values()]
}

/**
 * The merged run. `now` stands in for the times when no shard could be read.
 * Shards that do not make up a whole run give exit 4 with one issue per fault
 * and no images.
 */
export function mergeShardReports(
  files: readonly ShardReportFile[],
  now: Date,
  expected: MergeExpectations = {}
): RunResult {
  const { shards, issues } = checkShards(files, expected)
  if (issues.length > 0) {
    return {
      ...summariseRun([], issues),
      images: [],
      configIssues: issues,
      errors: [],
      startedAt: now.toISOString(),
      finishedAt: now.toISOString()
    }
  }
  const runs = shards.map(shard => runFromReport(shard.report))
  const images = runs
    .flatMap(run => run.images)
    .sort(
      (a, b) =>
        a.findings.plan.row.index - b.findings.plan.row.index ||
        a.findings.plan.reference.localeCompare(b.findings.plan.reference)
    )
  const configIssues = unique(
    runs.flatMap(run => run.configIssues),
    issue => `${issue.code}\n${issue.message}`
  )
  const overall = summariseRun(
    images.map(image => image.decision),
    configIssues
  )
  const exitCode = Math.max(overall.exitCode, ...runs.map(run => run.exitCode)) as ExitCode
  const cache = mergeCache(runs.flatMap(run => (run.cache ? [run.cache] : [])))
  const throttles = mergeThrottles(runs.flatMap(run => run.throttles ?? []))
  const first = runs[0]
  return {
    exitCode,
    decision: decisionFor(exitCode),
    trustStatus: overall.trustStatus,
    images,
    ...(first.preferredImage !== undefined && { preferredImage: first.preferredImage }),
    ...(first.preferredReason !== undefined && { preferredReason: first.preferredReason }),
    configIssues,
    errors: unique(runs.flatMap(run => run.errors)),
    ...(runs.find(run => run.cosign) && { cosign: runs.find(run => run.cosign)?.cosign }),
    ...(cache && { cache }),
    ...(throttles.length > 0 && { throttles }),
    ...(first.configDigest !== undefined && { configDigest: first.configDigest }),
    startedAt: runs.map(run => run.startedAt).sort()[0],
    finishedAt: runs
      .map(run => run.finishedAt)
      .sort()
      .reverse()[0]
  }
}

/**
 * `command: merge` in a workspace: the shards must agree with this run
 * (`runId`, the merging job's `GITHUB_RUN_ID`, when known) and with the
 * configuration in the workspace, planned with the same inputs the shards
 * were (`repository`, `images`, `trusted-root`). A configuration that cannot
 * be read is exit 4, as for verify.
 */
export async function mergeInWorkspace(
  files: readonly ShardReportFile[],
  options: Omit<PipelineOptions, 'concurrency' | 'cache' | 'shard'> & { runId?: string },
  deps: { loadConfig: LoadConfig; sha256: (text: string) => string }
): Promise<RunResult> {
  const planned = await loadPlans(options, deps.loadConfig)
  if (!planned.ok) {
    return {
      ...summariseRun([], planned.issues),
      images: [],
      configIssues: planned.issues,
      errors: [],
      startedAt: options.now.toISOString(),
      finishedAt: options.now.toISOString()
    }
  }
  const merged = mergeShardReports(files, options.now, {
    runId: options.runId,
    configDigest: configDigest(planned.config, planned.plans, ACTION_VERSION, deps.sha256),
    references: planned.plans.map(plan => plan.reference)
  })
  if (merged.configIssues.length > 0) return merged
  // The `image` output comes from this workspace's plan, never from a shard's report.
  const own = preferredReference(planned.config, planned.plans)
  return { ...merged, preferredImage: own.preferredImage, preferredReason: own.preferredReason }
}
