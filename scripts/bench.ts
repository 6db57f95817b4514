/**
 * The benchmark (npm run bench; not a test). On loopback: the real registry
 * with N key-signed images behind a proxy that delays every request, then in
 * the same run, several repetitions each:
 *  (a) the baseline a user writes today — a bash loop of `crane digest` and
 *      `cosign verify`, one image after the other;
 *  (b) the bundled action, run as the runner runs it, at concurrency 1, 4, 8
 *      (no cache service: every image verified by cosign), and at its default
 *      concurrency with two trusted signers per image (trust model
 *      `signers`: one `cosign verify` per signer and image); every action run
 *      goes through the recording cosign wrapper, so each variant's cosign
 *      processes are counted (grouped calls, src/adapters/cosign/batch.ts,
 *      count once);
 *  (b') the bundled action at its defaults with a cache service (the loopback
 *      stand-in of GitHub's, the real @actions/cache client): once with an
 *      empty cache (cold), then again with the results it saved (warm); both
 *      run cosign through the recording wrapper, so their cosign processes
 *      are counted;
 *  (c) the lower bound from measured parts: the longest single image's
 *      request chain (from the sequential run) plus the cosign processes' CPU
 *      time (from one run through a recording cosign wrapper) over the cores.
 * Also the action's start-up and the cosign install from a warm tool cache.
 * Prints a table and writes bench-results.json.
 *
 * Options (argument, else environment, else default): --n=20,100,300 (BENCH_N),
 * --concurrency=1,4,8 (BENCH_CONCURRENCY; 1 always runs), --delay-ms=20
 * (BENCH_DELAY_MS), --repetitions=3 (BENCH_REPETITIONS), and
 * --large-repetitions=1 (BENCH_LARGE_REPETITIONS) instead for every
 * N >= --large-from=300 (BENCH_LARGE_FROM), to keep a full run near 10 minutes.
 */
import * as tc from '@actions/tool-cache'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import {
  chainsOfSequentialRun,
  countByKind,
  formatTable,
  median,
  parseBashTimes,
  sampleOf,
  type CosignProcess,
  type Sample,
  type TableRow
} from '../__tests__/helpers/bench-measure.js'
import {
  runBenchAction,
  writeBenchProbes,
  type BenchActionRun,
  type BenchProbes
} from '../__tests__/helpers/bench-action.js'
import { node24Path } from '../__tests__/helpers/action-runner.js'
import { startFaultProxy, type FaultProxy } from '../__tests__/helpers/fault-proxy.js'
import type { KeyPair } from '../__tests__/helpers/images.js'
import { startRegistry } from '../__tests__/helpers/registry.js'
import {
  BENCH_REPOSITORY,
  provideBenchImages,
  writeBenchWorkspace,
  type BenchImage
} from '../__tests__/helpers/bench-setup.js'
import { PROJECT_ROOT, hermeticEnv, runTool, toolPath } from '../__tests__/helpers/tools.js'
import { installCosign } from '../src/adapters/cosign/install.js'
import { startCacheStandin, type CacheStandin } from '../__tests__/helpers/cache-standin.js'

const INSTALL_REPETITIONS = 5
const RUN_TIMEOUT_MS = 900_000
const RESULTS_PATH = join(PROJECT_ROOT, 'bench-results.json')
const TARGETS = {
  n: 100,
  maxRatioToBaseline: 0.25,
  maxRatioToLowerBound: 1.5,
  maxPeakMemoryMiB: 150,
  maxStartupMs: 300,
  /** Issue 17: the action at its defaults, empty cache / restored cache, over the baseline. */
  maxColdCacheRatioToBaseline: 0.08,
  maxWarmCacheRatioToBaseline: 0.02,
  maxStartupMsIssue17: 250,
  maxPeakMemoryMiBAtN: 120,
  /** Issue 17: two trusted signers per image over one, both at the defaults, no cache. */
  maxTwoSignersRatio: 1.3
}

interface Options {
  ns: number[]
  /** The action's concurrencies; always includes 1 (the lower bound's request chains come from it). */
  concurrencies: number[]
  delayMs: number
  repetitions: number
  largeRepetitions: number
  largeFrom: number
}

