/**
 * The real programs the tests run: cosign, crane and docker-registry, fetched
 * from Debian's archive by scripts/fetch-tools.sh into .tools/bin.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project's root: the nearest folder above this file (or its bundle) with action.yml. */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'action.yml')) && existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no project root above ${start}`)
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)))
export const TOOLS_BIN = join(PROJECT_ROOT, '.tools', 'bin')

export type ToolName = 'cosign' | 'crane' | 'docker-registry'

export function toolPath(name: ToolName): string {
  const path = join(TOOLS_BIN, name)
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run scripts/fetch-tools.sh (npm test does)`)
  }
  return path
}

/**
 * An environment that keeps the real tools on loopback: private HOME,
 * DOCKER_CONFIG and TUF_ROOT, and a proxy on a closed loopback port as a
 * safety net (Go never proxies loopback, so only a stray public request would
 * reach it, and fail).
 */
export function hermeticEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'rp-home-'))
  mkdirSync(join(home, '.docker'), { recursive: true })
  return {
    PATH: `${TOOLS_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    DOCKER_CONFIG: join(home, '.docker'),
    TUF_ROOT: join(home, '.sigstore'),
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost,::1',
    COSIGN_PASSWORD: '',
    COSIGN_YES: 'true',
    ...extra
  }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a program with an argument array; never throws on a non-zero exit. */
export function runTool(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}
): Promise<RunResult> {
  return new Promise(resolvePromise => {
    const child = execFile(
      file,
      args,
      {
        env: options.env ?? hermeticEnv(),
        cwd: options.cwd,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024
      },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === 'number'
            ? ((error as { code: number }).code as number)
            : error
              ? 1
              : 0
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) })
      }
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

/** Runs a program and throws with its stderr when it fails. */
export async function mustRun(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}
): Promise<string> {
  const result = await runTool(file, args, options)
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`)
  }
  return result.stdout
}
