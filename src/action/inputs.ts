/**
 * The action's inputs, read once into a typed object from a reader (the
 * toolkit's `getInput` in the action, a map in tests); everything downstream
 * takes plain values.
 */
import { DEFAULT_COSIGN_RELEASE_URL, DEFAULT_COSIGN_VERSION } from '../adapters/cosign/checksums.js'
import {
  DEFAULT_MATRIX_PATH,
  DEFAULT_POLICY_PATH,
  DEFAULT_PROVENANCE_PATH,
  parseConcurrency,
  parseShard
} from '../app/run-options.js'
import type { Shard } from '../domain/shard.js'

/** Where `command: merge` looks for shard reports by default: the shards' default file names, anywhere in the workspace. */
const DEFAULT_SHARD_REPORTS = '**/rocm_provenance-shard-*-of-*.json'
import { InputError } from '../domain/errors.js'

type Command = 'verify' | 'update' | 'merge'

export interface ActionInputs {
  command: Command
  policyPath: string
  matrixPath: string
  /** Default repository for rows that name none (undefined: the policy's, else ghcr.io/rocm/dev). */
  repository?: string
  /** References (`repository:tag`) to restrict the check to; empty: all rows. */
  images: string[]
  cosignVersion: string
  cosignSha256?: string
  cosignReleaseUrl: string
  cosignPath?: string
  trustedRoot?: string
  registryUsername?: string
  registryPassword?: string
  githubToken?: string
  insecureRegistries: string[]
  provenancePath: string
  artifactName: string
  uploadArtifact: boolean
  concurrency: number
  telemetrySummary?: string
  /** `command: update` only: look for new tags too. */
  discover: boolean
  /** Reuse verified results of earlier runs through GitHub's cache service. */
  cache: boolean
  /** `k/n`: check only this shard of the matrix. */
  shard?: Shard
  /** `command: merge`: glob of the shard reports to merge. */
  reports: string
}

/** A source of raw input strings (the toolkit's `getInput`, or a map in tests). */
export type InputReader = (name: string) => string

function optional(value: string): string | undefined {
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

function list(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(item => item.trim())
    .filter(item => item !== '')
}

function parseBoolean(name: string, value: string, fallback: boolean): boolean {
  const trimmed = value.trim().toLowerCase()
  if (trimmed === '') return fallback
  if (['true', 'yes', '1', 'on'].includes(trimmed)) return true
  if (['false', 'no', '0', 'off'].includes(trimmed)) return false
  throw new InputError(`input '${name}' must be true or false, got '${value.trim()}'`)
}

const HOST_PORT =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d{1,5})?$/i

function parseInsecureRegistries(value: string): string[] {
  const hosts = list(value)
  for (const host of hosts) {
    if (!HOST_PORT.test(host)) {
      throw new InputError(
        `input 'insecure-registries' takes host or host:port entries, one per line; '${host}' is not one`
      )
    }
  }
  return hosts
}

function parseCommand(value: string): Command {
  const trimmed = value.trim() || 'verify'
  if (trimmed !== 'verify' && trimmed !== 'update' && trimmed !== 'merge') {
    throw new InputError(`input 'command' must be 'verify', 'update' or 'merge', got '${trimmed}'`)
  }
  return trimmed
}

const DEFAULT_ARTIFACT_NAME = 'rocm-provenance'

/**
 * A shard's report and artifact never collide with another shard's: the
 * default file name and the artifact name gain `-shard-k-of-n` (so that
 * download-artifact's `merge-multiple` keeps every file).
 */
function shardNames(inputs: ActionInputs): ActionInputs {
  if (!inputs.shard || inputs.command !== 'verify') return inputs
  const suffix = `-shard-${inputs.shard.index}-of-${inputs.shard.count}`
  return {
    ...inputs,
    provenancePath:
      inputs.provenancePath === DEFAULT_PROVENANCE_PATH
        ? DEFAULT_PROVENANCE_PATH.replace(/\.json$/, `${suffix}.json`)
        : inputs.provenancePath,
    artifactName: `${inputs.artifactName}${suffix}`
  }
}

/** Reads and checks every input; throws InputError naming the bad one. */
export function parseActionInputs(read: InputReader): ActionInputs {
  return shardNames(readActionInputs(read))
}

function readActionInputs(read: InputReader): ActionInputs {
  const sha256 = optional(read('cosign-sha256'))
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(sha256)) {
    throw new InputError(
      `input 'cosign-sha256' must be 64 hex characters (a SHA-256), got '${sha256}'`
    )
  }
  return {
    command: parseCommand(read('command')),
    policyPath: optional(read('policy')) ?? DEFAULT_POLICY_PATH,
    matrixPath: optional(read('matrix')) ?? DEFAULT_MATRIX_PATH,
    repository: optional(read('repository')),
    images: list(read('images')),
    cosignVersion: optional(read('cosign-version')) ?? DEFAULT_COSIGN_VERSION,
    cosignSha256: sha256?.toLowerCase(),
    cosignReleaseUrl: optional(read('cosign-release-url')) ?? DEFAULT_COSIGN_RELEASE_URL,
    cosignPath: optional(read('cosign-path')),
    trustedRoot: optional(read('trusted-root')),
    registryUsername: optional(read('registry-username')),
    registryPassword: optional(read('registry-password')),
    githubToken: optional(read('github-token')),
    insecureRegistries: parseInsecureRegistries(read('insecure-registries')),
    provenancePath: optional(read('provenance-path')) ?? DEFAULT_PROVENANCE_PATH,
    artifactName: optional(read('artifact-name')) ?? DEFAULT_ARTIFACT_NAME,
    uploadArtifact: parseBoolean('upload-artifact', read('upload-artifact'), true),
    concurrency: parseConcurrency(read('concurrency')),
    telemetrySummary: optional(read('telemetry-summary')),
    discover: parseBoolean('discover', read('discover'), false),
    cache: parseBoolean('cache', read('cache'), true),
    shard: parseShard(read('shard')),
    reports: optional(read('reports')) ?? DEFAULT_SHARD_REPORTS
  }
}
