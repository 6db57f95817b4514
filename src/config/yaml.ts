/**
 * YAML bytes → plain data plus where every value was written, pure.
 *
 * The `yaml` package gives node ranges (for line/column on schema errors, not only
 * on syntax errors) and a document model (for comment-preserving edits), so one
 * library serves both. Hostile input is refused here: oversized files, bytes that
 * are not UTF-8, duplicate keys, and alias expansion beyond a budget (alias bombs).
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type ParsedNode
} from 'yaml'
import type { ConfigIssue, SourceLocation } from '../domain/errors.js'

/** Largest configuration file read, in bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024
/** Most alias references (`*name`) followed while reading one document. */
export const MAX_ALIAS_EXPANSIONS = 1000
/** Most values (scalars and collections, aliases expanded) in one document. */
const MAX_VALUES = 100_000
/** Deepest nesting of collections. */
export const MAX_DEPTH = 64

/** Where a value was written; `key` is where its key was, for values in a mapping. */
interface ValuePosition {
  value: SourceLocation
  key?: SourceLocation
  /** The scalar as written (`6.10` stays `6.10` though it reads as the number 6.1). */
  source?: string
}

export interface ParsedYaml {
  file: string
  /** The document as plain data; undefined when it could not be read at all. */
  data: unknown
  /** JSON pointer (the form of ajv's `instancePath`) → position. */
  positions: Map<string, ValuePosition>
  /** The document model, for callers that edit the file. */
  document?: Document.Parsed
  issues: ConfigIssue[]
}

/** `['rocm', 'images', 0]` → `/rocm/images/0` (RFC 6901 escaping). */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map(s => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')
}

/**
 * The location of the value (or of its key) at `pointer`; the nearest written
 * ancestor when the value itself was not written, the file's start at worst.
 */
export function locate(
  parsed: ParsedYaml,
  pointer: string,
  part: 'value' | 'key' = 'value'
): SourceLocation {
  let current = pointer
  for (;;) {
    const position = parsed.positions.get(current)
    if (position) return (part === 'key' && position.key) || position.value
    if (current === '') return { file: parsed.file, line: 1, column: 1 }
    current = current.slice(0, current.lastIndexOf('/'))
    part = 'value'
  }
}

/** The scalar at `pointer` as it was written, if it was a scalar. */
export function sourceText(parsed: ParsedYaml, pointer: string): string | undefined {
  return parsed.positions.get(pointer)?.source
}

/** Byte offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
export function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const lead = bytes[i] as number
    if (lead < 0x80) {
      i += 1
      continue
    }
    let length: number
    let low = 0x80
    let high = 0xbf
    if (lead >= 0xc2 && lead <= 0xdf) length = 2
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3
      if (lead === 0xe0) low = 0xa0
      if (lead === 0xed) high = 0x9f
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4
      if (lead === 0xf0) low = 0x90
      if (lead === 0xf4) high = 0x8f
    } else return i
    for (let k = 1; k < length; k += 1) {
      const next = bytes[i + k]
      const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf]
      if (next === undefined || next < min || next > max) return i
    }
    i += length
  }
  return -1
}

function byteLocation(bytes: Uint8Array, offset: number, file: string): SourceLocation {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset; i += 1) {
    if (bytes[i] === 0x0a) {
      line += 1
      lineStart = i + 1
    }
  }
  return { file, line, column: offset - lineStart + 1 }
}

const UTF8_BOM = [0xef, 0xbb, 0xbf]

/** Reads YAML bytes; never throws: every problem becomes an issue with its location. */
export function parseYaml(bytes: Uint8Array, file: string): ParsedYaml {
  const parsed: ParsedYaml = { file, data: undefined, positions: new Map(), issues: [] }
  const start = { file, line: 1, column: 1 }
  if (bytes.length > MAX_CONFIG_BYTES) {
    parsed.issues.push({
      code: 'file-too-large',
      message: `file is ${bytes.length} bytes; expected at most ${MAX_CONFIG_BYTES} bytes`,
      location: start
    })
    return parsed
  }
  const bom = UTF8_BOM.every((b, i) => bytes[i] === b) ? 3 : 0
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(bom))
  } catch {
    const offset = findInvalidUtf8(bytes)
    const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0')
    parsed.issues.push({
      code: 'not-utf8',
      message: `expected UTF-8 text, found the byte 0x${byte} that is not UTF-8 (column counts bytes)`,
      location: byteLocation(bytes, offset, file)
    })
    return parsed
  }
  // The BOM is not passed on, so offsets are relative to the text after it; a
  // BOM shifts no line or column a reader sees.
  const lines = new LineCounter()
  const at = (offset: number): SourceLocation => {
    const { line, col } = lines.linePos(offset)
    return { file, line, column: col }
  }
  let document: Document.Parsed
  try {
    document = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false })
  } catch (error: unknown) {
    parsed.issues.push({
      code: 'yaml-syntax',
      message: `could not parse YAML: ${error instanceof Error ? error.message : String(error)}`,
      location: start
    })
    return parsed
  }
  parsed.document = document
  for (const problem of [...document.errors, ...document.warnings]) {
    const code = problem.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax'
    parsed.issues.push({
      code,
      message: `invalid YAML: ${problem.message.split('\n')[0]} (${problem.code})`,
      location: at(problem.pos[0])
    })
  }
  if (document.errors.length > 0) return parsed
  const reader = new DataReader(document, at, parsed)
  try {
    parsed.data = reader.read(document.contents, [], 0)
  } catch (error: unknown) {
    if (!(error instanceof BudgetExceeded)) throw error
    parsed.data = undefined
    parsed.issues.push(error.issue)
  }
  return parsed
}

