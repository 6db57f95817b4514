/**
 * Errors as typed values: every error the action raises carries a stable
 * `code` a caller can branch on, a message a user can act on, and the `cause`
 * it grew from. A rejected image is not an error — it is a decision value
 * (see decide.ts); these are for things that stop a stage from completing.
 */
export class ProvenanceError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProvenanceError'
    this.code = code
  }
}

/**
 * Every code an error of this project can carry. A new kind of failure adds
 * its code here, so a caller can switch over all of them.
 */
type ErrorCode =
  | 'CONFIG_INVALID'
  | 'INPUT_INVALID'
  | RegistryErrorCode
  | CosignInstallErrorCode
  | MatrixEditErrorCode
  /** The Docker config file (DOCKER_CONFIG) exists but cannot be read or parsed. */
  | 'DOCKER_CONFIG_UNREADABLE'
  /** rocm_provenance.json could not be written. */
  | 'REPORT_WRITE_FAILED'
  /** The report artifact could not be uploaded (a warning, never a verdict). */
  | 'ARTIFACT_UPLOAD_FAILED'
  /** The updater workflow could not be dispatched (auto_update). */
  | 'DISPATCH_FAILED'
  /** `inspect` was given something that is not a report or telemetry summary. */
  | 'INSPECT_UNREADABLE'
  /** `annotate`: the telemetry summary or the report is not what it should be. */
  | 'TELEMETRY_INVALID'
  | GitHubApiErrorCode

/** Where in a user's file something was found (1-based line and column). */
export interface SourceLocation {
  file: string
  line: number
  column: number
}

/** One problem found in a configuration file. */
export interface ConfigIssue {
  /** Stable identifier, e.g. `unknown-key`, `yaml-syntax`, `bad-digest`. */
  code: string
  message: string
  location?: SourceLocation
}

/** The configuration cannot be used; `issues` lists every problem found. */
export class ConfigError extends ProvenanceError<'CONFIG_INVALID'> {
  readonly issues: ConfigIssue[]

  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', formatConfigIssues(issues), options)
    this.name = 'ConfigError'
    this.issues = issues
  }
}

/** A bad action input or CLI argument. */
export class InputError extends ProvenanceError<'INPUT_INVALID'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INPUT_INVALID', message, options)
    this.name = 'InputError'
  }
}

export function formatLocation(location: SourceLocation | undefined): string {
  if (!location) return ''
  return `${location.file}:${location.line}:${location.column}`
}

export function formatConfigIssues(
  issues: ConfigIssue[],
  kind: 'problem' | 'warning' = 'problem'
): string {
  const lines = issues.map(issue => {
    const where = formatLocation(issue.location)
    return where ? `${where}: ${issue.message}` : issue.message
  })
  const noun = issues.length === 1 ? kind : `${kind}s`
  return `configuration has ${issues.length} ${noun}:\n${lines.map(l => `  ${l}`).join('\n')}`
}

/** The message of an error and of every cause below it, outermost first. */
export function causeChain(error: unknown): string[] {
  const chain: string[] = []
  let current: unknown = error
  const seen = new Set<unknown>()
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current)
    if (current instanceof Error) {
      const code = (current as { code?: unknown }).code
      // Node's system errors already start their message with the code (`ENOENT: …`).
      const prefixed = typeof code === 'string' && !current.message.startsWith(code)
      chain.push(prefixed ? `${code}: ${current.message}` : current.message)
      current = current.cause
    } else {
      chain.push(String(current))
      break
    }
  }
  return chain
}

type RegistryErrorCode =
  /** Connection refused or reset, DNS failure, TLS failure, or 5xx after every attempt. */
  | 'REGISTRY_UNREACHABLE'
  /** 401/403: no credentials, or credentials (or a token) refused. */
  | 'REGISTRY_AUTH'
  /** 404: the repository, tag or digest does not exist. */
  | 'REGISTRY_NOT_FOUND'
  /** An answer that breaks the distribution spec: bad digest, bad JSON, digest mismatch. */
  | 'REGISTRY_PROTOCOL'
  /** 429 after every attempt. */
  | 'REGISTRY_RATE_LIMITED'
  /** No complete answer within the per-request timeout, after every attempt. */
  | 'REGISTRY_TIMEOUT'

export class RegistryError extends ProvenanceError<RegistryErrorCode> {
  /** HTTP status, when the registry answered. */
  readonly status?: number
  readonly retryable: boolean
  /** Milliseconds the registry asked us to wait (`Retry-After`), if it did. */
  readonly retryAfterMs?: number

  constructor(
    code: RegistryErrorCode,
    message: string,
    options: { cause?: unknown; status?: number; retryable?: boolean; retryAfterMs?: number } = {}
  ) {
    super(code, message, { cause: options.cause })
    this.name = 'RegistryError'
    this.status = options.status
    this.retryable = options.retryable ?? false
    this.retryAfterMs = options.retryAfterMs
  }
}

/** The error code and message in one line, as findings and logs show them. */
export function describeRegistryError(error: unknown): string {
  if (error instanceof RegistryError) return `${error.code}: ${error.message}`
  return error instanceof Error ? error.message : String(error)
}

export type CosignInstallErrorCode =
  | 'COSIGN_UNSUPPORTED_PLATFORM'
  | 'COSIGN_UNPINNED_VERSION'
  | 'COSIGN_BAD_SHA256'
  | 'COSIGN_DOWNLOAD_FAILED'
  | 'COSIGN_CHECKSUM_MISMATCH'
  | 'COSIGN_VERSION_UNREADABLE'

export type MatrixEditErrorCode =
  /** The OS-keyed map form: read, never written. */
  | 'MATRIX_READ_ONLY_FORM'
  /** Not YAML, no `rocm.images` list, or a layout the editor does not write. */
  | 'MATRIX_LAYOUT'
  /** The row at an index is not the one the caller meant. */
  | 'MATRIX_ROW_MISMATCH'
  /** The edited text did not read back as intended (a bug, never written out). */
  | 'MATRIX_EDIT_FAILED'

export type GitHubApiErrorCode =
  /** 401/403 from the GitHub API that is not a rate limit: no or a refused token. */
  | 'GITHUB_API_AUTH'
  /** Rate-limited past the run's budget for the API; the reset time is in the message. */
  | 'GITHUB_API_RATE_LIMITED'
  /** Any other failure: unreachable, 4xx/5xx, a page or bundle that is not what it should be. */
  | 'GITHUB_API_FAILED'
