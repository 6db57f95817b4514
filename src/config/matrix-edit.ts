/**
 * In-place edits of `ci/rocm_matrix.yml`, pure: replace a row's digest and
 * `added`, set its `provenance` fields, append new rows — and leave every other
 * byte as it was (comments, key order, quoting, blank lines, untouched rows).
 *
 * How: the text is parsed with `yaml`'s Document API only to find where each
 * node sits (`node.range`); the edits are text splices at those offsets, each
 * value rendered in the quoting style its neighbour already uses. The result
 * is parsed again and read back before it is returned. Only the `rocm.images`
 * row form is written; the OS-keyed map form is refused.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  stringify,
  type Document,
  type Node,
  type Pair,
  type Scalar,
  type YAMLMap,
  type YAMLSeq
} from 'yaml'
import { ProvenanceError, type MatrixEditErrorCode } from '../domain/errors.js'
import type { Digest } from '../domain/types.js'

export class MatrixEditError extends ProvenanceError<MatrixEditErrorCode> {
  constructor(code: MatrixEditErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'MatrixEditError'
  }
}

export type MatrixValue = string | number

/**
 * Provenance keys that only record what the updater observed (the signer's
 * identity and issuer, the Rekor entry, the attestation). They are refreshed
 * together: one the new observation lacks is removed, so no stale evidence of
 * an earlier digest stays behind. `key_fingerprint` is recorded too, but it is
 * also an expectation a user may write, so it is only ever set, never removed.
 */
const OBSERVATION_KEYS = [
  'signer_identity',
  'signer_issuer',
  'rekor_log_index',
  'attestation_digest'
] as const

/** A new pin for an existing row. */
export interface RowUpdate {
  /** 0-based position in `rocm.images`. */
  index: number
  /** The row's version and OS, checked before anything is written. */
  version: string
  os: string
  digest: Digest
  /** YYYY-MM-DD */
  added: string
  /** Provenance keys to set, as written in the file (snake_case); others are kept. */
  provenance: Record<string, MatrixValue>
}

/** A new row, laid out like an existing one. */
export interface RowAppend {
  /**
   * The row whose key order, quoting, `repository`, templated `tag` and signer
   * keys the new row copies (a literal `tag` or `image` is not copied).
   */
  templateIndex: number
  version: string
  os: string
  digest: Digest
  added: string
  provenance: Record<string, MatrixValue>
}

interface MatrixEdits {
  update: RowUpdate[]
  append: RowAppend[]
}

type ScalarStyle = 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE'

interface Splice {
  start: number
  end: number
  text: string
}

/** A pair to write: a scalar already rendered, or a nested map. */
type NewPair = { key: string; value: string } | { key: string; pairs: NewPair[] }

interface MatrixLayout {
  text: string
  file: string
  images: YAMLSeq
  /** Spaces one nesting level adds, as the file writes it. */
  indentStep: number
}

const DEFAULT_INDENT_STEP = 2

/** Throws the refusal (or a layout error) unless `text` is a matrix the editor can write. */
export function assertWritableMatrix(text: string, file: string): void {
  readLayout(text, file)
}

/**
 * Applies `edits` to the matrix text; every byte outside the edited values is
 * kept, line endings included: a file whose every line ends in CRLF is edited
 * as LF text and every line written gets CRLF back (a file mixing both is
 * written with LF in the lines added).
 */
export function editMatrix(text: string, edits: MatrixEdits, file: string): string {
  if (edits.update.length === 0 && edits.append.length === 0) return text
  if (usesCrlf(text))
    return editMatrixLf(text.replace(/\r\n/g, '\n'), edits, file).replace(/\n/g, '\r\n')
  return editMatrixLf(text, edits, file)
}

/** Whether the text has line breaks and every one of them is CRLF. */
function usesCrlf(text: string): boolean {
  return text.includes('\r\n') && !/(^|[^\r])\n/.test(text)
}

