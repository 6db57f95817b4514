/**
 * Reads `ci/rocm_policy.yml` and `ci/rocm_matrix.yml`: the only part of the config
 * stage that touches the file system. Every problem in both files — syntax, schema,
 * semantics, key files — is collected and reported together.
 */
import { isAbsolute, resolve } from 'node:path'
import type { ConfigFiles } from '../../app/ports.js'
import {
  describeFsError,
  errnoOf,
  findWorkspaceFileProblem,
  MAX_KEY_FILE_BYTES,
  readRegularFile
} from './safe-file.js'
import { ConfigError, type ConfigIssue, type SourceLocation } from '../../domain/errors.js'
import { configWarnings, planImages } from '../../domain/plan.js'
import { showControlCharacters } from '../../domain/reference.js'
import type { Config, Matrix, Policy } from '../../domain/types.js'
import { findMisspeltRocm, readMatrix } from '../../config/matrix.js'
import { readPolicy } from '../../config/policy.js'
import { trustedRootProblem } from '../../config/trusted-root.js'
import { displayPath, validateAgainstSchema, type SchemaName } from '../../config/schema.js'
import { MAX_CONFIG_BYTES, parseYaml, toPointer, type ParsedYaml } from '../../config/yaml.js'

async function parseConfigFile(
  file: string,
  workspace: string,
  schema: SchemaName
): Promise<ParsedYaml> {
  const start: SourceLocation = { file, line: 1, column: 1 }
  let bytes: Uint8Array
  try {
    bytes = await readRegularFile(resolve(workspace, file), MAX_CONFIG_BYTES)
  } catch (error: unknown) {
    const message = errnoOf(error) === 'ENOTFILE' ? 'is not a regular file' : describeFsError(error)
    return {
      file,
      data: undefined,
      positions: new Map(),
      issues: [
        {
          code: 'file-unreadable',
          message: `the ${schema} file ${file} ${message}`,
          location: start
        }
      ]
    }
  }
  if (bytes.length > MAX_CONFIG_BYTES) {
    return {
      file,
      data: undefined,
      positions: new Map(),
      issues: [
        {
          code: 'file-too-large',
          message: `file is larger than ${MAX_CONFIG_BYTES} bytes; expected a configuration file of at most that size`,
          location: start
        }
      ]
    }
  }
  const parsed = parseYaml(bytes, file)
  if (parsed.data === undefined) return parsed
  const misspelt = schema === 'matrix' ? findMisspeltRocm(parsed) : undefined
  if (misspelt) return { ...parsed, data: undefined, issues: [...parsed.issues, misspelt] }
  parsed.issues.push(...validateAgainstSchema(schema, parsed))
  return parsed
}

async function checkReferencedFiles(
  policy: Policy,
  matrix: Matrix,
  workspace: string,
  policyFile: string,
  trustedRootInput?: string
): Promise<ConfigIssue[]> {
  const checks: {
    path: string
    what: string
    location?: SourceLocation
    inspect?: (bytes: Uint8Array) => string | undefined
  }[] = []
  const trustedRoot = (bytes: Uint8Array): string | undefined =>
    trustedRootProblem(new TextDecoder().decode(bytes))
  if (trustedRootInput) {
    checks.push({ path: trustedRootInput, what: "input 'trusted-root'", inspect: trustedRoot })
  }
  if (policy.trustedRoot) {
    checks.push({
      path: policy.trustedRoot,
      what: displayPath('/policy/trusted_root'),
      location: policy.locations.trusted_root ?? { file: policyFile, line: 1, column: 1 },
      inspect: trustedRoot
    })
  }
  for (const signer of Object.values(policy.signers ?? {})) {
    if (signer.kind !== 'key') continue
    checks.push({
      path: signer.keyPath,
      what: displayPath(toPointer(['policy', 'signers', signer.name, 'key_path'])),
      location: signer.location ?? { file: policyFile, line: 1, column: 1 }
    })
  }
  for (const row of matrix.rows) {
    const keyPath = row.provenance?.keyPath
    if (keyPath === undefined) continue
    const locations = row.provenance?.locations ?? {}
    const location = locations.key_path ?? locations.expected_key ?? row.location
    if (!location) continue
    const key = locations.key_path ? 'key_path' : 'expected_key'
    const what = displayPath(toPointer(['rocm', 'images', row.index, 'provenance', key]))
    checks.push({ path: keyPath, what, location })
  }
  const problems = await Promise.all(
    checks.map(c => findWorkspaceFileProblem(workspace, c.path, c.inspect))
  )
  return checks.flatMap((check, i) => {
    const problem = problems[i]
    return problem
      ? [
          {
            code: 'bad-file',
            // Relative paths are read from the workspace: say which, when one is missing.
            message: `${check.what}: \`${check.path}\` ${problem}${
              problem === 'does not exist' && !isAbsolute(check.path)
                ? ` in ${resolve(workspace)} (paths are relative to the repository root the run starts in)`
                : ''
            }`,
            location: check.location
          }
        ]
      : []
  })
}

