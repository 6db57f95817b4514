/**
 * Which username and password to present to which registry.
 *
 * Precedence for a registry host:
 *   1. its entry in the Docker config (`auths`), which is bound to that host;
 *   2. the `username`/`password` inputs, which apply to every registry
 *      without a Docker config entry;
 *   3. for `ghcr.io` only: `x-access-token` with the `github-token` input.
 * Credential helpers (`credsStore`, `credHelpers`) and `identitytoken` are not
 * read. Nothing here logs; the client masks what it sends.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { ProvenanceError } from '../../domain/errors.js'
import { DOCKER_HUB, normalizeRegistryHost } from '../../domain/reference.js'

export interface Credential {
  username: string
  password: string
}

export interface CredentialStore {
  get(host: string): Credential | undefined
}

export interface CredentialOptions {
  username?: string
  password?: string
  githubToken?: string
  /** Folder holding `config.json`; default: env `DOCKER_CONFIG`, else `~/.docker`. */
  dockerConfigDir?: string
}

export { DOCKER_HUB, normalizeRegistryHost }
export const GHCR_HOST = 'ghcr.io'
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

function readDockerConfig(dir: string): Map<string, Credential> {
  const path = join(dir, 'config.json')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error: unknown) {
    if ((error as { code?: unknown }).code === 'ENOENT') return new Map()
    throw new ProvenanceError('DOCKER_CONFIG_UNREADABLE', `cannot read ${path}`, { cause: error })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // The parser's message quotes the input, which may hold a credential: leave it out.
    throw new ProvenanceError('DOCKER_CONFIG_UNREADABLE', `${path} is not valid JSON`)
  }
  return parseDockerConfigAuths(json)
}

export function createCredentialStore(options: CredentialOptions): CredentialStore {
  const dir = options.dockerConfigDir ?? process.env.DOCKER_CONFIG ?? join(homedir(), '.docker')
  const fromDockerConfig = readDockerConfig(dir)
  const fromInputs: Credential | undefined =
    options.username && options.password
      ? { username: options.username, password: options.password }
      : undefined
  const githubToken = options.githubToken || undefined
  return {
    get(host: string): Credential | undefined {
      const registry = normalizeRegistryHost(host)
      const configured = fromDockerConfig.get(registry)
      if (configured) return configured
      if (fromInputs) return fromInputs
      if (registry === GHCR_HOST && githubToken)
        return { username: GHCR_TOKEN_USERNAME, password: githubToken }
      return undefined
    }
  }
}