function editMatrixLf(text: string, given: MatrixEdits, file: string): string {
  const layout = readLayout(text, file)
  const edits = withoutSharedEvidence(layout, given)
  const splices: Splice[] = []
  for (const update of edits.update) splices.push(...updateRow(layout, update))
  if (edits.append.length > 0) splices.push(appendRows(layout, edits.append))
  const edited = applySplices(text, splices)
  checkEdited(edited, file, layout.images.items.length, edits)
  return edited
}

/**
 * A `provenance` written once and shared by several rows (`provenance: *signer`,
 * or an anchored `&signer` map others alias) names who signs; it is never
 * given one digest's evidence, which would become every sharing row's. Such
 * rows keep their `provenance` as written: their digest and `added` change,
 * their observed evidence is not recorded. A new row copies the alias.
 */
function isSharedProvenance(node: unknown): boolean {
  return isAlias(node) || (isMap(node) && node.anchor !== undefined)
}

function withoutSharedEvidence(layout: MatrixLayout, edits: MatrixEdits): MatrixEdits {
  const shared = (index: number): boolean => {
    const row = layout.images.items[index]
    return isMap(row) && isSharedProvenance(findPair(row, 'provenance')?.value)
  }
  return {
    update: edits.update.map(u => (shared(u.index) ? { ...u, provenance: {} } : u)),
    append: edits.append.map(a => (shared(a.templateIndex) ? { ...a, provenance: {} } : a))
  }
}

// ---------------------------------------------------------------- layout ---

function readLayout(text: string, file: string): MatrixLayout {
  const document = parseDocument(text)
  if (document.errors.length > 0) {
    throw new MatrixEditError(
      'MATRIX_LAYOUT',
      `${file} is not valid YAML: ${document.errors[0].message}`,
      { cause: document.errors[0] }
    )
  }
  const images = document.getIn(['rocm', 'images'], true)
  if (isSeq(images)) {
    return { text, file, images, indentStep: detectIndentStep(document, text) }
  }
  if (looksLikeOsMap(document)) {
    throw new MatrixEditError(
      'MATRIX_READ_ONLY_FORM',
      `${file} uses the OS-keyed map form (image/sha256/timestamp per OS), which is read but ` +
        'not written: move it to the `rocm.images` row form to let the updater edit it'
    )
  }
  throw new MatrixEditError('MATRIX_LAYOUT', `${file} has no \`rocm.images\` list to update`)
}

/** An OS-keyed map: a map (top level or under `rocm`) whose values carry `image`/`sha256`. */
function looksLikeOsMap(document: Document): boolean {
  const candidates = [document.contents, document.getIn(['rocm'], true)]
  return candidates.some(
    map =>
      isMap(map) &&
      map.items.some(
        pair => isMap(pair.value) && (pair.value.has('sha256') || pair.value.has('image'))
      )
  )
}

function detectIndentStep(document: Document, text: string): number {
  const rocm = document.contents
  if (isMap(rocm)) {
    const rocmPair = rocm.items.find(pair => keyText(pair) === 'rocm')
    const inner = rocmPair?.value
    if (rocmPair && isMap(inner) && !inner.flow && inner.items.length > 0) {
      const step =
        column(text, nodeStart(inner.items[0].key)) - column(text, nodeStart(rocmPair.key))
      if (step > 0) return step
    }
  }
  return DEFAULT_INDENT_STEP
}

function rowAt(layout: MatrixLayout, index: number): YAMLMap {
  const row = layout.images.items[index]
  if (!isMap(row)) {
    throw new MatrixEditError(
      'MATRIX_LAYOUT',
      `${layout.file}: rocm.images[${index}] is not a map of version/os/digest`
    )
  }
  // A row that takes keys through a YAML merge key, or lends them through an
  // anchor, cannot be edited in place without changing what other rows read.
  const merges = row.items.some(pair => isScalar(pair.key) && pair.key.value === '<<')
  if (merges || row.anchor !== undefined) {
    throw new MatrixEditError(
      'MATRIX_LAYOUT',
      `${layout.file}:${lineOf(layout.text, nodeStart(row))}: rocm.images[${index}] ${merges ? 'takes keys through a YAML merge key (`<<`)' : `is the anchor &${row.anchor} other rows merge`}; ` +
        'the updater edits only rows that hold their own keys: write this row out in full to let it be updated'
    )
  }
  return row
}

