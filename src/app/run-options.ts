/**
 * The run options the action's inputs and the CLI's flags share: default file
 * paths and how many images are checked at once. Named once, for both.
 */
import { InputError } from '../domain/errors.js'
import { MAX_SHARDS, type Shard } from '../domain/shard.js'

export const DEFAULT_POLICY_PATH = 'ci/rocm_policy.yml'
export const DEFAULT_MATRIX_PATH = 'ci/rocm_matrix.yml'
export const DEFAULT_PROVENANCE_PATH = 'rocm_provenance.json'
export const DEFAULT_CONCURRENCY = 16
const MAX_CONCURRENCY = 32

/** How many images are checked at once; `source` names the input or option in the error. */
export function parseConcurrency(value: string, source = "input 'concurrency'"): number {
  const trimmed = value.trim()
  if (trimmed === '') return DEFAULT_CONCURRENCY
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > MAX_CONCURRENCY) {
    throw new InputError(
      `${source} must be a whole number from 1 to ${MAX_CONCURRENCY}, got '${trimmed}'`
    )
  }
  return Number(trimmed)
}

/** `k/n` (1 ≤ k ≤ n ≤ 256) → the shard; empty → undefined (the whole matrix). */
export function parseShard(value: string, source = "input 'shard'"): Shard | undefined {
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  const match = /^(\d+)\s*\/\s*(\d+)$/.exec(trimmed)
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (!match || index < 1 || count < 1 || index > count || count > MAX_SHARDS) {
    throw new InputError(
      `${source} must be k/n with 1 <= k <= n <= ${MAX_SHARDS} (e.g. 2/4), got '${trimmed}'`
    )
  }
  return { index, count }
}
