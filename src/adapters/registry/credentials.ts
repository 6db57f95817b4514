/**
 * Which username and password to present to which registry.
 *
 * Precedence for a registry host, as Docker reads its config:
 *   1. its credential helper in the Docker config (`credHelpers`), run through
 *      the docker-credential-helpers protocol (credential-helper.ts);
 *   2. its entry in the Docker config (`auths`), which is bound to that host;
 *   3. the default credential store (`credsStore`), run the same way;
 *   4. the `username`/`password` inputs, which apply to every registry
 *      without any of the above;
 *   5. for `ghcr.io` only: `x-access-token` with the `github-token` input.
 * A helper that holds nothing for the host falls through to the next source;
 * a helper that fails is a `REGISTRY_AUTH` error (a credential problem). Each
 * helper is asked once per host and run. `identitytoken` is not read. Nothing
 * here logs; the client masks what it sends.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ProvenanceError } from '../../domain/errors.js'
import { DOCKER_HUB, normalizeRegistryHost } from '../../domain/reference.js'
import { getFromHelper } from './credential-helper.js'

export interface Credential {
  username: string
  password: string
}

export interface CredentialStore {
  /** The credential for `host`; rejects with `REGISTRY_AUTH` when its helper fails. */
  get(host: string): Promise<Credential | undefined>
}

export interface CredentialOptions {
  username?: string
  password?: string
  githubToken?: string
  /** Folder holding `config.json`; default: env `DOCKER_CONFIG`, else `~/.docker`. */
  dockerConfigDir?: string
  /** Runs a credential helper (tests replace it); default: `getFromHelper`. */
  helper?: (name: string, registry: string) => Promise<Credential | undefined>
}

/** What a Docker `config.json` says about credentials. */
interface DockerConfigCredentials {
  auths: Map<string, Credential>
  /** Helper name by normalised host (`credHelpers`). */
  helpers: Map<string, string>
  /** The default helper (`credsStore`). */
  store?: string
}

export { DOCKER_HUB, normalizeRegistryHost }
const GHCR_HOST = 'ghcr.io'
export const GHCR_TOKEN_USERNAME = 'x-access-token'

function decodeAuthField(auth: string): Credential | undefined {
  const decoded = Buffer.from(auth, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon <= 0) return undefined
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

/**
 * The `auths` of a Docker `config.json`, by normalised host. Entries with
 * neither a readable `auth` nor `username` and `password` are skipped.
 */
export function parseDockerConfigAuths(json: unknown): Map<string, Credential> {
  const found = new Map<string, Credential>()
  if (typeof json !== 'object' || json === null) return found
  const auths = (json as { auths?: unknown }).auths
  if (typeof auths !== 'object' || auths === null) return found
  for (const [key, entry] of Object.entries(auths as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) continue
    const { auth, username, password } = entry as Record<string, unknown>
    let credential: Credential | undefined
    if (typeof auth === 'string' && auth !== '') credential = decodeAuthField(auth)
    else if (typeof username === 'string' && typeof password === 'string' && username !== '')
      credential = { username, password }
    if (credential) found.set(normalizeRegistryHost(key), credential)
  }
  return found
}

/** `credHelpers` (by normalised host) and `credsStore` of a Docker `config.json`. */
function parseDockerConfigHelpers(
  json: unknown
): Pick<DockerConfigCredentials, 'helpers' | 'store'> {
  const helpers = new Map<string, string>()
  if (typeof json !== 'object' || json === null) return { helpers }
  const { credHelpers, credsStore } = json as Record<string, unknown>
  if (typeof credHelpers === 'object' && credHelpers !== null)
    for (const [key, name] of Object.entries(credHelpers as Record<string, unknown>))
      if (typeof name === 'string' && name !== '') helpers.set(normalizeRegistryHost(key), name)
  return typeof credsStore === 'string' && credsStore !== ''
    ? { helpers, store: credsStore }
    : { helpers }
}

function readDockerConfig(dir: string): DockerConfigCredentials {
  const path = join(dir, 'config.json')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error: unknown) {
    if ((error as { code?: unknown }).code === 'ENOENT')
      return { auths: new Map(), helpers: new Map() }
    throw new ProvenanceError('DOCKER_CONFIG_UNREADABLE', `cannot read ${path}`, { cause: error })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // The parser's message quotes the input, which may hold a credential: leave it out.
    throw new ProvenanceError('DOCKER_CONFIG_UNREADABLE', `${path} is not valid JSON`)
  }
  return { auths: parseDockerConfigAuths(json), ...parseDockerConfigHelpers(json) }
}

export function createCredentialStore(options: CredentialOptions): CredentialStore {
  const dir = options.dockerConfigDir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker')
  const config = readDockerConfig(dir)
  const fromInputs: Credential | undefined =
    options.username && options.password
      ? { username: options.username, password: options.password }
      : undefined
  const githubToken = options.githubToken || undefined
  const helper =
    options.helper ?? ((name: string, registry: string) => getFromHelper(name, registry))
  const asked = new Map<string, Promise<Credential | undefined>>()
  const ask = (name: string, registry: string): Promise<Credential | undefined> => {
    const key = `${name} ${registry}`
    let pending = asked.get(key)
    if (!pending) {
      pending = helper(name, registry)
      asked.set(key, pending)
    }
    return pending
  }
  return {
    async get(host: string): Promise<Credential | undefined> {
      const registry = normalizeRegistryHost(host)
      const named = config.helpers.get(registry)
      const fromHelper = named !== undefined ? await ask(named, registry) : undefined
      if (fromHelper) return fromHelper
      const configured = config.auths.get(registry)
      if (configured) return configured
      const fromStore = config.store !== undefined ? await ask(config.store, registry) : undefined
      if (fromStore) return fromStore
      if (fromInputs) return fromInputs
      if (registry === GHCR_HOST && githubToken)
        return { username: GHCR_TOKEN_USERNAME, password: githubToken }
      return undefined
    }
  }
}
