/**
 * Regular expressions as cosign reads them (Go's RE2 syntax), checked with
 * re2js so a pattern that cosign would reject is a config error with a line.
 */
import { RE2JS } from 're2js'

/** Characters that make an issuer a regular expression rather than a URL. */
export const REGEXP_SYNTAX = /[\^$*+?()[\]|\\{}]/

/**
 * Whether an identity pattern is anchored at its start: `^` or `\\A` first,
 * after any leading flag groups such as `(?i)`. cosign's
 * `--certificate-identity-regexp` is Go's `MatchString`, which finds the
 * pattern anywhere in the certificate's identity: unanchored,
 * `https://github.com/rocm/images/` also matches an identity that merely
 * contains it.
 */
export function isStartAnchored(pattern: string): boolean {
  return /^(?:\(\?[a-zA-Z-]*\))*(?:\^|\\A)/.test(pattern)
}

/**
 * The warning (not an error) for a pattern `isStartAnchored` refuses: `key`
 * as written in the file, `subject` what it is matched against.
 */
export function unanchoredWarning(key: string, subject = "the certificate's identity"): string {
  return `\`${key}\` is not anchored with \`^\`: it matches anywhere in ${subject}, so a value that merely contains it matches too; start it with \`^\` (and end it with \`$\` unless a prefix is meant)`
}

/** Why RE2 (Go's syntax, as cosign reads it) cannot compile `pattern`, or undefined. */
export function findRe2Problem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern)
    return undefined
  } catch (error: unknown) {
    return error instanceof Error ? error.message : String(error)
  }
}
