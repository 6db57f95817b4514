/**
 * `command: update` and `rocm-provenance update`: load the configuration,
 * refresh the pins that pass the policy, write the matrix back in place.
 */
import * as core from '@actions/core'
import { readFile, writeFile } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { actionAdapters } from './adapters.js'
import { formatConfigIssues, formatLocation, type ConfigIssue } from './errors.js'
import type { ActionInputs } from './inputs.js'
import type { RunnerContext } from './main.js'
import { loadPlans, type CosignTools } from './pipeline.js'
import { RegistryClient } from './registry/client.js'
import { runUpdate, type UpdateResult } from './update/update.js'

export interface UpdateOptions {
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

export interface UpdateDependencies {
  registry: RegistryClient
  prepareCosign: () => Promise<CosignTools>
}

export type UpdateOutcome =
  { ok: true; result: UpdateResult } | { ok: false; issues: ConfigIssue[] }

export async function updateMatrix(
  options: UpdateOptions,
  deps: UpdateDependencies
): Promise<UpdateOutcome> {
  const planned = await loadPlans({ ...options, concurrency: 1 })
  if (!planned.ok) return { ok: false, issues: planned.issues }
  const matrixFile = isAbsolute(options.matrixPath)
    ? options.matrixPath
    : resolve(options.workspace, options.matrixPath)
  const matrixText = await readFile(matrixFile, 'utf8')
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
  if (result.changed && !options.dryRun) await writeFile(matrixFile, result.matrixText)
  return { ok: true, result }
}

/** The action's `command: update`. */
export async function runUpdateCommand(
  inputs: ActionInputs,
  context: RunnerContext
): Promise<void> {
  const outcome = await updateMatrix(
    {
      workspace: context.workspace,
      policyPath: inputs.policyPath,
      matrixPath: inputs.matrixPath,
      repository: inputs.repository,
      images: inputs.images,
      discover: inputs.discover,
      dryRun: false,
      now: context.now
    },
    actionAdapters(inputs, context.workspace)
  )
  if (!outcome.ok) {
    for (const issue of outcome.issues) {
      core.error(issue.message, {
        title: 'rocm-provenance configuration',
        file: issue.location?.file,
        startLine: issue.location?.line,
        startColumn: issue.location?.column
      })
    }
    core.setOutput('changed', 'false')
    core.setOutput('exit-code', '4')
    core.setFailed(`rocm-provenance update: ${formatConfigIssues(outcome.issues)}`)
    return
  }
  const { result } = outcome
  core.setOutput('changed', String(result.changed))
  core.setOutput('updated-images', JSON.stringify(result.updated))
  core.setOutput('rejected-images', JSON.stringify(result.rejected))
  core.setOutput('pr-body', result.prBody)
  for (const rejected of result.rejected) {
    core.warning(`not updated: ${rejected.reference}: ${rejected.reason}`, {
      title: 'rocm-provenance update'
    })
  }
  await core.summary.addRaw(result.prBody).write()
  core.info(
    `rocm-provenance update: ${result.updated.length} updated, ${result.rejected.length} rejected` +
      (result.changed ? `; ${inputs.matrixPath} rewritten` : '; nothing changed')
  )
}

/** `rocm-provenance update`: 0 nothing rejected, 1 something rejected, 4 configuration error. */
export async function runUpdateCli(
  options: Omit<UpdateOptions, 'now'> & UpdateDependencies & { out: (text: string) => void }
): Promise<number> {
  const outcome = await updateMatrix({ ...options, now: new Date() }, options)
  if (!outcome.ok) {
    options.out(
      outcome.issues
        .map(issue => `${formatLocation(issue.location) || options.matrixPath}: ${issue.message}`)
        .join('\n') + '\n'
    )
    return 4
  }
  const { result } = outcome
  options.out(`${result.prBody}\n`)
  options.out(
    result.changed
      ? options.dryRun
        ? `${options.matrixPath} would change (dry run: not written)\n`
        : `${options.matrixPath} updated\n`
      : `${options.matrixPath}: nothing to change\n`
  )
  return result.rejected.length > 0 ? 1 : 0
}