// ---------------------------------------------------------------- update ---

function updateRow(layout: MatrixLayout, update: RowUpdate): Splice[] {
  const row = rowAt(layout, update.index)
  const { text } = layout
  const version = scalarText(row.get('version', true), text)
  const os = scalarText(row.get('os', true), text)
  if (version !== update.version || os !== update.os) {
    throw new MatrixEditError(
      'MATRIX_ROW_MISMATCH',
      `${layout.file}: rocm.images[${update.index}] is ${version ?? '?'} on ${os ?? '?'}, ` +
        `not ${update.version} on ${update.os}`
    )
  }
  const splices: Splice[] = []
  const rowStyle = styleOf(row.get('digest', true)) ?? styleOf(row.get('version', true))
  const inserts: NewPair[] = []

  const digestPair = findPair(row, 'digest') ?? findPair(row, 'sha256')
  if (digestPair) {
    const bare = keyText(digestPair) === 'sha256'
    splices.push(replaceValue(digestPair, bare ? update.digest.slice(7) : update.digest, text))
  } else {
    inserts.push({ key: 'digest', value: renderScalar(update.digest, rowStyle) })
  }
  const addedPair = findPair(row, 'added')
  if (addedPair) {
    splices.push(replaceValue(addedPair, update.added, text))
  } else if (digestPair && !row.flow) {
    // Next to the digest it dates.
    const at = lineEnd(
      text,
      contentEnd((digestPair.value as Node | null) ?? (digestPair.key as Node))
    )
    const line = renderBlockPairs(
      [{ key: 'added', value: renderScalar(update.added, rowStyle) }],
      keyColumn(row, text),
      layout.indentStep
    )
    splices.push({
      start: at,
      end: at,
      text: (at === text.length && !text.endsWith('\n') ? '\n' : '') + line
    })
  } else {
    inserts.push({ key: 'added', value: renderScalar(update.added, rowStyle) })
  }

  const provenancePair = findPair(row, 'provenance')
  const provenance = provenancePair?.value
  if (provenancePair && isSharedProvenance(provenance)) {
    // Kept as written (withoutSharedEvidence left nothing to write).
  } else if (provenancePair && isMap(provenance)) {
    splices.push(...updateProvenance(layout, provenance, update.provenance, rowStyle))
  } else if (provenancePair && !isEmptyValue(provenancePair.value)) {
    throw new MatrixEditError(
      'MATRIX_LAYOUT',
      `${layout.file}: rocm.images[${update.index}].provenance is not a map`
    )
  } else if (Object.keys(update.provenance).length > 0) {
    const pairs = Object.entries(update.provenance).map(([key, value]) => ({
      key,
      value: renderScalar(value, rowStyle)
    }))
    if (provenancePair) {
      // `provenance:` written with no value: give it one in place.
      splices.push({
        start: nodeEnd(provenancePair.key),
        end: lineContentEnd(text, nodeEnd(provenancePair.key)),
        text: row.flow
          ? `: ${renderFlowMap(pairs)}`
          : ':\n' +
            renderBlockPairs(
              pairs,
              keyColumn(row, text) + layout.indentStep,
              layout.indentStep
            ).replace(/\n$/, '')
      })
    } else {
      inserts.push({ key: 'provenance', pairs })
    }
  }
  if (inserts.length > 0) splices.push(insertPairs(layout, row, inserts))
  return splices
}