function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const given = new Map<string, string>()
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg)
    if (!match) throw new Error(`unknown argument ${arg} (expected --name=value)`)
    given.set(match[1], match[2])
  }
  const read = (name: string, variable: string, fallback: string): string =>
    given.get(name) ?? env[variable] ?? fallback
  const whole = (name: string, variable: string, fallback: string, min: number): number => {
    const value = Number(read(name, variable, fallback))
    if (!Number.isInteger(value) || value < min)
      throw new Error(`--${name} must be a whole number >= ${min}`)
    return value
  }
  const wholeList = (name: string, variable: string, fallback: string): number[] => {
    const values = read(name, variable, fallback)
      .split(',')
      .map(item => Number(item.trim()))
    if (values.some(value => !Number.isInteger(value) || value < 1))
      throw new Error(`--${name} must list whole numbers >= 1`)
    return [...new Set(values)].sort((a, b) => a - b)
  }
  for (const name of given.keys()) {
    const known = ['n', 'concurrency', 'delay-ms', 'repetitions', 'large-repetitions', 'large-from']
    if (!known.includes(name)) throw new Error(`unknown option --${name}`)
  }
  return {
    ns: wholeList('n', 'BENCH_N', '20,100,300'),
    concurrencies: [
      1,
      ...wholeList('concurrency', 'BENCH_CONCURRENCY', '1,4,8').filter(c => c !== 1)
    ],
    delayMs: whole('delay-ms', 'BENCH_DELAY_MS', '20', 0),
    repetitions: whole('repetitions', 'BENCH_REPETITIONS', '3', 1),
    largeRepetitions: whole('large-repetitions', 'BENCH_LARGE_REPETITIONS', '1', 1),
    largeFrom: whole('large-from', 'BENCH_LARGE_FROM', '300', 1)
  }
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

function load1(): number {
  return Number(loadavg()[0].toFixed(2))
}

