/**
 * The action: inputs in, then the pipeline, then — in this order — the
 * report on disk, the artifact, outputs, annotations, telemetry, the updater
 * dispatch, the job summary, and only last the step's failure. Nothing that
 * happens after the decision can lose the report.
 */
import * as core from '@actions/core'
import { log } from './log.js'
import { isAbsolute, resolve } from 'node:path'
import { actionAdapters, actionVerdictCache } from './adapters.js'
import { annotationsFor } from '../render/annotations.js'
import { dispatchWorkflow, shouldDispatchUpdate } from '../adapters/github/dispatch.js'
import { causeChain, InputError } from '../domain/errors.js'
import {
  DEFAULT_MATRIX_PATH,
  DEFAULT_POLICY_PATH,
  DEFAULT_PROVENANCE_PATH
} from '../app/run-options.js'
import { parseActionInputs, type ActionInputs, type InputReader } from './inputs.js'
import { verifyImages } from '../app/verify.js'
import { mergeInWorkspace } from '../app/merge.js'
import { readShardReports } from '../adapters/fs/shard-reports.js'
import { buildReport, type ProvenanceReport } from '../render/report.js'
import { writeReportFile } from '../adapters/fs/report-file.js'
import { findWritableFileProblem } from '../adapters/fs/safe-file.js'
import { moreLine, renderJobSummary } from '../render/summary.js'
import { renderImagesOutput } from '../render/outputs.js'
import { annotateTelemetryFile } from '../adapters/fs/telemetry-file.js'
import type { RunResult } from '../domain/types.js'
import { runUpdateCommand } from './update.js'
import { runnerContext, type RunnerContext } from './context.js'
import { ACTION_VERSION } from '../domain/action-version.js'
import { SecretRedactor } from '../domain/secrets.js'

function inWorkspace(workspace: string, path: string): string {
  return isAbsolute(path) ? path : resolve(workspace, path)
}

function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = env
  if (!GITHUB_SERVER_URL || !GITHUB_REPOSITORY || !GITHUB_RUN_ID) return undefined
  return `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`
}

/** A run that could not complete for a reason outside any one image. */
function failedRun(error: unknown, startedAt: string): RunResult {
  return {
    exitCode: 4,
    decision: 'fail',
    trustStatus: 'unknown',
    images: [],
    configIssues: [],
    errors: [`the run could not complete: ${causeChain(error).join(': ')}`],
    startedAt,
    finishedAt: new Date().toISOString()
  }
}

function setRunOutputs(result: RunResult, provenancePath: string): void {
  core.setOutput('exit-code', String(result.exitCode))
  core.setOutput('decision', result.decision)
  core.setOutput('trust-status', result.trustStatus)
  core.setOutput('image', result.preferredImage ?? '')
  const images = renderImagesOutput(result)
  core.setOutput('images', images.json)
  if (images.omitted > 0)
    log.warning(
      `the images output lists ${result.images.length - images.omitted} of ${result.images.length} images: ${moreLine(images.omitted, 'images')} (${provenancePath})`
    )
  core.setOutput('provenance-path', provenancePath)
}

function emitAnnotations(result: RunResult): void {
  for (const annotation of annotationsFor(result)) {
    const properties: core.AnnotationProperties = {
      title: annotation.title,
      file: annotation.file,
      startLine: annotation.startLine,
      startColumn: annotation.startColumn
    }
    if (annotation.level === 'error') log.error(annotation.message, properties)
    else if (annotation.level === 'warning') log.warning(annotation.message, properties)
    else log.notice(annotation.message, properties)
  }
}

async function uploadArtifact(inputs: ActionInputs, provenancePath: string): Promise<void> {
  try {
    // Loaded only when uploading: the artifact client is a third of the bundle,
    // and every run would otherwise pay for parsing it at start-up.
    const { uploadReportArtifact } = await import('../adapters/github/artifact.js')
    const { id, url } = await uploadReportArtifact(provenancePath, inputs.artifactName)
    if (id !== undefined) core.setOutput('artifact-id', String(id))
    if (url !== undefined) core.setOutput('artifact-url', url)
  } catch (error) {
    log.warning(
      `the provenance report was not uploaded as an artifact (it stays at ${provenancePath}): ${causeChain(error).join(': ')}`
    )
  }
}