function updateProvenance(
  layout: MatrixLayout,
  provenance: YAMLMap,
  values: Record<string, MatrixValue>,
  rowStyle: ScalarStyle | undefined
): Splice[] {
  const { text } = layout
  const splices: Splice[] = []
  const style = neighbourStyle(provenance) ?? rowStyle
  const inserts: NewPair[] = []
  for (const [key, value] of Object.entries(values)) {
    const pair = findPair(provenance, key)
    if (pair) {
      if (scalarText(pair.value, text) !== String(value))
        splices.push(replaceValue(pair, value, text))
    } else {
      inserts.push({ key, value: renderScalar(value, style) })
    }
  }
  const stale = provenance.items.filter(pair => {
    const key = keyText(pair)
    return key !== undefined && isObservationKey(key) && !(key in values)
  })
  if (!provenance.flow && (stale.length < provenance.items.length || inserts.length > 0)) {
    for (const pair of stale) {
      const removal = removeBlockPair(pair, text)
      if (removal) splices.push(removal)
    }
  }
  if (inserts.length > 0) splices.push(insertPairs(layout, provenance, inserts))
  return splices
}

function isObservationKey(key: string): boolean {
  return (OBSERVATION_KEYS as readonly string[]).includes(key)
}

// ---------------------------------------------------------------- append ---

function appendRows(layout: MatrixLayout, appends: RowAppend[]): Splice {
  const { text, images } = layout
  if (images.flow) {
    throw new MatrixEditError(
      'MATRIX_LAYOUT',
      `${layout.file}: rocm.images is a flow list ([...]); new rows are only appended to a block list`
    )
  }
  const rows = appends.map(append => renderNewRow(layout, append))
  const last = images.items[images.items.length - 1] as Node
  const at = lineEnd(text, contentEnd(last))
  const prefix = at === text.length && !text.endsWith('\n') ? '\n' : ''
  return { start: at, end: at, text: prefix + rows.join('') }
}

/** The new row's text, keys in the template row's order and in its quoting. */
function renderNewRow(layout: MatrixLayout, append: RowAppend): string {
  const { text } = layout
  const template = rowAt(layout, append.templateIndex)
  if (template.flow) {
    throw new MatrixEditError(
      'MATRIX_LAYOUT',
      `${layout.file}: rocm.images[${append.templateIndex}] is a flow map; new rows copy a block row`
    )
  }
  const rowStyle = styleOf(template.get('digest', true)) ?? styleOf(template.get('version', true))
  const pairs: NewPair[] = []
  const written = new Set<string>()
  const write = (key: string, pair: NewPair): void => {
    pairs.push(pair)
    written.add(key)
  }
  for (const pair of template.items) {
    const key = keyText(pair)
    if (key === undefined || written.has(key)) continue
    const style = styleOf(pair.value) ?? rowStyle
    if (key === 'version') write(key, { key, value: renderScalar(append.version, style) })
    else if (key === 'os') write(key, { key, value: renderScalar(append.os, style) })
    else if (key === 'digest') write(key, { key, value: renderScalar(append.digest, style) })
    else if (key === 'sha256')
      write(key, { key, value: renderScalar(append.digest.slice(7), style) })
    else if (key === 'added') write(key, { key, value: renderScalar(append.added, style, true) })
    else if (key === 'repository') write(key, { key, value: copyValue(pair, text) })
    // A tag written as a template (`{version}`) fits the new row too; a literal one does not.
    else if (key === 'tag' && scalarText(pair.value, text)?.includes('{version}')) {
      write(key, { key, value: copyValue(pair, text) })
    } else if (key === 'provenance' && isAlias(pair.value)) {
      write(key, { key, value: copyValue(pair, text) })
    } else if (key === 'provenance' && isMap(pair.value) && pair.value.anchor !== undefined) {
      write(key, { key, value: `*${pair.value.anchor}` })
    } else if (key === 'provenance' && isMap(pair.value)) {
      write(key, { key, pairs: newProvenance(pair.value, append.provenance, rowStyle, text) })
    }
  }
  if (!written.has('digest') && !written.has('sha256')) {
    write('digest', { key: 'digest', value: renderScalar(append.digest, rowStyle) })
  }
  if (!written.has('added')) {
    write('added', { key: 'added', value: renderScalar(append.added, rowStyle) })
  }
  if (!written.has('provenance') && Object.keys(append.provenance).length > 0) {
    const provenance = Object.entries(append.provenance).map(([key, value]) => ({
      key,
      value: renderScalar(value, rowStyle)
    }))
    write('provenance', { key: 'provenance', pairs: provenance })
  }

  const keyStart = nodeStart(template)
  const dash = text.lastIndexOf('-', keyStart - 1)
  const dashColumn = column(text, dash)
  const gap = text.slice(dash + 1, keyStart)
  const keyIndent = column(text, keyStart)
  const body = renderBlockPairs(pairs, keyIndent, layout.indentStep)
  if (/^ +$/.test(gap)) return ' '.repeat(dashColumn) + '-' + gap + body.slice(keyIndent)
  return ' '.repeat(dashColumn) + '-\n' + body
}

