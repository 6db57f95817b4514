/**
 * Checks parsed configuration against the published JSON Schemas (draft 2020-12,
 * `schemas/`) and words every ajv error as "expected … found …" at the line and
 * column of the offending value or key. Pure. The validators are compiled from
 * the schemas at build time (scripts/schema-validators.mjs), not at run time.
 */
import type { ErrorObject } from 'ajv'
import type { ConfigIssue } from '../domain/errors.js'
import * as validators from './schema-validators.generated.js'
import { locate, type ParsedYaml } from './yaml.js'

export type SchemaName = 'policy' | 'matrix'

/** Every schema violation in `parsed.data`, as issues with locations. */
export function validateAgainstSchema(name: SchemaName, parsed: ParsedYaml): ConfigIssue[] {
  const validate = validators[name]
  if (validate(parsed.data)) return []
  const errors = (validate.errors ?? []).filter(e => e.keyword !== 'if')
  // A failed anyOf is reported once, not once per branch.
  const anyOfs = errors.filter(e => e.keyword === 'anyOf')
  const isBranchOfAnyOf = (error: ErrorObject): boolean =>
    anyOfs.some(
      a => a.instancePath === error.instancePath && error.schemaPath.startsWith(`${a.schemaPath}/`)
    )
  const kept = errors.filter(error => !isBranchOfAnyOf(error))
  return kept.map(error => describeError(error, parsed))
}

/** `/rocm/images/0/os` → `rocm.images[0].os`. */
export function displayPath(pointer: string): string {
  if (pointer === '') return 'the document'
  let text = ''
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    text += /^\d+$/.test(segment) ? `[${segment}]` : text === '' ? segment : `.${segment}`
  }
  return `\`${text}\``
}

/** A short, safe rendering of a found value. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)'
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value
    return `the text ${JSON.stringify(shown)}`
  }
  if (typeof value === 'number') return `the number ${value}`
  if (typeof value === 'boolean') return `${value}`
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`
  return 'a mapping'
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'nothing (null)'
}

const FORMAT_WORDS: Record<string, string> = {
  date: 'a date YYYY-MM-DD',
  'date-time': 'a date and time (RFC 3339, e.g. 2026-11-20T10:00:00Z)'
}

/** Edit distance counting an adjacent transposition as one edit (`rcom` → `rocm`), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  const cell = (i: number, j: number): number => (rows[i] as number[])[j] as number
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(cell(i - 1, j) + 1, cell(i, j - 1) + 1, cell(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, cell(i - 2, j - 2) + 1)
      }
      ;(rows[i] as number[])[j] = best
    }
  }
  return cell(a.length, b.length)
}

/**
 * The candidate closest to `word`, when it is close enough to be a likely typo:
 * a few edits away, or a prefix of it (`require_sig` → `require_signature`).
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3))) return best
  if (lower.length >= 3) return candidates.find(c => c.toLowerCase().startsWith(lower))
  return undefined
}

function listOf(values: readonly unknown[]): string {
  return values.map(v => `\`${String(v)}\``).join(', ')
}

function propertyNames(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties
  return properties ? Object.keys(properties) : []
}

function expectedOf(schema: unknown): string {
  const s = (schema ?? {}) as { format?: string; type?: string | string[]; enum?: unknown[] }
  if (s.format && FORMAT_WORDS[s.format]) return FORMAT_WORDS[s.format] as string
  if (s.enum) return `one of ${listOf(s.enum)}`
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  return types.map(t => TYPE_WORDS[t] ?? t).join(' or ') || 'a valid value'
}

function describeError(error: ErrorObject, parsed: ParsedYaml): ConfigIssue {
  const where = displayPath(error.instancePath)
  const found = describeValue(error.data)
  const location = locate(parsed, error.instancePath)
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const pointer = `${error.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`
      const known = propertyNames(error.parentSchema)
      const suggestion = closestMatch(key, known)
      const hint = suggestion
        ? `did you mean \`${suggestion}\`?`
        : known.length > 0
          ? `expected one of ${listOf(known)}`
          : 'no keys are allowed here'
      return {
        code: 'unknown-key',
        message: `unknown key \`${key}\` in ${where}; ${hint}`,
        location: locate(parsed, pointer, 'key')
      }
    }
    case 'required':
      return {
        code: 'missing-key',
        message: `${where} is missing the required key \`${String(params.missingProperty)}\``,
        location
      }
    case 'type':
      return {
        code: 'wrong-type',
        message: `${where}: expected ${expectedOf(error.parentSchema)}, found ${found}`,
        location
      }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]) ?? []
      const suggestion =
        typeof error.data === 'string' ? closestMatch(error.data, allowed.map(String)) : undefined
      return {
        code: 'bad-value',
        message: `${where}: expected one of ${listOf(allowed)}, found ${found}${suggestion ? `; did you mean \`${suggestion}\`?` : ''}`,
        location
      }
    }
    case 'minimum':
    case 'exclusiveMinimum': {
      const negative = typeof error.data === 'number' && error.data < 0
      return {
        code: negative ? 'negative-number' : 'bad-value',
        message: `${where}: expected a number ${params.comparison} ${String(params.limit)}${negative ? ' (it must not be negative)' : ''}, found ${found}`,
        location
      }
    }
    case 'format':
      return {
        code: 'bad-format',
        message: `${where}: expected ${FORMAT_WORDS[String(params.format)] ?? String(params.format)}, found ${found}`,
        location
      }
    case 'anyOf': {
      const branches = ((error.schema as unknown[]) ?? []).map(expectedOf)
      return {
        code: 'bad-format',
        message: `${where}: expected ${branches.join(' or ')}, found ${found}`,
        location
      }
    }
    case 'pattern': {
      const description = (error.parentSchema as { description?: string } | undefined)?.description
      const firstSentence = description?.split(/(?<=\.)\s/)[0]
      return {
        code: 'bad-value',
        message: `${where}: expected text matching ${String(params.pattern)}${firstSentence ? ` (${firstSentence.replace(/\.$/, '')})` : ''}, found ${found}`,
        location
      }
    }
    case 'minLength':
      return {
        code: 'bad-value',
        message: `${where}: expected non-empty text, found ${found}`,
        location
      }
    case 'minItems':
    case 'maxItems': {
      const limit = Number(params.limit)
      const exact = error.parentSchema as { minItems?: number; maxItems?: number } | undefined
      const wanted =
        exact?.minItems !== undefined && exact.minItems === exact.maxItems
          ? `exactly ${limit}`
          : `${error.keyword === 'minItems' ? 'at least' : 'at most'} ${limit}`
      return {
        code: 'bad-value',
        message: `${where}: expected a list of ${wanted} item${limit === 1 ? '' : 's'}, found ${found}`,
        location
      }
    }
    case 'minProperties':
      return {
        code: 'bad-value',
        message: `${where}: expected at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}, found ${found === 'a mapping' ? 'an empty mapping' : found}`,
        location
      }
    default:
      return { code: 'schema', message: `${where} ${error.message ?? 'is invalid'}`, location }
  }
}