function defaultConcurrency(): number {
  const action = parseYaml(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as {
    inputs: Record<string, { default?: string }>
  }
  return Number(action.inputs.concurrency.default)
}

const BASELINE_LOOP = `set -euo pipefail
# The loop a user writes today: per image, read the digest, then verify it.
while read -r ref; do
  digest=$(crane digest --insecure "$ref")
  cosign verify --key "$2" --insecure-ignore-tlog --allow-http-registry \\
    --allow-insecure-registry "\${ref%:*}@$digest" >/dev/null 2>&1
done <"$1"
times
`

interface BaselineRun {
  wallMs: number
  /** User + system CPU of all the loop's children (crane and cosign), in seconds. */
  childCpuSeconds: number
}

async function runBaseline(script: string, refsPath: string, key: KeyPair): Promise<BaselineRun> {
  const startedAt = performance.now()
  const result = await runTool('bash', [script, refsPath, key.publicKey], {
    env: hermeticEnv(),
    timeoutMs: RUN_TIMEOUT_MS
  })
  const wallMs = performance.now() - startedAt
  if (result.code !== 0)
    throw new Error(`the baseline loop failed (exit ${result.code}): ${result.stderr.slice(-2000)}`)
  const [user, system] = parseBashTimes(result.stdout.trim().split('\n').at(-1) ?? '')
  return { wallMs, childCpuSeconds: user + system }
}

function checkActionRun(run: BenchActionRun, what: string): void {
  if (run.code !== 0 || run.outputs['exit-code'] !== '0') {
    throw new Error(
      `${what}: the action did not pass (process exit ${run.code}, exit-code ${run.outputs['exit-code']}): ${run.stderr.slice(-2000)}`
    )
  }
}

interface VariantResult {
  variant: string
  concurrency?: number
  wallMs: Sample
  peakMemoryMiB?: Sample
  startupMs?: Sample
  requestsPerImage: number
  requestsByKind: Record<string, number>
  /** Baseline only: CPU of crane and cosign together, per image. */
  childCpuMsPerImage?: number
  /** The action's own Node process (children not included), median. */
  actionCpuMs?: number
  /** Mean number of the machine's cores busy during the run, by anything (median of runs). */
  machineBusyCores?: number
  /** cosign processes per run (median), where counted through the wrapper. */
  cosignProcesses?: number
}

interface CommandStats {
  processes: number
  meanCpuMs: number
  meanWallMs: number
}

interface RecordedRun {
  concurrency: number
  wallMs: number
  processes: number
  byCommand: Record<string, CommandStats>
  cpuSeconds: number
  /** Mean number of cosign processes running between the first start and the last end. */
  meanInFlight: number
  /** CPU of the action's own Node process, and of this process (the latency proxy) meanwhile. */
  actionCpuMs: number
  proxyCpuMs: number
  machineBusyCores: number
  /** The action's memory as it exited, MiB (`process.memoryUsage()`). */
  memoryAtExitMiB: Record<string, number>
  /** From spawn: the first registry request, the first cosign start, the last cosign end. */
  startupMs: number
  firstCosignAtMs: number
  lastCosignEndAtMs: number
}

interface NResult {
  n: number
  repetitions: number
  loadAverage: { before: number; after: number }
  variants: VariantResult[]
  lowerBound: {
    wallMs: number
    longestChainMs: number
    longestChainRequests: number
    medianChainMs: number
    cosignCpuSeconds: number
    cores: number
  }
  recorded: RecordedRun
}

function recordedRunOf(
  run: BenchActionRun,
  proxy: FaultProxy,
  concurrency: number,
  proxyCpuMs: number
): RecordedRun {
  const processes = run.cosign as CosignProcess[]
  const cpuMs = (p: CosignProcess): number => (p.userSeconds + p.systemSeconds) * 1000
  const wallMs = (p: CosignProcess): number => (p.endedAt - p.startedAt) * 1000
  const byCommand: Record<string, CommandStats> = {}
  for (const command of new Set(processes.map(p => p.command))) {
    const these = processes.filter(p => p.command === command)
    byCommand[command] = {
      processes: these.length,
      meanCpuMs: these.reduce((sum, p) => sum + cpuMs(p), 0) / these.length,
      meanWallMs: these.reduce((sum, p) => sum + wallMs(p), 0) / these.length
    }
  }
  const sinceSpawn = (epochSeconds: number): number =>
    epochSeconds * 1000 - performance.timeOrigin - run.spawnedAt
  const firstCosignAtMs = sinceSpawn(Math.min(...processes.map(p => p.startedAt)))
  const lastCosignEndAtMs = sinceSpawn(Math.max(...processes.map(p => p.endedAt)))
  const first = Math.min(...proxy.requests.map(r => r.receivedAt ?? Number.POSITIVE_INFINITY))
  return {
    concurrency,
    wallMs: run.wallMs,
    processes: processes.length,
    byCommand,
    cpuSeconds: processes.reduce((sum, p) => sum + cpuMs(p), 0) / 1000,
    meanInFlight:
      processes.reduce((sum, p) => sum + wallMs(p), 0) / (lastCosignEndAtMs - firstCosignAtMs),
    actionCpuMs: run.cpuMs,
    proxyCpuMs,
    machineBusyCores: run.machineBusyCores,
    memoryAtExitMiB: Object.fromEntries(
      Object.entries(run.memoryAtExit).map(([name, bytes]) => [
        name,
        Number((bytes / 1024 / 1024).toFixed(1))
      ])
    ),
    startupMs: first - run.spawnedAt,
    firstCosignAtMs,
    lastCosignEndAtMs
  }
}

async function benchmarkN(
  n: number,
  repetitions: number,
  context: {
    concurrencies: number[]
    proxy: FaultProxy
    images: BenchImage[]
    key: KeyPair
    /** A folder for this run's files, removed at the end. */
    scratch: string
    probes: BenchProbes
    cosignPath: string
    baselineScript: string
    defaultConcurrency: number
    cacheStandin: CacheStandin
  }
): Promise<NResult> {
  const { proxy, key, probes } = context
  const images = context.images.slice(0, n)
  const tags = images.map(image => image.tag)
  const workspace = writeBenchWorkspace(context.scratch, proxy.host, images, key.publicKey)
  const twoSignersWorkspace = writeBenchWorkspace(
    context.scratch,
    proxy.host,
    images,
    key.publicKey,
    { signers: 2 }
  )
  const refsPath = join(workspace, 'refs.txt')
  writeFileSync(
    refsPath,
    tags.map(tag => `${proxy.host}/${BENCH_REPOSITORY}:${tag}`).join('\n') + '\n'
  )
  const inputs = { 'insecure-registries': proxy.host, 'upload-artifact': 'false' }
  const before = load1()

  const baseline = { wallMs: [] as number[], cpu: [] as number[], requests: [] as number[] }
  let baselineKinds: Record<string, number> = {}
  const actions = new Map<
    number,
    { runs: BenchActionRun[]; startup: number[]; requests: number[]; cosign: number[] }
  >(context.concurrencies.map(c => [c, { runs: [], startup: [], requests: [], cosign: [] }]))
  const actionKinds = new Map<number, Record<string, number>>()
  const twoSigners = {
    runs: [] as BenchActionRun[],
    startup: [] as number[],
    requests: [] as number[],
    cosign: [] as number[],
    kinds: {} as Record<string, number>
  }
  const chains: { longest: number; longestRequests: number; median: number }[] = []
  // The cache variants share one RUNNER_TEMP, as one runner's runs do.
  const cacheRunnerTemp = mkdtempSync(join(context.scratch, 'runner-temp-'))
  const cached = new Map<
    'cold' | 'warm',
    { runs: BenchActionRun[]; startup: number[]; requests: number[]; cosign: number[] }
  >([
    ['cold', { runs: [], startup: [], requests: [], cosign: [] }],
    ['warm', { runs: [], startup: [], requests: [], cosign: [] }]
  ])
  const cachedKinds = new Map<string, Record<string, number>>()

  // Variants interleave within each repetition, so a change in the machine's
  // load touches all of them alike.
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    proxy.requests.length = 0
    const base = await runBaseline(context.baselineScript, refsPath, key)
    baseline.wallMs.push(base.wallMs)
    baseline.cpu.push(base.childCpuSeconds)
    baseline.requests.push(proxy.requests.length)
    baselineKinds = countByKind(proxy.requests)
    progress(`N=${n} #${repetition} baseline ${(base.wallMs / 1000).toFixed(2)} s`)
    for (const concurrency of context.concurrencies) {
      proxy.requests.length = 0
      const run = await runBenchAction({
        workspace,
        inputs: { ...inputs, concurrency: String(concurrency) },
        probes,
        cosignPath: context.cosignPath,
        recordCosign: true,
        timeoutMs: RUN_TIMEOUT_MS
      })
      checkActionRun(run, `N=${n} concurrency ${concurrency}`)
      const record = actions.get(concurrency)!
      record.runs.push(run)
      const first = Math.min(...proxy.requests.map(r => r.receivedAt ?? Number.POSITIVE_INFINITY))
      record.startup.push(first - run.spawnedAt)
      record.requests.push(proxy.requests.length)
      record.cosign.push(run.cosign?.length ?? 0)
      actionKinds.set(concurrency, countByKind(proxy.requests))
      if (concurrency === 1) {
        const perImage = chainsOfSequentialRun(proxy.requests, tags)
        if (perImage.length !== n)
          throw new Error(`N=${n}: found ${perImage.length} image chains in the sequential run`)
        const longest = perImage.reduce((a, b) => (b.networkMs > a.networkMs ? b : a))
        chains.push({
          longest: longest.networkMs,
          longestRequests: longest.requests,
          median: median(perImage.map(chain => chain.networkMs))
        })
      }
      progress(
        `N=${n} #${repetition} action concurrency ${concurrency} ${(run.wallMs / 1000).toFixed(2)} s, ` +
          `${run.cosign?.length ?? 0} cosign processes, ${(run.peakMemoryKiB / 1024).toFixed(1)} MiB`
      )
    }
    {
      proxy.requests.length = 0
      const run = await runBenchAction({
        workspace: twoSignersWorkspace,
        inputs: { ...inputs, concurrency: String(context.defaultConcurrency) },
        probes,
        cosignPath: context.cosignPath,
        recordCosign: true,
        timeoutMs: RUN_TIMEOUT_MS
      })
      checkActionRun(run, `N=${n} two signers`)
      twoSigners.runs.push(run)
      const first = Math.min(...proxy.requests.map(r => r.receivedAt ?? Number.POSITIVE_INFINITY))
      twoSigners.startup.push(first - run.spawnedAt)
      twoSigners.requests.push(proxy.requests.length)
      twoSigners.cosign.push(run.cosign?.length ?? 0)
      twoSigners.kinds = countByKind(proxy.requests)
      progress(
        `N=${n} #${repetition} action two signers ${(run.wallMs / 1000).toFixed(2)} s, ` +
          `${run.cosign?.length ?? 0} cosign processes, ${(run.peakMemoryKiB / 1024).toFixed(1)} MiB`
      )
    }
    context.cacheStandin.entries.clear()
    for (const state of ['cold', 'warm'] as const) {
      proxy.requests.length = 0
      const run = await runBenchAction({
        workspace,
        inputs: { ...inputs, concurrency: String(context.defaultConcurrency), cache: 'true' },
        probes,
        cosignPath: context.cosignPath,
        recordCosign: true,
        timeoutMs: RUN_TIMEOUT_MS,
        env: context.cacheStandin.env(),
        runnerTemp: cacheRunnerTemp
      })
      checkActionRun(run, `N=${n} cache ${state}`)
      const record = cached.get(state)!
      record.runs.push(run)
      const first = Math.min(...proxy.requests.map(r => r.receivedAt ?? Number.POSITIVE_INFINITY))
      record.startup.push(first - run.spawnedAt)
      record.requests.push(proxy.requests.length)
      record.cosign.push(run.cosign?.length ?? 0)
      cachedKinds.set(state, countByKind(proxy.requests))
      progress(
        `N=${n} #${repetition} action cache ${state} ${(run.wallMs / 1000).toFixed(2)} s, ` +
          `${run.cosign?.length ?? 0} cosign processes, ${(run.peakMemoryKiB / 1024).toFixed(1)} MiB`
      )
    }
  }

  // One more run at the default concurrency through the recording wrapper:
  // cosign's process count and CPU time, and where the time goes.
  proxy.requests.length = 0
  const benchCpuBefore = process.cpuUsage()
  const recorded = await runBenchAction({
    workspace,
    inputs: { ...inputs, concurrency: String(context.defaultConcurrency) },
    probes,
    cosignPath: context.cosignPath,
    recordCosign: true,
    timeoutMs: RUN_TIMEOUT_MS
  })
  checkActionRun(recorded, `N=${n} recorded run`)
  const benchCpu = process.cpuUsage(benchCpuBefore)
  const recordedRun = recordedRunOf(
    recorded,
    proxy,
    context.defaultConcurrency,
    (benchCpu.user + benchCpu.system) / 1000
  )
  const cores = cpus().length
  const longestChainMs = median(chains.map(chain => chain.longest))
  const lowerBound = {
    wallMs: longestChainMs + (recordedRun.cpuSeconds * 1000) / cores,
    longestChainMs,
    longestChainRequests: Math.max(...chains.map(chain => chain.longestRequests)),
    medianChainMs: median(chains.map(chain => chain.median)),
    cosignCpuSeconds: recordedRun.cpuSeconds,
    cores
  }

  const variants: VariantResult[] = [
    {
      variant: 'baseline (bash loop)',
      wallMs: sampleOf(baseline.wallMs),
      requestsPerImage: median(baseline.requests) / n,
      requestsByKind: baselineKinds,
      childCpuMsPerImage: (median(baseline.cpu) * 1000) / n
    },
    ...context.concurrencies.map(concurrency => {
      const record = actions.get(concurrency)!
      return {
        variant: `action concurrency ${concurrency}`,
        concurrency,
        wallMs: sampleOf(record.runs.map(run => run.wallMs)),
        peakMemoryMiB: sampleOf(record.runs.map(run => run.peakMemoryKiB / 1024)),
        startupMs: sampleOf(record.startup),
        actionCpuMs: median(record.runs.map(run => run.cpuMs)),
        machineBusyCores: median(record.runs.map(run => run.machineBusyCores)),
        requestsPerImage: median(record.requests) / n,
        requestsByKind: actionKinds.get(concurrency) ?? {},
        cosignProcesses: median(record.cosign)
      }
    }),
    {
      variant: `action concurrency ${context.defaultConcurrency}, two signers`,
      concurrency: context.defaultConcurrency,
      wallMs: sampleOf(twoSigners.runs.map(run => run.wallMs)),
      peakMemoryMiB: sampleOf(twoSigners.runs.map(run => run.peakMemoryKiB / 1024)),
      startupMs: sampleOf(twoSigners.startup),
      actionCpuMs: median(twoSigners.runs.map(run => run.cpuMs)),
      machineBusyCores: median(twoSigners.runs.map(run => run.machineBusyCores)),
      requestsPerImage: median(twoSigners.requests) / n,
      requestsByKind: twoSigners.kinds,
      cosignProcesses: median(twoSigners.cosign)
    },
    ...(['cold', 'warm'] as const).map(state => {
      const record = cached.get(state)!
      return {
        variant: `action defaults, cache ${state}`,
        concurrency: context.defaultConcurrency,
        wallMs: sampleOf(record.runs.map(run => run.wallMs)),
        peakMemoryMiB: sampleOf(record.runs.map(run => run.peakMemoryKiB / 1024)),
        startupMs: sampleOf(record.startup),
        actionCpuMs: median(record.runs.map(run => run.cpuMs)),
        machineBusyCores: median(record.runs.map(run => run.machineBusyCores)),
        requestsPerImage: median(record.requests) / n,
        requestsByKind: cachedKinds.get(state) ?? {},
        cosignProcesses: median(record.cosign)
      }
    })
  ]
  return {
    n,
    repetitions,
    loadAverage: { before, after: load1() },
    variants,
    lowerBound,
    recorded: recordedRun
  }
}

