/**
 * The digest of the configuration a run was judged under, recorded in every
 * report (`run.configDigest`) so that `command: merge` can refuse shards
 * judged under different configurations. It covers the action's version, the
 * whole policy and every planned image (reference, pin, `added`, signer and
 * effective policy) — all plans, not only a shard's — and leaves out where
 * things were written (file positions, `sources`), so moving a comment does
 * not split a sharded run.
 */
import { canonicalJson } from '../lib/canonical-json.js'
import type { Config, ImagePlan } from '../domain/types.js'

export function configDigest(
  config: Config,
  plans: readonly ImagePlan[],
  actionVersion: string,
  sha256: (text: string) => string
): string {
  const policy: Partial<Config['policy']> = {
    ...config.policy,
    overrides: config.policy.overrides.map(override => {
      const copy = { ...override }
      delete copy.location
      return copy
    })
  }
  delete policy.locations
  return `sha256:${sha256(
    canonicalJson({
      action: actionVersion,
      policy,
      images: plans.map(plan => {
        const effective: Partial<ImagePlan['policy']> = { ...plan.policy }
        delete effective.sources
        return {
          reference: plan.reference,
          pin: plan.row.pin,
          added: plan.row.added,
          signer: plan.signer,
          policy: effective
        }
      })
    })
  )}`
}
