/**
 * `rocm-provenance`: the command line over the same core as the action.
 *
 *   verify    check the matrix against the policy; exits with the action's codes
 *   validate  check both files; exits 0 or 4
 *   inspect   print the trust status per image of a report or telemetry summary
 *   annotate  merge a provenance report into a telemetry summary
 *   update    refresh pins to digests that pass the policy
 */
import { resolve } from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { createAdapters, type Adapters } from '../adapters/create.js'
import { validateConfigFiles } from '../adapters/fs/config-load.js'
import { causeChain, formatConfigIssues, InputError } from '../domain/errors.js'
import { inspectDocument, renderInspectJson, renderInspectTable } from '../render/inspect.js'
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_MATRIX_PATH,
  DEFAULT_POLICY_PATH,
  DEFAULT_PROVENANCE_PATH,
  parseConcurrency,
  parseShard
} from '../app/run-options.js'
import { verifyImages } from '../app/verify.js'
import { buildReport } from '../render/report.js'
import { writeReportFile } from '../adapters/fs/report-file.js'
import { renderTextSummary } from '../render/summary.js'
import { isProvenanceReport, MAX_TELEMETRY_BYTES } from '../render/telemetry.js'
import { readRegularTextFile } from '../adapters/fs/safe-file.js'
import { annotateTelemetryFile } from '../adapters/fs/telemetry-file.js'
import { runUpdateCli } from './update.js'
import { ACTION_VERSION } from '../domain/action-version.js'
import { terminalSafe } from '../domain/reference.js'
import { SecretRedactor } from '../domain/secrets.js'

const USAGE = `rocm-provenance ${ACTION_VERSION}

Usage:
  rocm-provenance verify   [--policy F] [--matrix F] [options]
  rocm-provenance validate [--policy F] [--matrix F]
  rocm-provenance inspect  <report-or-telemetry.json> [--json]
  rocm-provenance annotate <telemetry_summary.json> <rocm_provenance.json>
  rocm-provenance update   [--policy F] [--matrix F] [--discover] [--dry-run] [options]

Options (verify, update):
  --policy F               policy file (default ci/rocm_policy.yml)
  --matrix F               matrix file (default ci/rocm_matrix.yml)
  --repository R           default repository for rows that name none
  --image REF              check only this repository:tag (repeatable)
  --cosign-path P          cosign binary (default: cosign on PATH)
  --trusted-root F         Sigstore trusted root JSON
  --insecure-registry H    host:port that may be reached over plain HTTP (repeatable)
  --registry-username U    registry user; the password is read from the
                           ROCM_PROVENANCE_REGISTRY_PASSWORD environment variable
  --concurrency N          images checked at once (default 16)
  --provenance-path F      report path (default rocm_provenance.json; verify)
  --json                   print the report instead of the summary (verify)
  --shard K/N              check only the K-th of N shards of the matrix (verify)

Exit codes: 0 pass, 1 warning, 2 digest drift, 3 signature failure, 4 configuration or usage error.
GITHUB_TOKEN, when set, is used for ghcr.io and GitHub's attestations API
(GITHUB_API_URL, default https://api.github.com).`

/** Every line the CLI prints goes through the one terminal-safe escaping. */
const out = (text: string): boolean => process.stdout.write(terminalSafe(text))
const err = (text: string): boolean => process.stderr.write(terminalSafe(text))

interface CommonOptions {
  policy: string
  matrix: string
  repository?: string
  images: string[]
  cosignPath: string
  trustedRoot?: string
  insecureRegistries: string[]
  registryUsername?: string
  concurrency: number
}

const COMMON_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  policy: { type: 'string', default: DEFAULT_POLICY_PATH },
  matrix: { type: 'string', default: DEFAULT_MATRIX_PATH },
  repository: { type: 'string' },
  image: { type: 'string', multiple: true, default: [] },
  'cosign-path': { type: 'string', default: 'cosign' },
  'trusted-root': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true, default: [] },
  'registry-username': { type: 'string' },
  concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) }
}

function commonOptions(values: Record<string, unknown>): CommonOptions {
  const concurrency = parseConcurrency(values.concurrency as string, '--concurrency')
  return {
    policy: values.policy as string,
    matrix: values.matrix as string,
    repository: values.repository as string | undefined,
    images: values.image as string[],
    cosignPath: values['cosign-path'] as string,
    trustedRoot: values['trusted-root'] as string | undefined,
    insecureRegistries: values['insecure-registry'] as string[],
    registryUsername: values['registry-username'] as string | undefined,
    concurrency
  }
}

/** The CLI's adapters: cosign as given (nothing is installed); the password from the environment. */
function cliAdapters(
  options: CommonOptions,
  workspace: string,
  secrets?: SecretRedactor
): Adapters {
  return createAdapters({
    secrets,
    workspace,
    username: options.registryUsername,
    password: process.env.ROCM_PROVENANCE_REGISTRY_PASSWORD,
    githubToken: process.env.GITHUB_TOKEN,
    githubApiUrl: process.env.GITHUB_API_URL,
    insecureRegistries: options.insecureRegistries,
    resolveCosignPath: async () => options.cosignPath
  })
}