/** cosign from a warm tool cache: the cache is filled once, then installCosign is timed. */
async function measureWarmInstall(cosignPath: string): Promise<{ ms: Sample; sha256Ms: Sample }> {
  const root = mkdtempSync(join(tmpdir(), 'rp-bench-install-'))
  const saved = { ...process.env }
  const write = process.stdout.write.bind(process.stdout)
  Object.assign(process.env, {
    RUNNER_TOOL_CACHE: join(root, 'tool-cache'),
    RUNNER_TEMP: join(root, 'temp'),
    GITHUB_PATH: join(root, 'path')
  })
  mkdirSync(join(root, 'tool-cache'))
  mkdirSync(join(root, 'temp'))
  writeFileSync(join(root, 'path'), '')
  // The toolkit's workflow commands (::debug:: and the like) are kept off the terminal.
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    const binary = readFileSync(cosignPath)
    const sha256 = createHash('sha256').update(binary).digest('hex')
    await tc.cacheFile(cosignPath, 'cosign', 'cosign', '3.1.1', process.arch)
    const ms: number[] = []
    const sha256Ms: number[] = []
    for (let i = 0; i < INSTALL_REPETITIONS; i++) {
      const startedAt = performance.now()
      const installed = await installCosign({
        version: 'v3.1.1',
        sha256,
        // Never reached: the tool cache answers first.
        releaseUrl: 'http://127.0.0.1:9/cosign-releases'
      })
      ms.push(performance.now() - startedAt)
      if (!installed.startsWith(join(root, 'tool-cache')))
        throw new Error(`installCosign did not use the tool cache: ${installed}`)
      const hashStartedAt = performance.now()
      createHash('sha256').update(readFileSync(installed)).digest('hex')
      sha256Ms.push(performance.now() - hashStartedAt)
    }
    return { ms: sampleOf(ms), sha256Ms: sampleOf(sha256Ms) }
  } finally {
    process.stdout.write = write
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
  }
}