/** The template's signer keys (verbatim) with the observed values set over them. */
function newProvenance(
  template: YAMLMap,
  observed: Record<string, MatrixValue>,
  rowStyle: ScalarStyle | undefined,
  text: string
): NewPair[] {
  const style = neighbourStyle(template) ?? rowStyle
  const pairs: NewPair[] = []
  for (const pair of template.items) {
    const key = keyText(pair)
    if (key === undefined || isObservationKey(key)) continue
    if (key in observed)
      pairs.push({ key, value: renderScalar(observed[key], styleOf(pair.value) ?? style) })
    else pairs.push({ key, value: copyValue(pair, text) })
  }
  for (const [key, value] of Object.entries(observed)) {
    if (!pairs.some(pair => pair.key === key))
      pairs.push({ key, value: renderScalar(value, style) })
  }
  return pairs
}

/** A value's source text when it fits on one line, else the value re-rendered in flow style. */
function copyValue(pair: Pair, text: string): string {
  const node = pair.value as Node | null
  if (!node || !node.range) return '""'
  const source = text.slice(node.range[0], node.range[1]).trimEnd()
  if (!source.includes('\n')) return source
  return stringify(node.toJSON(), { collectionStyle: 'flow', lineWidth: 0 }).trimEnd()
}

// ------------------------------------------------------ splice primitives ---

function replaceValue(pair: Pair, value: MatrixValue, text: string): Splice {
  const node = pair.value as Node | null
  if (!node || !node.range || isEmptyValue(node)) {
    const at = nodeEnd(pair.key)
    return {
      start: at,
      end: lineContentEnd(text, at),
      text: `: ${renderScalar(value, undefined)}`
    }
  }
  const wasPlainDate = styleOf(node) === 'PLAIN' && DATE.test(scalarText(node, text) ?? '')
  return {
    start: node.range[0],
    end: node.range[1],
    text: renderScalar(value, styleOf(node), wasPlainDate)
  }
}

/** Inserts pairs at the end of a map, in its style (block lines or `, k: v` in a flow map). */
function insertPairs(layout: MatrixLayout, map: YAMLMap, pairs: NewPair[]): Splice {
  const { text } = layout
  if (map.flow) {
    const last = map.items[map.items.length - 1]
    const at = last
      ? contentEnd((last.value as Node | null) ?? (last.key as Node))
      : nodeStart(map) + 1
    const rendered = pairs.map(renderFlowPair).join(', ')
    return { start: at, end: at, text: last ? `, ${rendered}` : rendered }
  }
  const at = lineEnd(text, contentEnd(map))
  const prefix = at === text.length && !text.endsWith('\n') ? '\n' : ''
  return {
    start: at,
    end: at,
    text: prefix + renderBlockPairs(pairs, keyColumn(map, text), layout.indentStep)
  }
}