async function verifyCommand(args: string[]): Promise<number> {
  const { values }: { values: Record<string, unknown> } = parseArgs({
    args,
    options: {
      ...COMMON_OPTIONS,
      'provenance-path': { type: 'string', default: DEFAULT_PROVENANCE_PATH },
      json: { type: 'boolean', default: false },
      shard: { type: 'string' }
    },
    allowPositionals: false
  })
  const options = commonOptions(values)
  const shard = parseShard((values.shard as string | undefined) ?? '', '--shard')
  const workspace = process.cwd()
  const secrets = new SecretRedactor()
  const adapters = cliAdapters(options, workspace, secrets)
  const verified = await verifyImages(
    {
      workspace,
      policyPath: options.policy,
      matrixPath: options.matrix,
      repository: options.repository,
      images: options.images,
      trustedRoot: options.trustedRoot,
      concurrency: options.concurrency,
      now: new Date(),
      ...(shard && { shard })
    },
    adapters
  )
  const result = secrets.redactDeep(verified)
  const report = buildReport(result, {
    actionVersion: ACTION_VERSION,
    policyPath: options.policy,
    matrixPath: options.matrix
  })
  const reportPath = resolve(workspace, values['provenance-path'] as string)
  await writeReportFile(reportPath, report)
  if (values.json) out(`${JSON.stringify(report, null, 2)}\n`)
  else out(`${renderTextSummary(result)}\nreport: ${reportPath}\n`)
  if (result.autoUpdate && result.exitCode !== 0)
    err(
      `mode is auto_update: the command line never dispatches ${result.autoUpdate.workflow}; ` +
        `run 'rocm-provenance update' to refresh the pins\n`
    )
  return result.exitCode
}

async function validateCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      policy: { type: 'string', default: DEFAULT_POLICY_PATH },
      matrix: { type: 'string', default: DEFAULT_MATRIX_PATH }
    },
    allowPositionals: false
  })
  const { issues, warnings } = await validateConfigFiles({
    policyPath: values.policy,
    matrixPath: values.matrix,
    workspace: process.cwd()
  })
  if (issues.length === 0) {
    if (warnings.length > 0) err(`${formatConfigIssues(warnings, 'warning')}\n`)
    out(`${values.policy} and ${values.matrix} are valid\n`)
    return 0
  }
  err(`${formatConfigIssues(issues)}\n`)
  return 4
}

async function inspectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { json: { type: 'boolean', default: false } },
    allowPositionals: true
  })
  if (positionals.length !== 1) throw new InputError('inspect takes one file')
  const text = await readRegularTextFile(positionals[0], MAX_TELEMETRY_BYTES)
  if (text === undefined) throw new InputError(`${positionals[0]} does not exist`)
  const inspected = inspectDocument(text)
  out(values.json ? renderInspectJson(inspected) : renderInspectTable(inspected.rows))
  return inspected.exitCode
}

async function annotateCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true })
  if (positionals.length !== 2)
    throw new InputError('annotate takes a telemetry summary and a provenance report')
  const [summaryPath, reportPath] = positionals
  const reportText = await readRegularTextFile(reportPath, MAX_TELEMETRY_BYTES)
  if (reportText === undefined) throw new InputError(`${reportPath} does not exist`)
  let report: unknown
  try {
    report = JSON.parse(reportText)
  } catch {
    report = undefined
  }
  if (!isProvenanceReport(report))
    throw new InputError(
      `${reportPath} is not a rocm_provenance.json report (the arguments are: annotate <telemetry summary> <provenance report>)`
    )
  await annotateTelemetryFile(undefined, summaryPath, report)
  out(`annotated ${summaryPath} with ${reportPath}\n`)
  return 0
}

async function updateCommand(args: string[]): Promise<number> {
  const { values }: { values: Record<string, unknown> } = parseArgs({
    args,
    options: {
      ...COMMON_OPTIONS,
      discover: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false }
    },
    allowPositionals: false
  })
  const options = commonOptions(values)
  const workspace = process.cwd()
  const secrets = new SecretRedactor()
  return runUpdateCli({
    ...cliAdapters(options, workspace, secrets),
    secrets,
    workspace,
    policyPath: options.policy,
    matrixPath: options.matrix,
    repository: options.repository,
    images: options.images,
    discover: values.discover as boolean,
    dryRun: values['dry-run'] as boolean,
    out
  })
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  verify: verifyCommand,
  validate: validateCommand,
  inspect: inspectCommand,
  annotate: annotateCommand,
  update: updateCommand
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(`${USAGE}\n`)
    return command === undefined ? 4 : 0
  }
  if (command === '--version') {
    out(`${ACTION_VERSION}\n`)
    return 0
  }
  const handler = COMMANDS[command]
  if (!handler) {
    err(`rocm-provenance: unknown command '${command}'\n\n${USAGE}\n`)
    return 4
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(`${USAGE}\n`)
    return 0
  }
  try {
    return await handler(rest)
  } catch (error) {
    const usage =
      error instanceof InputError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    err(`rocm-provenance ${command}: ${causeChain(error).join(': ')}\n`)
    if (usage) err(`run 'rocm-provenance --help' for usage\n`)
    return 4
  }
}
