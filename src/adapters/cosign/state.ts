/**
 * The private state every cosign process runs in: a folder of its own (0700,
 * under `RUNNER_TEMP` when that is an absolute path, else the system's temp
 * folder) holding its HOME and TUF_ROOT, and an environment of only what
 * cosign may read (`minimalEnv` with COSIGN_ENV: never an action input or a
 * token of ours). The folder is removed afterwards, whatever happened.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { minimalEnv } from '../process.js'

/** What cosign may read from the environment besides the basics `minimalEnv` passes. */
const COSIGN_ENV = {
  names: ['DOCKER_CONFIG', 'HOME'],
  prefixes: ['COSIGN_', 'SIGSTORE_', 'TUF_'],
  secret: ['COSIGN_PASSWORD', 'SIGSTORE_ID_TOKEN', 'COSIGN_KEY']
}

/**
 * Runs `use` with a fresh state folder (`state`, named `<prefix>…`) and
 * cosign's environment (`env`, HOME and TUF_ROOT inside `state`), built from
 * `base` (default: this process's environment).
 */
export async function withCosignState<T>(
  base: NodeJS.ProcessEnv,
  prefix: string,
  use: (state: string, env: Record<string, string>) => Promise<T>
): Promise<T> {
  const root = base.RUNNER_TEMP && isAbsolute(base.RUNNER_TEMP) ? base.RUNNER_TEMP : tmpdir()
  const state = await mkdtemp(join(root, prefix))
  try {
    const env = minimalEnv(base, COSIGN_ENV)
    env.HOME = join(state, 'home')
    env.TUF_ROOT = join(state, 'tuf')
    await Promise.all([mkdir(env.HOME), mkdir(env.TUF_ROOT)])
    return await use(state, env)
  } finally {
    await rm(state, { recursive: true, force: true })
  }
}