function tableRows(results: NResult[]): TableRow[] {
  return results.flatMap(result => {
    const baseline = result.variants[0].wallMs.median
    return [
      ...result.variants.map(variant => ({
        n: result.n,
        variant: variant.variant,
        wall: variant.wallMs,
        ratioToBaseline: variant.wallMs.median / baseline,
        ratioToLowerBound: variant.wallMs.median / result.lowerBound.wallMs,
        peakMemoryMiB: variant.peakMemoryMiB?.max,
        startupMs: variant.startupMs?.median,
        cosignProcesses: variant.cosignProcesses,
        requestsPerImage: variant.requestsPerImage
      })),
      {
        n: result.n,
        variant: 'lower bound (computed)',
        wall: sampleOf([result.lowerBound.wallMs]),
        ratioToBaseline: result.lowerBound.wallMs / baseline,
        ratioToLowerBound: 1
      }
    ]
  })
}

/** What the table leaves out for one N: the lower bound's parts and where the time goes. */
function describeN(result: NResult): string[] {
  const { lowerBound: bound, recorded: run } = result
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  return [
    `\nN=${result.n} (${result.repetitions} repetitions, load ${result.loadAverage.before} -> ${result.loadAverage.after})`,
    `  lower bound ${seconds(bound.wallMs)} = longest request chain ${bound.longestChainMs.toFixed(0)} ms ` +
      `(${bound.longestChainRequests} requests; median chain ${bound.medianChainMs.toFixed(0)} ms) + ` +
      `cosign CPU ${bound.cosignCpuSeconds.toFixed(2)} s / ${bound.cores} cores`,
    `  recorded run, concurrency ${run.concurrency}, ${seconds(run.wallMs)}: first request at ${run.startupMs.toFixed(0)} ms, ` +
      `first cosign at ${run.firstCosignAtMs.toFixed(0)} ms, last cosign end at ${run.lastCosignEndAtMs.toFixed(0)} ms; ` +
      `${run.meanInFlight.toFixed(1)} cosign processes running on average`,
    `    CPU: cosign ${bound.cosignCpuSeconds.toFixed(2)} s, the action's Node process ${(run.actionCpuMs / 1000).toFixed(2)} s, ` +
      `the latency proxy ${(run.proxyCpuMs / 1000).toFixed(2)} s; machine busy ${run.machineBusyCores.toFixed(2)} of ${bound.cores} cores`,
    ...Object.entries(run.byCommand).map(
      ([command, stats]) =>
        `    cosign ${command}: ${stats.processes} processes, ${stats.meanCpuMs.toFixed(0)} ms CPU and ` +
        `${stats.meanWallMs.toFixed(0)} ms wall each`
    ),
    `    memory at exit, MiB: ${JSON.stringify(run.memoryAtExitMiB)}`,
    ...result.variants.map(
      variant =>
        `  ${variant.variant}: ${variant.requestsPerImage.toFixed(1)} registry requests per image ${JSON.stringify(variant.requestsByKind)}` +
        (variant.cosignProcesses !== undefined
          ? `; ${variant.cosignProcesses} cosign processes (${(variant.cosignProcesses / result.n).toFixed(2)} per image)`
          : '') +
        (variant.childCpuMsPerImage !== undefined
          ? `; crane + cosign CPU ${variant.childCpuMsPerImage.toFixed(0)} ms per image`
          : '') +
        (variant.actionCpuMs !== undefined
          ? `; action's Node CPU ${(variant.actionCpuMs / 1000).toFixed(2)} s`
          : '') +
        (variant.machineBusyCores !== undefined
          ? `; machine busy ${variant.machineBusyCores.toFixed(2)} cores`
          : '')
    )
  ]
}

