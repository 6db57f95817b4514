/** The action's `command: update`: the updater's outcome as outputs, warnings and a summary. */
import * as core from '@actions/core'
import { log } from './log.js'
import { actionAdapters } from './adapters.js'
import { updateMatrix } from '../app/update-matrix.js'
import { formatConfigIssues } from '../domain/errors.js'
import { SecretRedactor } from '../domain/secrets.js'
import type { RunnerContext } from './context.js'
import type { ActionInputs } from './inputs.js'

export async function runUpdateCommand(
  inputs: ActionInputs,
  context: RunnerContext
): Promise<void> {
  const secrets = new SecretRedactor()
  secrets.addCredential(inputs.registryUsername, inputs.registryPassword)
  secrets.add(inputs.githubToken)
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
    actionAdapters(inputs, context.workspace, secrets)
  )
  if (!outcome.ok) {
    for (const issue of outcome.issues) {
      log.error(issue.message, {
        title: 'rocm-provenance configuration',
        file: issue.location?.file,
        startLine: issue.location?.line,
        startColumn: issue.location?.column
      })
    }
    core.setOutput('changed', 'false')
    core.setOutput('exit-code', '4')
    log.setFailed(`rocm-provenance update: ${formatConfigIssues(outcome.issues)}`)
    return
  }
  // One redaction before anything is stored: outputs, the PR body, the summary.
  const result = secrets.redactDeep(outcome.result)
  core.setOutput('changed', String(result.changed))
  // As the CLI's exit code: 1 while any row was refused, else 0.
  core.setOutput('exit-code', result.rejected.length > 0 ? '1' : '0')
  core.setOutput('updated-images', JSON.stringify(result.updated))
  core.setOutput('rejected-images', JSON.stringify(result.rejected))
  core.setOutput('pr-body', result.prBody)
  for (const rejected of result.rejected) {
    log.warning(`not updated: ${rejected.reference}: ${rejected.reason}`, {
      title: 'rocm-provenance update'
    })
  }
  await core.summary.addRaw(result.prBody).write()
  log.info(
    `rocm-provenance update: ${result.updated.length} updated, ${result.rejected.length} rejected` +
      (result.changed ? `; ${inputs.matrixPath} rewritten` : '; nothing changed')
  )
}