function orderIssues(issues: ConfigIssue[], files: string[]): ConfigIssue[] {
  const seen = new Set<string>()
  const visible = issues.map(issue => ({ ...issue, message: showControlCharacters(issue.message) }))
  const unique = visible.filter(issue => {
    const key = `${issue.code}\u0000${issue.message}\u0000${JSON.stringify(issue.location ?? null)}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  const rank = (issue: ConfigIssue): number => {
    const index = issue.location ? files.indexOf(issue.location.file) : -1
    return index === -1 ? files.length : index
  }
  return unique.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.location?.line ?? 0) - (b.location?.line ?? 0) ||
      (a.location?.column ?? 0) - (b.location?.column ?? 0)
  )
}

async function readConfig(
  options: ConfigFiles
): Promise<{ config: Config; issues: ConfigIssue[] }> {
  const [policyFile, matrixFile] = await Promise.all([
    parseConfigFile(options.policyPath, options.workspace, 'policy'),
    parseConfigFile(options.matrixPath, options.workspace, 'matrix')
  ])
  const policyRead = readPolicy(policyFile)
  const matrixRead = readMatrix(matrixFile)
  const issues = [...policyFile.issues, ...matrixFile.issues]
  // Semantic checks only where the file could be read; on a file that is not
  // YAML they would only repeat the same problem in other words.
  if (policyFile.data !== undefined) issues.push(...policyRead.issues)
  if (matrixFile.data !== undefined) issues.push(...matrixRead.issues)
  issues.push(
    ...(await checkReferencedFiles(
      policyRead.policy,
      matrixRead.matrix,
      options.workspace,
      options.policyPath,
      options.trustedRootInput
    ))
  )
  const config: Config = {
    policy: policyRead.policy,
    matrix: matrixRead.matrix,
    policyPath: options.policyPath,
    matrixPath: options.matrixPath
  }
  return { config, issues: orderIssues(issues, [options.policyPath, options.matrixPath]) }
}

/** Both files, checked and normalised; a ConfigError carrying every issue otherwise. */
export async function loadConfig(options: ConfigFiles): Promise<Config> {
  const { config, issues } = await readConfig(options)
  if (issues.length > 0) throw new ConfigError(issues)
  return config
}

/**
 * Every issue in both files (none when they are valid), including references
 * that only fail once planned with the defaults, and the warnings of files
 * without issues — for `rocm-provenance validate`.
 */
export async function validateConfigFiles(
  options: ConfigFiles
): Promise<{ issues: ConfigIssue[]; warnings: ConfigIssue[] }> {
  const { config, issues } = await readConfig(options)
  if (issues.length > 0) return { issues, warnings: [] }
  try {
    planImages(config, {})
    return { issues: [], warnings: configWarnings(config) }
  } catch (error: unknown) {
    if (error instanceof ConfigError) return { issues: error.issues, warnings: [] }
    throw error
  }
}

export { findWorkspaceFileProblem, MAX_KEY_FILE_BYTES }