async function annotateTelemetry(
  workspace: string,
  path: string,
  report: ProvenanceReport
): Promise<void> {
  try {
    await annotateTelemetryFile(workspace, path, report)
  } catch (error) {
    log.warning(`the telemetry summary ${path} was not annotated: ${causeChain(error).join(': ')}`)
  }
}

async function dispatchUpdater(
  inputs: ActionInputs,
  result: RunResult,
  context: RunnerContext
): Promise<void> {
  if (!result.autoUpdate || !shouldDispatchUpdate(result.images)) return
  const { workflow, ref } = result.autoUpdate
  const repository = context.env.GITHUB_REPOSITORY
  if (!repository || !inputs.githubToken) {
    log.warning(
      `auto_update: the updater workflow ${workflow} was not dispatched: ${!repository ? 'GITHUB_REPOSITORY is not set' : "no 'github-token'"}`
    )
    return
  }
  try {
    await dispatchWorkflow({
      apiUrl: context.env.GITHUB_API_URL || 'https://api.github.com',
      token: inputs.githubToken,
      repository,
      workflow,
      ref
    })
    log.notice(`auto_update: dispatched ${workflow} on ${ref}`)
  } catch (error) {
    log.warning(`auto_update: ${causeChain(error).join(': ')}`)
  }
}

/** Writes the run's report (atomically) where the inputs say; returns it and its absolute path. */
async function writeRunReport(
  result: RunResult,
  paths: Pick<ActionInputs, 'provenancePath' | 'policyPath' | 'matrixPath'>,
  context: RunnerContext
): Promise<{ report: ProvenanceReport; provenancePath: string }> {
  const { env } = context
  const provenancePath = inWorkspace(context.workspace, paths.provenancePath)
  const report = buildReport(result, {
    actionVersion: ACTION_VERSION,
    policyPath: paths.policyPath,
    matrixPath: paths.matrixPath,
    repository: env.GITHUB_REPOSITORY,
    runId: env.GITHUB_RUN_ID,
    runUrl: runUrl(env)
  })
  await writeReportFile(provenancePath, report, context.workspace)
  return { report, provenancePath }
}

/** Verifies the matrix and hands off the result; returns the run's result. */
async function runVerify(inputs: ActionInputs, context: RunnerContext): Promise<RunResult> {
  const { workspace } = context
  const startedAt = new Date().toISOString()
  const secrets = new SecretRedactor()
  secrets.addCredential(inputs.registryUsername, inputs.registryPassword)
  secrets.add(inputs.githubToken)
  let result: RunResult
  try {
    // Inside the try: an unreadable Docker config must still leave a report.
    const adapters = actionAdapters(inputs, workspace, secrets)
    result = await verifyImages(
      {
        workspace,
        policyPath: inputs.policyPath,
        matrixPath: inputs.matrixPath,
        repository: inputs.repository,
        images: inputs.images,
        trustedRoot: inputs.trustedRoot,
        concurrency: inputs.concurrency,
        now: context.now,
        cache: inputs.cache,
        ...(inputs.shard && { shard: inputs.shard })
      },
      {
        ...adapters,
        ...(inputs.cache && { verdictCache: actionVerdictCache(inputs, workspace, context.env) }),
        log: message => log.info(message)
      }
    )
  } catch (error) {
    result = failedRun(error, startedAt)
  }
  // One redaction before anything is stored: report, outputs, annotations, summary.
  result = secrets.redactDeep(result)

  await handOff(result, inputs, context)
  return result
}

/** Report → outputs → artifact → annotations → telemetry → dispatch → summary, for verify and merge alike. */
async function handOff(result: RunResult, inputs: ActionInputs, context: RunnerContext) {
  const { report, provenancePath } = await writeRunReport(result, inputs, context)
  log.info(`provenance report written to ${provenancePath}`)
  setRunOutputs(result, provenancePath)
  if (inputs.uploadArtifact) await uploadArtifact(inputs, provenancePath)
  emitAnnotations(result)
  if (inputs.telemetrySummary)
    await annotateTelemetry(
      context.workspace,
      inWorkspace(context.workspace, inputs.telemetrySummary),
      report
    )
  await dispatchUpdater(inputs, result, context)
  await core.summary.addRaw(renderJobSummary(result)).write()
}

