/**
 * Docker credential helpers (`credHelpers` / `credsStore` in a Docker
 * `config.json`), run the way Docker and cosign (go-containerregistry) run
 * them — the docker-credential-helpers protocol: `docker-credential-<name> get`
 * with the server URL on stdin, a JSON `{ServerURL, Username, Secret}` on
 * stdout; "credentials not found" means there are none for that server.
 * Started through the one process runner, with a time limit, and with the
 * environment minus the action's inputs (the helper is the user's own tool
 * and may need their cloud settings, but never `INPUT_*`).
 */
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from '../../domain/reference.js'
import { RegistryError } from '../../domain/errors.js'
import { envWithout, runProcess } from '../process.js'

interface HelperCredential {
  username: string
  password: string
}

interface HelperOptions {
  /** Time limit of one helper call (default 30 s). */
  timeoutMs?: number
  /** Where the helper's environment is taken from (default: this process's). */
  env?: NodeJS.ProcessEnv
}

const HELPER_TIMEOUT_MS = 30_000
/** What a helper prints when it holds nothing for the server (docker-credential-helpers' `ErrCredentialsNotFound`). */
const NOT_FOUND = /credentials not found/i
/** A helper name is a program-name suffix, never a path. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** The server URL a helper is asked about: Docker Hub's legacy key, else the host. */
function helperServerUrl(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry
}

/**
 * The credential helper `name` holds for `registry`: a username and password,
 * or undefined when it holds none. Throws `REGISTRY_AUTH` when the helper
 * cannot be used (missing, failing, too slow, an identity token): a credential
 * problem, never an unreachable registry.
 */
export async function getFromHelper(
  name: string,
  registry: string,
  options: HelperOptions = {}
): Promise<HelperCredential | undefined> {
  const program = `docker-credential-${name}`
  const fail = (why: string): never => {
    throw new RegistryError(
      'REGISTRY_AUTH',
      `the credential helper ${program} configured for ${registry} ${why}`
    )
  }
  if (!HELPER_NAME.test(name)) return fail('has a name that is not a program name')
  const timeoutMs = options.timeoutMs ?? HELPER_TIMEOUT_MS
  const run = await runProcess(program, ['get'], {
    env: envWithout(options.env ?? process.env, {
      prefixes: ['INPUT_'],
      names: ['ACTIONS_RUNTIME_TOKEN']
    }),
    timeoutMs,
    input: helperServerUrl(registry),
    maxOutputBytes: 1024 * 1024
  })
  if (run.spawnError !== undefined) return fail(`could not be run (${run.spawnError})`)
  if (run.timedOut) return fail(`did not answer within ${timeoutMs} ms`)
  if (run.exitCode !== 0) {
    if (NOT_FOUND.test(run.stdout) || NOT_FOUND.test(run.stderr)) return undefined
    const said = (run.stderr.trim() || run.stdout.trim()).split('\n')[0]?.slice(0, 300) ?? ''
    return fail(`failed (exit ${run.exitCode ?? run.signal})${said ? `: ${said}` : ''}`)
  }
  let answer: unknown
  try {
    answer = JSON.parse(run.stdout)
  } catch {
    // Never quote the output: it may hold the secret.
    return fail('answered with something other than JSON')
  }
  const { Username: username, Secret: secret } = (answer ?? {}) as Record<string, unknown>
  if (typeof secret !== 'string' || secret === '') return undefined
  if (username === '<token>')
    return fail(
      'returned an identity token, which this action does not exchange; use a username and password or token'
    )
  if (typeof username !== 'string' || username === '') return fail('returned no username')
  return { username, password: secret }
}
