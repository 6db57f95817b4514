/**
 * `command: update` and `rocm-provenance update` as one use case: load the
 * configuration, refresh the pins that pass the policy, write the matrix back
 * in place. The action and the CLI present its outcome each their own way.
 */
import type { ConfigIssue } from '../domain/errors.js'
import type { Ports } from './ports.js'
import { runUpdate, type UpdateResult } from './update.js'
import { loadPlans } from './verify.js'

export interface UpdateMatrixOptions {
  workspace: string
  policyPath: string
  matrixPath: string
  repository?: string
  images: string[]
  discover: boolean
  /** Compute the change but leave the matrix file as it is. */
  dryRun: boolean
  now: Date
}

type UpdateMatrixDependencies = Pick<
  Ports,
  'loadConfig' | 'registry' | 'prepareCosign' | 'matrixFile'
>

type UpdateOutcome = { ok: true; result: UpdateResult } | { ok: false; issues: ConfigIssue[] }

export async function updateMatrix(
  options: UpdateMatrixOptions,
  deps: UpdateMatrixDependencies
): Promise<UpdateOutcome> {
  const planned = await loadPlans(options, deps.loadConfig)
  if (!planned.ok) return { ok: false, issues: planned.issues }
  const matrixText = await deps.matrixFile.read(options.matrixPath, options.workspace)
  const { verifier } = await deps.prepareCosign()
  const result = await runUpdate({
    plans: planned.plans,
    matrixText,
    matrixPath: options.matrixPath,
    policy: planned.config.policy,
    registry: deps.registry,
    verifier,
    now: options.now,
    discover: options.discover
  })
  if (result.changed && !options.dryRun)
    await deps.matrixFile.write(options.matrixPath, options.workspace, result.matrixText)
  return { ok: true, result }
}