/**
 * `command: merge`: the shard reports matched by `reports` as one run —
 * one report, summary, outputs and exit code, as a single run would give.
 * The updater is not dispatched here: each shard's report does not say which
 * workflow (the verify runs of `mode: auto_update` do that).
 */
async function runMerge(inputs: ActionInputs, context: RunnerContext): Promise<RunResult> {
  let result: RunResult
  try {
    const files = await readShardReports(
      inputs.reports,
      context.workspace,
      inWorkspace(context.workspace, inputs.provenancePath)
    )
    log.info(`merging ${files.length} shard report(s): ${files.map(f => f.source).join(', ')}`)
    result = await mergeInWorkspace(
      files,
      {
        workspace: context.workspace,
        policyPath: inputs.policyPath,
        matrixPath: inputs.matrixPath,
        repository: inputs.repository,
        images: inputs.images,
        trustedRoot: inputs.trustedRoot,
        now: context.now,
        runId: context.env.GITHUB_RUN_ID || undefined
      },
      actionAdapters(inputs, context.workspace)
    )
  } catch (error) {
    result = failedRun(error, new Date().toISOString())
  }
  await handOff(result, inputs, context)
  return result
}

/**
 * Inputs that cannot be used still leave a report behind (at the given
 * `provenance-path` when it is readable, else the default) saying why
 * nothing was verified.
 */
async function reportInputError(
  error: unknown,
  read: InputReader,
  context: RunnerContext
): Promise<void> {
  const result = failedRun(error, new Date().toISOString())
  const given = read('provenance-path').trim()
  const usable =
    given !== '' &&
    (await findWritableFileProblem(context.workspace, inWorkspace(context.workspace, given))) ===
      undefined
  const { provenancePath } = await writeRunReport(
    result,
    {
      provenancePath: usable ? given : DEFAULT_PROVENANCE_PATH,
      policyPath: read('policy').trim() || DEFAULT_POLICY_PATH,
      matrixPath: read('matrix').trim() || DEFAULT_MATRIX_PATH
    },
    context
  )
  setRunOutputs(result, provenancePath)
  await core.summary.addRaw(renderJobSummary(result)).write()
  log.setFailed(`rocm-provenance: ${causeChain(error).join(': ')}`)
}

/** The whole step: inputs, the chosen command, then the step's status. */
export async function runAction(
  read: InputReader = name => core.getInput(name),
  context: RunnerContext = runnerContext()
): Promise<void> {
  let inputs: ActionInputs
  try {
    inputs = parseActionInputs(read)
    // The report's path is checked like the files read: a FIFO, a device or a
    // path out of the workspace is an input error (the report goes to the default).
    const problem = await findWritableFileProblem(
      context.workspace,
      inWorkspace(context.workspace, inputs.provenancePath)
    )
    if (problem !== undefined)
      throw new InputError(`input 'provenance-path': \`${inputs.provenancePath}\` ${problem}`)
  } catch (error) {
    await reportInputError(error, read, context)
    return
  }
  for (const secret of [inputs.registryPassword, inputs.githubToken]) {
    if (secret) core.setSecret(secret)
  }
  await run(inputs, context)
}

/** The chosen command, then the step's status. */
export async function run(
  inputs: ActionInputs,
  context: RunnerContext = runnerContext()
): Promise<void> {
  if (inputs.command === 'update') {
    await runUpdateCommand(inputs, context)
    return
  }
  const result =
    inputs.command === 'merge' ? await runMerge(inputs, context) : await runVerify(inputs, context)
  const line = `decision ${result.decision}, exit code ${result.exitCode}, trust status ${result.trustStatus}`
  if (result.decision === 'fail') log.setFailed(`rocm-provenance: ${line}`)
  else if (result.decision === 'warn') log.warning(`rocm-provenance: ${line}`)
  else log.info(`rocm-provenance: ${line}`)
}
