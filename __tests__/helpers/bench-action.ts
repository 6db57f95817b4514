/**
 * Runs the bundled action for the benchmark as the runner does (Node 24,
 * INPUT_* variables, GITHUB_OUTPUT), timed from the moment of spawn, with two
 * probes: a Node preload that records the process's peak resident memory and
 * CPU time at exit, and (optionally) a cosign wrapper that records each cosign process's
 * command, wall time and CPU time (bash `times`).
 */
import { spawn } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { node24Path, parseOutputFile } from './action-runner.js'
import { parseCosignRecord, type CosignProcess } from './bench-measure.js'
import { PROJECT_ROOT, hermeticEnv } from './tools.js'

const EXIT_RECORD_PRELOAD = `import { writeFileSync } from 'node:fs'
process.on('exit', () => {
  const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage()
  writeFileSync(
    process.env.BENCH_EXIT_RECORD,
    JSON.stringify({ maxRSS, cpuMicros: userCPUTime + systemCPUTime, atExit: process.memoryUsage() })
  )
})
`

/** A shell word that stays one word whatever the path holds. */
const quoted = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`

/**
 * The recording cosign wrapper. The real cosign and the records folder are
 * written into it, not passed through the environment: the action gives
 * cosign a minimal environment (src/adapters/process.ts), so a variable of
 * ours would not reach it. Its bytes stay the same across runs: with
 * `cosign-path`, the verification cache's key holds the file's SHA-256.
 */
function cosignWrapper(realCosign: string, recordsDir: string): string {
  return `#!/bin/bash
started=$EPOCHREALTIME
${quoted(realCosign)} "$@"
status=$?
ended=$EPOCHREALTIME
{ printf '%s\\n%s\\n%s\\n' "\${1-}" "$started" "$ended"; times; } >${quoted(recordsDir)}/$$
exit $status
`
}

export interface BenchProbes {
  preloadPath: string
  cosignWrapperPath: string
  /** Where the wrapper leaves one record per cosign process (emptied before each run). */
  recordsDir: string
}

/** Writes the preload and the wrapper of `realCosign` into a new folder under `parent`. */
export function writeBenchProbes(parent: string, realCosign: string): BenchProbes {
  const dir = mkdtempSync(join(parent, 'probes-'))
  const preloadPath = join(dir, 'exit-record.mjs')
  writeFileSync(preloadPath, EXIT_RECORD_PRELOAD)
  const recordsDir = join(dir, 'cosign-records')
  mkdirSync(recordsDir)
  const cosignWrapperPath = join(dir, 'cosign')
  writeFileSync(cosignWrapperPath, cosignWrapper(realCosign, recordsDir))
  chmodSync(cosignWrapperPath, 0o755)
  return { preloadPath, cosignWrapperPath, recordsDir }
}

export interface BenchActionRun {
  code: number
  outputs: Record<string, string>
  stderr: string
  /** `performance.now()` of this process just before the spawn. */
  spawnedAt: number
  wallMs: number
  peakMemoryKiB: number
  /** `process.memoryUsage()` as the process exited, in bytes. */
  memoryAtExit: NodeJS.MemoryUsage
  /** CPU time of the action's own Node process (its children not included). */
  cpuMs: number
  /** Mean number of the machine's cores busy during the run (every process, from /proc/stat). */
  machineBusyCores: number
  /** Present when the run went through the cosign wrapper. */
  cosign?: CosignProcess[]
}

export interface BenchActionOptions {
  workspace: string
  inputs: Record<string, string>
  probes: BenchProbes
  /** The real cosign; with `recordCosign`, the action is given the wrapper instead. */
  cosignPath: string
  recordCosign: boolean
  timeoutMs: number
  /** More environment, e.g. a cache service stand-in's. */
  env?: Record<string, string>
  /**
   * RUNNER_TEMP to use instead of a fresh one: the verification cache files
   * its entry under a path there, which must stay the same across runs (as it
   * does on a runner).
   */
  runnerTemp?: string
}

export function runBenchAction(options: BenchActionOptions): Promise<BenchActionRun> {
  const runnerDir = mkdtempSync(join(tmpdir(), 'rp-bench-runner-'))
  const outputPath = join(runnerDir, 'output')
  const exitRecordPath = join(runnerDir, 'exit-record.json')
  const { recordsDir } = options.probes
  rmSync(recordsDir, { recursive: true, force: true })
  mkdirSync(recordsDir)
  writeFileSync(outputPath, '')
  writeFileSync(join(runnerDir, 'summary.md'), '')
  for (const dir of ['tool-cache', 'temp']) mkdirSync(join(runnerDir, dir))
  const inputs: Record<string, string> = {
    ...options.inputs,
    'cosign-path': options.recordCosign ? options.probes.cosignWrapperPath : options.cosignPath
  }
  const env = hermeticEnv({
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: join(runnerDir, 'summary.md'),
    RUNNER_TEMP: options.runnerTemp ?? join(runnerDir, 'temp'),
    RUNNER_TOOL_CACHE: join(runnerDir, 'tool-cache'),
    ...options.env,
    NODE_OPTIONS: `--import=${pathToFileURL(options.probes.preloadPath).href}`,
    BENCH_EXIT_RECORD: exitRecordPath,
    ...Object.fromEntries(
      Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])
    )
  })
  const node = node24Path()
  const cores = cpus().length
  return new Promise((resolveRun, reject) => {
    const stderr: Buffer[] = []
    const before = machineJiffies()
    const spawnedAt = performance.now()
    const child = spawn(node, [join(PROJECT_ROOT, 'dist', 'index.js')], {
      cwd: options.workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.stdout.resume()
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    child.on('error', error => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', code => {
      const wallMs = performance.now() - spawnedAt
      const after = machineJiffies()
      clearTimeout(timer)
      try {
        resolveRun({
          code: code ?? -1,
          outputs: parseOutputFile(readFileSync(outputPath, 'utf8')),
          stderr: Buffer.concat(stderr).toString('utf8'),
          spawnedAt,
          wallMs,
          ...readExitRecord(exitRecordPath),
          machineBusyCores: (cores * (after.busy - before.busy)) / (after.total - before.total),
          cosign: options.recordCosign
            ? readdirSync(recordsDir).map(name =>
                parseCosignRecord(readFileSync(join(recordsDir, name), 'utf8'))
              )
            : undefined
        })
      } catch (error: unknown) {
        reject(new Error(`the action's run left no usable record (exit ${code})`, { cause: error }))
      } finally {
        rmSync(runnerDir, { recursive: true, force: true })
      }
    })
  })
}

function readExitRecord(
  path: string
): Pick<BenchActionRun, 'peakMemoryKiB' | 'memoryAtExit' | 'cpuMs'> {
  const { maxRSS, cpuMicros, atExit } = JSON.parse(readFileSync(path, 'utf8')) as {
    maxRSS: number
    cpuMicros: number
    atExit: NodeJS.MemoryUsage
  }
  return { peakMemoryKiB: maxRSS, memoryAtExit: atExit, cpuMs: cpuMicros / 1000 }
}

/** Busy and total jiffies of all cores so far, from the first line of /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0)
  const idle = fields[3] + fields[4]
  return { busy: total - idle, total }
}