class BudgetExceeded extends Error {
  constructor(readonly issue: ConfigIssue) {
    super(issue.message)
  }
}

/** Walks the document model into plain data, recording positions and checking budgets. */
class DataReader {
  private aliases = 0
  private values = 0

  constructor(
    private readonly document: Document.Parsed,
    private readonly at: (offset: number) => SourceLocation,
    private readonly parsed: ParsedYaml
  ) {}

  read(node: ParsedNode | Node | null, path: (string | number)[], depth: number): unknown {
    if (node === null) return null
    const location = this.locationOf(node)
    this.values += 1
    if (this.values > MAX_VALUES) {
      throw new BudgetExceeded({
        code: 'yaml-too-large',
        message: `document expands to more than ${MAX_VALUES} values; refusing to read it (alias bomb?)`,
        location
      })
    }
    if (depth > MAX_DEPTH) {
      throw new BudgetExceeded({
        code: 'yaml-too-deep',
        message: `values are nested more than ${MAX_DEPTH} levels deep; refusing to read them`,
        location
      })
    }
    if (isAlias(node)) {
      this.aliases += 1
      if (this.aliases > MAX_ALIAS_EXPANSIONS) {
        throw new BudgetExceeded({
          code: 'yaml-alias-bomb',
          message: `more than ${MAX_ALIAS_EXPANSIONS} alias references (*${node.source}) to expand; refusing a possible alias bomb`,
          location
        })
      }
      const target = node.resolve(this.document)
      if (!target) {
        this.issue(
          'yaml-syntax',
          `alias *${node.source} names no anchor; a value that starts with \`*\` (a glob) must be quoted: '*${node.source}'`,
          location
        )
        return null
      }
      return this.read(target, path, depth + 1)
    }
    const pointer = toPointer(path)
    const position = this.parsed.positions.get(pointer)
    this.parsed.positions.set(pointer, { ...position, value: location })
    if (isScalar(node)) {
      const value = node.value
      if (typeof value === 'string' || typeof value === 'boolean' || value === null) {
        this.recordSource(pointer, node)
        return value
      }
      if (typeof value === 'number' && Number.isFinite(value)) {
        this.recordSource(pointer, node)
        return value
      }
      this.issue(
        'yaml-value',
        `expected text, a number, true/false or null; found ${describeScalar(value)}`,
        location
      )
      return null
    }
    if (isSeq(node)) {
      return node.items.map((item, index) =>
        this.read(item as Node | null, [...path, index], depth + 1)
      )
    }
    if (isMap(node)) {
      const data: Record<string, unknown> = {}
      const keyLines = new Map<string, SourceLocation>()
      this.applyMergeKeys(node, path, depth, data)
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null
        if (isMergeKey(keyNode)) continue
        const keyLocation = keyNode ? this.locationOf(keyNode) : location
        const key = isScalar(keyNode) ? (keyNode.source ?? String(keyNode.value)) : undefined
        if (key === undefined || !isScalar(keyNode) || keyNode.value === null) {
          this.issue(
            'yaml-key',
            'expected a plain key (text); found a complex or empty key',
            keyLocation
          )
          continue
        }
        const first = keyLines.get(key)
        if (first) {
          this.issue(
            'duplicate-key',
            `duplicate key \`${key}\`; it was already set at line ${first.line}`,
            keyLocation
          )
          continue
        }
        keyLines.set(key, keyLocation)
        const childPointer = toPointer([...path, key])
        this.parsed.positions.set(childPointer, { key: keyLocation, value: keyLocation })
        const value = this.read(pair.value as Node | null, [...path, key], depth + 1)
        // defineProperty: a key named `__proto__` stays a plain key.
        Object.defineProperty(data, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true
        })
      }
      return data
    }
    this.issue('yaml-value', 'expected a mapping, a list or a scalar', location)
    return null
  }

  /**
   * YAML merge keys (`<<: *base`, `<<: [*a, *b]`), as the Python-era verifier's
   * YAML reader applied them (YAML 1.1's merge type): the keys of each merged
   * mapping are copied into `data` first — an earlier source wins over a later
   * one — and the mapping's own keys then override them. Merged values keep the
   * positions where they were written (in the anchored mapping), so an error in
   * one points into the file; aliases count against the alias budget.
   */
  private applyMergeKeys(
    node: { items: { key: unknown; value: unknown }[] },
    path: (string | number)[],
    depth: number,
    data: Record<string, unknown>
  ): void {
    const pointer = toPointer(path)
    const own = this.parsed.positions.get(pointer)
    for (const pair of node.items) {
      if (!isMergeKey(pair.key as Node | null)) continue
      const value = pair.value as Node | null
      const sources = isSeq(value) ? (value.items as (Node | null)[]) : [value]
      for (const source of sources) {
        const target = isAlias(source) ? source.resolve(this.document) : source
        if (!isMap(target)) {
          const at = source ? this.locationOf(source) : this.locationOf(pair.key as Node)
          this.issue(
            'yaml-merge',
            'a merge key (`<<`) takes a mapping, an alias of one, or a list of them',
            at
          )
          continue
        }
        const merged = this.read(source, path, depth + 1)
        if (typeof merged !== 'object' || merged === null || Array.isArray(merged)) continue
        for (const [key, item] of Object.entries(merged as Record<string, unknown>)) {
          if (Object.prototype.hasOwnProperty.call(data, key)) continue
          Object.defineProperty(data, key, {
            value: item,
            enumerable: true,
            writable: true,
            configurable: true
          })
        }
      }
    }
    // Reading a source recorded its position under this path: the mapping's own stays.
    if (own) this.parsed.positions.set(pointer, own)
  }

  private recordSource(pointer: string, node: { source?: string }): void {
    const position = this.parsed.positions.get(pointer)
    if (position && typeof node.source === 'string') position.source = node.source
  }

  private locationOf(node: Node): SourceLocation {
    return this.at(node.range?.[0] ?? 0)
  }

  private issue(code: string, message: string, location: SourceLocation): void {
    this.parsed.issues.push({ code, message, location })
  }
}

/** A plain (unquoted) `<<` key: YAML's merge key. */
function isMergeKey(key: Node | null): boolean {
  return isScalar(key) && key.value === '<<' && key.type === 'PLAIN'
}

function describeScalar(value: unknown): string {
  if (value instanceof Uint8Array) return 'binary data'
  if (typeof value === 'number') return `the number ${value}`
  if (typeof value === 'bigint') return 'an integer too large to read exactly'
  if (value instanceof Date) return 'a timestamp object'
  return `a value of type ${typeof value}`
}
