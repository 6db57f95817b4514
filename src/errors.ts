/**
 * Errors as typed values: every error the action raises carries a stable
 * `code` a caller can branch on, a message a user can act on, and the `cause`
 * it grew from. A rejected image is not an error — it is a decision value
 * (see decide.ts); these are for things that stop a stage from completing.
 */
export class ProvenanceError<Code extends string = string> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProvenanceError'
    this.code = code
  }
}

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

export function formatConfigIssues(issues: ConfigIssue[]): string {
  const lines = issues.map(issue => {
    const where = formatLocation(issue.location)
    return where ? `${where}: ${issue.message}` : issue.message
  })
  const noun = issues.length === 1 ? 'problem' : 'problems'
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
      chain.push(typeof code === 'string' ? `${code}: ${current.message}` : current.message)
      current = current.cause
    } else {
      chain.push(String(current))
      break
    }
  }
  return chain
}
