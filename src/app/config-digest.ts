/**
 * The digest of the configuration a run was judged under, recorded in every
 * report (`run.configDigest`) so that `command: merge` can refuse shards
 * judged under different configurations. It covers the action's version, the
 * whole policy and every planned image (its whole plan: reference, pin,
 * `added`, signers, threshold, requirements, effective policy) — all plans,
 * not only a shard's — and leaves out where things were written (file
 * positions, `sources`), so moving a comment does not split a sharded run.
 */
import { canonicalJson, withoutKeys } from '../lib/canonical-json.js'
import type { Config, ImagePlan } from '../domain/types.js'
import { POSITION_KEYS } from './verdict-cache.js'

export function configDigest(
  config: Config,
  plans: readonly ImagePlan[],
  actionVersion: string,
  sha256: (text: string) => string
): string {
  return `sha256:${sha256(
    canonicalJson({
      action: actionVersion,
      policy: withoutKeys(config.policy, POSITION_KEYS),
      images: plans.map(plan =>
        withoutKeys(
          {
            ...plan,
            row: { pin: plan.row.pin, added: plan.row.added, provenance: plan.row.provenance }
          },
          POSITION_KEYS
        )
      )
    })
  )}`
}