/** Removes a pair that occupies whole lines of a block map; undefined when it does not. */
function removeBlockPair(pair: Pair, text: string): Splice | undefined {
  const start = nodeStart(pair.key)
  const lineStart = text.lastIndexOf('\n', start - 1) + 1
  if (text.slice(lineStart, start).trim() !== '') return undefined
  const valueNode = (pair.value as Node | null) ?? (pair.key as Node)
  return { start: lineStart, end: lineEnd(text, contentEnd(valueNode)), text: '' }
}

function applySplices(text: string, splices: Splice[]): string {
  const ordered = splices
    .map((splice, order) => ({ splice, order }))
    .sort((a, b) => a.splice.start - b.splice.start || a.order - b.order)
    .map(({ splice }) => splice)
  let result = ''
  let cursor = 0
  for (const splice of ordered) {
    if (splice.start < cursor) {
      throw new MatrixEditError('MATRIX_EDIT_FAILED', 'internal: overlapping matrix edits')
    }
    result += text.slice(cursor, splice.start) + splice.text
    cursor = splice.end
  }
  return result + text.slice(cursor)
}

// ------------------------------------------------------------- rendering ---

function renderBlockPairs(pairs: NewPair[], indent: number, step: number): string {
  return pairs
    .map(pair =>
      'value' in pair
        ? `${' '.repeat(indent)}${pair.key}: ${pair.value}\n`
        : `${' '.repeat(indent)}${pair.key}:\n${renderBlockPairs(pair.pairs, indent + step, step)}`
    )
    .join('')
}

function renderFlowPair(pair: NewPair): string {
  return 'value' in pair
    ? `${pair.key}: ${pair.value}`
    : `${pair.key}: ${renderFlowMap(pair.pairs)}`
}

function renderFlowMap(pairs: NewPair[]): string {
  return `{${pairs.map(renderFlowPair).join(', ')}}`
}

/** A plain scalar that reads back as this same string in YAML 1.2 and 1.1 readers alike. */
const SAFE_PLAIN = /^[A-Za-z0-9_./$^][A-Za-z0-9_./$^:@+=~-]*$/
/** Plain words that YAML 1.1 readers (PyYAML) take for booleans, dates or sexagesimals. */
const YAML11_SPECIAL = /^(?:y|n|yes|no|on|off|\d{4}-\d{2}-\d{2}|[-+]?\d+(?::[0-5]?\d)+(?:\.\d*)?)$/i
const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * `value` in `style`: numbers plain; strings in the given quoting, or double
 * quotes when plain would change their meaning (and when no style is known).
 * An existing plain date stays plain (`keepPlainDate`), as the user wrote it.
 */
function renderScalar(
  value: MatrixValue,
  style: ScalarStyle | undefined,
  keepPlainDate = false
): string {
  if (typeof value === 'number') return String(value)
  if (style === 'QUOTE_SINGLE' && !/\p{Cc}/u.test(value)) {
    return `'${value.replace(/'/g, "''")}'`
  }
  if (style === 'PLAIN' && isSafePlain(value, keepPlainDate)) return value
  return JSON.stringify(value)
}

function isSafePlain(value: string, allowDate: boolean): boolean {
  if (!SAFE_PLAIN.test(value) || value.endsWith(':')) return false
  if (YAML11_SPECIAL.test(value) && !(allowDate && DATE.test(value))) return false
  const parsed: unknown = parseDocument(value).toJS()
  return parsed === value
}

// --------------------------------------------------------------- reading ---

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find(pair => keyText(pair) === key)
}

function keyText(pair: Pair): string | undefined {
  return isScalar(pair.key) ? String(pair.key.value) : undefined
}

/** A scalar's text as written (plain `6.10` stays `6.10`, not the number 6.1). */
function scalarText(node: unknown, text: string): string | undefined {
  if (!isScalar(node)) return undefined
  if (node.type === 'PLAIN' && node.range) return text.slice(node.range[0], node.range[1]).trim()
  return node.value === null || node.value === undefined ? undefined : String(node.value)
}

