/**
 * Regular expressions as cosign reads them (Go's RE2 syntax), checked with
 * re2js so a pattern that cosign would reject is a config error with a line.
 */
import { RE2JS } from 're2js'

/** Characters that make an issuer a regular expression rather than a URL. */
export const REGEXP_SYNTAX = /[\^$*+?()[\]|\\{}]/

/** Why RE2 (Go's syntax, as cosign reads it) cannot compile `pattern`, or undefined. */
export function findRe2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern)
    return undefined
  } catch (error: unknown) {
    return error instanceof Error ? error.message : String(error)
  }
}