interface TargetCheck {
  target: string
  limit: number
  measured: number
  met: boolean
}

function checkTargets(results: NResult[], concurrency: number): TargetCheck[] | undefined {
  const result = results.find(r => r.n === TARGETS.n)
  const action = result?.variants.find(v => v.variant === `action concurrency ${concurrency}`)
  const cold = result?.variants.find(v => v.variant.endsWith('cache cold'))
  const warm = result?.variants.find(v => v.variant.endsWith('cache warm'))
  const twoSigners = result?.variants.find(v => v.variant.endsWith('two signers'))
  if (!result || !action || !cold || !warm || !twoSigners) return undefined
  const baseline = result.variants[0].wallMs.median
  const startups = results.flatMap(r =>
    r.variants.flatMap(v => (v.startupMs ? v.startupMs.values : []))
  )
  const checks: Omit<TargetCheck, 'met'>[] = [
    {
      target: `N=${TARGETS.n}, concurrency ${concurrency}: wall time / baseline`,
      limit: TARGETS.maxRatioToBaseline,
      measured: action.wallMs.median / baseline
    },
    {
      target: `N=${TARGETS.n}, concurrency ${concurrency}: wall time / lower bound`,
      limit: TARGETS.maxRatioToLowerBound,
      measured: action.wallMs.median / result.lowerBound.wallMs
    },
    {
      target: `N=${TARGETS.n}, concurrency ${concurrency}: peak memory of the action's process, MiB (max)`,
      limit: TARGETS.maxPeakMemoryMiB,
      measured: action.peakMemoryMiB!.max
    },
    {
      target: 'start-up, spawn to first registry request, ms (median of all action runs)',
      limit: TARGETS.maxStartupMs,
      measured: median(startups)
    },
    {
      target: `N=${TARGETS.n}, defaults, empty cache: wall time / baseline`,
      limit: TARGETS.maxColdCacheRatioToBaseline,
      measured: cold.wallMs.median / baseline
    },
    {
      target: `N=${TARGETS.n}, defaults, restored cache: wall time / baseline`,
      limit: TARGETS.maxWarmCacheRatioToBaseline,
      measured: warm.wallMs.median / baseline
    },
    {
      target: 'start-up, spawn to first registry request, ms (median of all action runs; issue 17)',
      limit: TARGETS.maxStartupMsIssue17,
      measured: median(startups)
    },
    {
      target: `N=${TARGETS.n}, concurrency ${concurrency}: two signers / one signer, wall time`,
      limit: TARGETS.maxTwoSignersRatio,
      measured: twoSigners.wallMs.median / action.wallMs.median
    },
    {
      target: `N=${TARGETS.n}, defaults: peak memory, MiB (max over cold and warm)`,
      limit: TARGETS.maxPeakMemoryMiBAtN,
      measured: Math.max(cold.peakMemoryMiB!.max, warm.peakMemoryMiB!.max)
    }
  ]
  return checks.map(check => ({ ...check, met: check.measured <= check.limit }))
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2), process.env)
  const startedAt = new Date()
  const loadAtStart = load1()
  const cosignPath = realpathSync(toolPath('cosign'))
  const concurrency = defaultConcurrency()
  progress(
    `N=${options.ns.join(',')}, concurrency ${options.concurrencies.join(',')}, delay ${options.delayMs} ms, ${options.repetitions} repetitions ` +
      `(${options.largeRepetitions} from N=${options.largeFrom}); ${cpus().length} cores, load ${loadAtStart}`
  )
  node24Path()

  const install = await measureWarmInstall(cosignPath)
  progress(`cosign install from a warm tool cache: ${install.ms.median.toFixed(0)} ms`)

  const scratch = mkdtempSync(join(tmpdir(), 'rp-bench-'))
  const registry = await startRegistry()
  const cacheStandin = await startCacheStandin()
  const proxy = await startFaultProxy(registry.host, [
    { when: () => true, action: { kind: 'delay', ms: options.delayMs } }
  ])
  try {
    const setupStartedAt = performance.now()
    const { images, key, fromCache } = await provideBenchImages(registry, Math.max(...options.ns))
    const setupMs = performance.now() - setupStartedAt
    progress(
      `${fromCache ? 'copied' : 'published and signed'} ${images.length} signed images in ${(setupMs / 1000).toFixed(1)} s`
    )

    const probes = writeBenchProbes(scratch, cosignPath)
    const baselineScript = join(scratch, 'verify-all.sh')
    writeFileSync(baselineScript, BASELINE_LOOP)

    const results: NResult[] = []
    for (const n of options.ns) {
      const repetitions = n >= options.largeFrom ? options.largeRepetitions : options.repetitions
      results.push(
        await benchmarkN(n, repetitions, {
          concurrencies: options.concurrencies,
          proxy,
          images,
          key,
          scratch,
          probes,
          cosignPath,
          baselineScript,
          defaultConcurrency: concurrency,
          cacheStandin
        })
      )
    }

    const rows = tableRows(results)
    const targets = checkTargets(results, concurrency)
    console.log(formatTable(rows))
    console.log(
      `\ncosign install from a warm tool cache: median ${install.ms.median.toFixed(0)} ms ` +
        `(${install.ms.min.toFixed(0)}-${install.ms.max.toFixed(0)}); the SHA-256 check of the cached ` +
        `binary it repeats takes ~${install.sha256Ms.median.toFixed(0)} ms on its own (measured apart)`
    )
    for (const result of results) console.log(describeN(result).join('\n'))
    if (targets) {
      console.log(
        `\ntargets (N=${TARGETS.n}, ${options.delayMs} ms delay, default concurrency ${concurrency}):`
      )
      for (const t of targets)
        console.log(
          `  ${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.measured.toFixed(3)} (limit ${t.limit})`
        )
    }
    writeFileSync(
      RESULTS_PATH,
      JSON.stringify(
        {
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          options,
          machine: {
            cores: cpus().length,
            loadAverage: { start: loadAtStart, end: load1() },
            node: process.version,
            actionNode: node24Path()
          },
          defaultConcurrency: concurrency,
          setupMs,
          cosignInstallWarm: install,
          results,
          table: rows,
          targets
        },
        null,
        2
      ) + '\n'
    )
    console.log(`\nresults: ${RESULTS_PATH}`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
    await proxy.stop()
    await cacheStandin.stop()
    await registry.stop()
  }
}

await main()