function styleOf(node: unknown): ScalarStyle | undefined {
  if (!isScalar(node)) return undefined
  const type = (node as Scalar).type
  return type === 'PLAIN' || type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE' ? type : undefined
}

/** The quoting of the first string value in a map. */
function neighbourStyle(map: YAMLMap): ScalarStyle | undefined {
  for (const pair of map.items) {
    if (isScalar(pair.value) && typeof pair.value.value === 'string') {
      const style = styleOf(pair.value)
      if (style) return style
    }
  }
  return undefined
}

function isEmptyValue(node: unknown): boolean {
  return (
    node === null ||
    node === undefined ||
    (isScalar(node) && node.value === null && node.type === 'PLAIN')
  )
}

function nodeStart(node: unknown): number {
  return (node as Node).range?.[0] ?? 0
}

function nodeEnd(node: unknown): number {
  return (node as Node).range?.[1] ?? 0
}

/** Offset just past the last character of a node's content (not its trailing comments). */
function contentEnd(node: Node): number {
  if ((isMap(node) || isSeq(node)) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1]
    if (isSeq(node)) return contentEnd(last as Node)
    const pair = last as Pair
    const value = pair.value as Node | null
    return value && value.range && !isEmptyValue(value) ? contentEnd(value) : nodeEnd(pair.key)
  }
  return nodeEnd(node)
}

/** The start of the line after the one `offset` is on (or the end of the text). */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', Math.max(0, offset - 1))
  return newline === -1 ? text.length : newline + 1
}

/** The end of a line's content before any comment or line break, from `offset`. */
function lineContentEnd(text: string, offset: number): number {
  const rest = text.slice(offset)
  const match = /^[^\n#]*?(?=\s*(?:#|\n|$))/.exec(rest)
  return offset + (match ? match[0].length : 0)
}

/** 1-based line of an offset. */
function lineOf(text: string, offset: number): number {
  let line = 1
  for (let at = text.indexOf('\n'); at !== -1 && at < offset; at = text.indexOf('\n', at + 1))
    line++
  return line
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

function keyColumn(map: YAMLMap, text: string): number {
  const first = map.items[0]
  return first ? column(text, nodeStart(first.key)) : column(text, nodeStart(map))
}

// ------------------------------------------------------------- read back ---

function checkEdited(edited: string, file: string, rowCount: number, edits: MatrixEdits): void {
  const document = parseDocument(edited)
  const images = document.getIn(['rocm', 'images'], true)
  const problem = (message: string): never => {
    throw new MatrixEditError('MATRIX_EDIT_FAILED', `${file}: edit did not read back: ${message}`)
  }
  if (document.errors.length > 0) problem(document.errors[0].message)
  if (!isSeq(images)) return problem('rocm.images is gone')
  if (images.items.length !== rowCount + edits.append.length) problem('row count changed')
  const expectRow = (index: number, row: RowUpdate | RowAppend): void => {
    const node = images.items[index]
    if (!isMap(node)) return problem(`rocm.images[${index}] is not a map`)
    const digest = scalarText(node.get('digest', true), edited)
    const bare = scalarText(node.get('sha256', true), edited)
    const checks: [string, string | undefined, string][] = [
      ['version', scalarText(node.get('version', true), edited), row.version],
      ['os', scalarText(node.get('os', true), edited), row.os],
      ['digest', digest ?? (bare ? `sha256:${bare}` : undefined), row.digest],
      ['added', scalarText(node.get('added', true), edited), row.added]
    ]
    const provenance = node.get('provenance', true)
    for (const [key, value] of Object.entries(row.provenance)) {
      const written = isMap(provenance) ? provenance.get(key, true) : undefined
      checks.push([`provenance.${key}`, scalarText(written, edited), String(value)])
    }
    for (const [key, actual, expected] of checks) {
      if (actual !== expected) problem(`rocm.images[${index}].${key} is ${actual}, not ${expected}`)
    }
  }
  for (const update of edits.update) expectRow(update.index, update)
  edits.append.forEach((append, k) => expectRow(rowCount + k, append))
}
