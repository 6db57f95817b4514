/**
 * The one way this project starts a process (cosign, `cosign version`,
 * Docker credential helpers): `node:child_process` with
 *
 * - an explicit environment: the caller passes every variable the child gets
 *   (start from `minimalEnv`), never this process's whole environment, which
 *   holds the action's inputs (`INPUT_REGISTRY-PASSWORD`, `INPUT_GITHUB-TOKEN`);
 * - a time limit that kills the whole process group (the child is started
 *   detached, in a group of its own, and `kill(-pid)` reaches what it started),
 *   and stops waiting for its pipes: a grandchild that kept stdout open does
 *   not hold the run;
 * - bounded output, and standard input given as a string or closed;
 * - no group left behind when this process ends: a child in a group of its own
 *   does not get the terminal's or the runner's signal, so the groups still
 *   running are killed on exit and on SIGINT/SIGTERM (which are then re-raised).
 */
import { spawn } from 'node:child_process'

interface ProcessOptions {
  /** The child's whole environment. */
  env: Record<string, string>
  /** Wall-clock limit in ms; the process group is killed with SIGKILL after it. */
  timeoutMs: number
  /** Written to the child's stdin, which is then closed; stdin is closed when absent. */
  input?: string
  /** Bytes of stdout plus stderr kept (default 16 MiB); the rest is read and dropped. */
  maxOutputBytes?: number
}

interface ProcessResult {
  /** Null when killed by a signal or never started. */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** Whether the time limit was reached and the group killed. */
  timedOut: boolean
  stdout: string
  stderr: string
  /** Why the process could not be started (ENOENT, EACCES, …). */
  spawnError?: string
}

const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024
/** After the child exits, how long its pipes may stay open (held by a grandchild). */
const PIPE_GRACE_MS = 2_000

/** Variables a child may need to reach the network and find its tools; nothing secret. */
const PASSED_THROUGH = [
  'PATH',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'TMPDIR',
  'TEMP',
  'TMP',
  'SystemRoot',
  'SYSTEMROOT',
  'windir',
  'LANG',
  'LC_ALL',
  'TZ'
]

/**
 * The environment a child starts from: `PATH`, the proxy and TLS settings,
 * the temp folder and locale of `source`, plus the variables named in
 * `extra` (names, or prefixes ending in `_*`) other than those in `secret`.
 */
export function minimalEnv(
  source: NodeJS.ProcessEnv,
  extra: { names?: string[]; prefixes?: string[]; secret?: string[] } = {}
): Record<string, string> {
  const env: Record<string, string> = {}
  const secret = new Set(extra.secret ?? [])
  const wanted = (name: string): boolean =>
    !secret.has(name) &&
    (PASSED_THROUGH.includes(name) ||
      (extra.names ?? []).includes(name) ||
      (extra.prefixes ?? []).some(prefix => name.startsWith(prefix)))
  for (const [name, value] of Object.entries(source))
    if (value !== undefined && wanted(name)) env[name] = value
  return env
}

/**
 * `source` without the variables named in `drop` (names, or prefixes): for a
 * child that is the user's own tool (a Docker credential helper) and may need
 * their settings, but never the action's inputs (`INPUT_*`).
 */
export function envWithout(
  source: NodeJS.ProcessEnv,
  drop: { names?: string[]; prefixes?: string[] }
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue
    if ((drop.names ?? []).includes(name)) continue
    if ((drop.prefixes ?? []).some(prefix => name.startsWith(prefix))) continue
    env[name] = value
  }
  return env
}

/** Process groups started here and still running. */
const liveGroups = new Set<number>()
let handlersInstalled = false

function killLiveGroups(): void {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  liveGroups.clear()
}

/** Once: kill the live groups when this process exits or is told to stop. */
function installExitHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', killLiveGroups)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killLiveGroups()
      // Only this listener was added: without it, the default action (exit) applies.
      process.removeListener(signal, onSignal)
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

/** Runs `file args…` and resolves with what it did; never rejects. */
export function runProcess(
  file: string,
  args: string[],
  options: ProcessOptions
): Promise<ProcessResult> {
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES
  return new Promise(resolveRun => {
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let size = 0
    let timedOut = false
    let settled = false
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
    let graceTimer: NodeJS.Timeout | undefined
    const group = process.platform !== 'win32'
    const child = spawn(file, args, {
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: group,
      windowsHide: true
    })
    if (group && child.pid !== undefined) {
      installExitHandlers()
      liveGroups.add(child.pid)
    }
    const killGroup = (): void => {
      if (child.pid === undefined) return
      try {
        if (group) process.kill(-child.pid, 'SIGKILL')
        else child.kill('SIGKILL')
      } catch {
        // already gone
      }
    }
    const finish = (result: Omit<ProcessResult, 'stdout' | 'stderr'>): void => {
      if (settled) return
      settled = true
      if (child.pid !== undefined) liveGroups.delete(child.pid)
      clearTimeout(timer)
      clearTimeout(graceTimer)
      // Whatever still holds the pipes is not waited for.
      child.stdout?.destroy()
      child.stderr?.destroy()
      child.stdin?.destroy()
      resolveRun({
        ...result,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8')
      })
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
      finish({ exitCode: exit?.code ?? null, signal: exit?.signal ?? 'SIGKILL', timedOut })
    }, options.timeoutMs)
    const collect = (sink: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length
      if (size <= maxOutput) sink.push(chunk)
    }
    child.stdout?.on('data', collect(stdout))
    child.stderr?.on('data', collect(stderr))
    if (child.stdin && options.input !== undefined) {
      child.stdin.on('error', () => undefined)
      child.stdin.end(options.input)
    }
    child.on('error', error => {
      finish({ exitCode: null, signal: null, timedOut: false, spawnError: error.message })
    })
    child.on('exit', (code, signal) => {
      exit = { code, signal }
      if (settled) return
      // A grandchild may hold stdout open: give the pipes a moment, then stop waiting.
      graceTimer = setTimeout(() => {
        killGroup()
        finish({ exitCode: code, signal, timedOut })
      }, PIPE_GRACE_MS)
    })
    child.on('close', (code, signal) => {
      finish({ exitCode: exit?.code ?? code, signal: exit?.signal ?? signal, timedOut })
    })
  })
}
