/**
 * Regular expressions as cosign reads them (Go's RE2 syntax), checked with
 * re2js so a pattern that cosign would reject is a config error with a line.
 */
import { RE2JS } from 're2js'

/** Characters that make an issuer a regular expression rather than a URL. */
export const REGEXP_SYNTAX = /[\^$*+?()[\]|\\{}]/

/**
 * Whether an identity pattern is anchored at its start in every alternative:
 * each top-level branch (`a|b`) begins, after any flag groups such as
 * `(?i)`, with `^` or `\\A`, or with a group whose every branch does. cosign's
 * `--certificate-identity-regexp` is Go's `MatchString`, which finds the
 * pattern anywhere in the certificate's identity: unanchored,
 * `https://github.com/rocm/images/` also matches an identity that merely
 * contains it, and so does `^x|https://github.com/rocm/images/`. Under the
 * `m` flag `^` matches after any newline, so only `\\A` anchors there. For a
 * pattern RE2 compiles (checked first).
 */
export function isStartAnchored(pattern: string): boolean {
  return anchored(pattern, MULTILINE_FLAG.test(pattern))
}

/**
 * A flag group that sets `m` (`(?m)`, `(?im:`): its effect runs on past `|`,
 * so where it is set anywhere, only `\\A` counts (a literal `\\(?m)` warns too).
 */
const MULTILINE_FLAG = /\(\?[a-zA-Z]*m[a-zA-Z-]*[:)]/
/** A leading flag group: `(?i)`, `(?i-s)`. */
const FLAG_GROUP = /^\(\?[a-zA-Z-]*\)/
/** The opening of a group whose content is matched: `(`, `(?:`, `(?i:`, `(?P<n>`, `(?<n>`. */
const GROUP_OPENING = /^\((?:\?(?:[a-zA-Z-]*:|P?<[^>]*>))?/

function anchored(pattern: string, multiline: boolean): boolean {
  const branches = topLevelBranches(pattern)
  return branches !== undefined && branches.every(branch => branchAnchored(branch, multiline))
}

function branchAnchored(branch: string, multiline: boolean): boolean {
  let rest = branch
  for (let flags = FLAG_GROUP.exec(rest); flags; flags = FLAG_GROUP.exec(rest))
    rest = rest.slice(flags[0].length)
  if (rest.startsWith('\\A')) return true
  if (rest.startsWith('^')) return !multiline
  const opening = GROUP_OPENING.exec(rest)
  const end = groupEnd(rest)
  if (!rest.startsWith('(') || !opening || end === undefined) return false
  return anchored(rest.slice(opening[0].length, end), multiline)
}

/**
 * The index past a pattern's escape, character class or `\\Q…\\E` quote at
 * `i` (an ordinary character: `i + 1`).
 */
function skipAtom(pattern: string, i: number): number {
  if (pattern.startsWith('\\Q', i)) {
    const end = pattern.indexOf('\\E', i + 2)
    return end === -1 ? pattern.length : end + 2
  }
  if (pattern[i] === '\\') return i + 2
  if (pattern[i] !== '[') return i + 1
  // A class: `]` first (after `^`) is literal; `[:alpha:]` inside; escapes.
  let j = i + 1
  if (pattern[j] === '^') j++
  if (pattern[j] === ']') j++
  while (j < pattern.length && pattern[j] !== ']') {
    if (pattern[j] === '\\') j += 2
    else if (pattern.startsWith('[:', j)) {
      const end = pattern.indexOf(':]', j + 2)
      j = end === -1 ? j + 1 : end + 2
    } else j++
  }
  return j + 1
}

/** The index of the `)` closing the group opened at 0, or undefined. */
function groupEnd(pattern: string): number | undefined {
  let depth = 0
  for (let i = 0; i < pattern.length;) {
    const char = pattern[i]
    if (char === '(') depth++
    else if (char === ')' && --depth === 0) return i
    i = char === '(' || char === ')' ? i + 1 : skipAtom(pattern, i)
  }
  return undefined
}

/** A pattern's top-level alternatives (`a|b` → `a`, `b`), or undefined when unbalanced. */
function topLevelBranches(pattern: string): string[] | undefined {
  const branches: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < pattern.length;) {
    const char = pattern[i]
    if (char === '(') depth++
    else if (char === ')') depth--
    else if (char === '|' && depth === 0) {
      branches.push(pattern.slice(start, i))
      start = i + 1
    }
    i = char === '(' || char === ')' || char === '|' ? i + 1 : skipAtom(pattern, i)
  }
  if (depth !== 0) return undefined
  branches.push(pattern.slice(start))
  return branches
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
