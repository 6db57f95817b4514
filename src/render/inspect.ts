/**
 * `rocm-provenance inspect <file>`: reads a provenance report or an annotated
 * telemetry summary and says, per image, what its trust status is. Pure.
 *
 * Exit code, from the worst trust status of the rows, so a script can gate on it:
 *
 * | trust      | exit | why                                                           |
 * |------------|------|---------------------------------------------------------------|
 * | valid      | 0    | signature verified                                            |
 * | unsigned   | 0    | no signature, and the policy accepted that (it is recorded)   |
 * | unknown    | 1    | trust could not be established: not proven bad, not good      |
 * | expired    | 3    | proven bad                                                    |
 * | invalid    | 3    | proven bad                                                    |
 *
 * A document with no image rows and only an aggregate `trustStatus` gives one
 * row for the aggregate; one with neither is unknown (exit 1). Scripts that
 * must also refuse `unsigned` read `--json`.
 */
import { worseTrust } from '../domain/decide.js'
import { ProvenanceError } from '../domain/errors.js'
import { describeSigner } from '../domain/signers.js'
import type { ExitCode, TrustStatus } from '../domain/types.js'

interface InspectRow {
  reference: string
  trustStatus: TrustStatus
  digest?: string
  code?: number
  signer?: string
  rekorLogIndex?: number
  policyDecision?: string
}

interface InspectResult {
  /** `report` for rocm_provenance.json, `telemetry` for an annotated telemetry summary. */
  source: 'report' | 'telemetry'
  rows: InspectRow[]
  trustStatus: TrustStatus
  exitCode: ExitCode
}

const TRUST_EXIT: Record<TrustStatus, ExitCode> = {
  valid: 0,
  unsigned: 0,
  unknown: 1,
  expired: 3,
  invalid: 3
}
const TRUST_VALUES = new Set<string>(Object.keys(TRUST_EXIT))
const AGGREGATE = '(all images)'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined
}

/** A trust status as written, or `unknown` for anything unrecognised. */
function trustOf(value: unknown): TrustStatus {
  return typeof value === 'string' && TRUST_VALUES.has(value) ? (value as TrustStatus) : 'unknown'
}

function reportRow(image: Json): InspectRow {
  const signature = isObject(image.signature) ? image.signature : {}
  return compactRow({
    reference: text(image.reference) ?? '(unnamed)',
    trustStatus: trustOf(image.trustStatus),
    digest: text(image.pinnedDigest),
    code: num(image.code),
    // Who signed: only a verified signature has a signer.
    signer:
      signature.status === 'verified'
        ? describeSigner(
            {
              identity: text(signature.identity),
              keyFingerprint: text(signature.keyFingerprint),
              expected: text(signature.expected)
            },
            { bareKey: true }
          )
        : undefined,
    rekorLogIndex: num(signature.rekorLogIndex),
    policyDecision: text(image.policyDecision)
  })
}

function telemetryRow(image: Json): InspectRow {
  return compactRow({
    reference: text(image.reference) ?? '(unnamed)',
    trustStatus: trustOf(image.trustStatus),
    digest: text(image.pinnedDigest),
    code: num(image.code),
    signer: text(image.signer),
    rekorLogIndex: num(image.rekorLogIndex),
    policyDecision: text(image.policyDecision)
  })
}

function compactRow(row: InspectRow): InspectRow {
  return Object.fromEntries(
    Object.entries(row).filter(([, v]) => v !== undefined)
  ) as unknown as InspectRow
}

function aggregateRows(document: Json): InspectRow[] {
  if (document.trustStatus === undefined) return []
  return [
    compactRow({
      reference: AGGREGATE,
      trustStatus: trustOf(document.trustStatus),
      policyDecision: text(document.policyDecision)
    })
  ]
}

export function inspectDocument(documentText: string): InspectResult {
  let document: unknown
  try {
    document = JSON.parse(documentText)
  } catch (error: unknown) {
    throw new ProvenanceError('INSPECT_UNREADABLE', 'not a JSON document', { cause: error })
  }
  if (!isObject(document)) {
    throw new ProvenanceError(
      'INSPECT_UNREADABLE',
      'not a provenance report or telemetry summary (not a JSON object)'
    )
  }
  let source: InspectResult['source']
  let rows: InspectRow[]
  if (typeof document.schemaVersion === 'string' && Array.isArray(document.images)) {
    source = 'report'
    rows = document.images.filter(isObject).map(reportRow)
  } else if (
    isObject(document.containerProvenance) &&
    Array.isArray(document.containerProvenance.images)
  ) {
    source = 'telemetry'
    rows = document.containerProvenance.images.filter(isObject).map(telemetryRow)
  } else if (document.trustStatus !== undefined) {
    source = 'telemetry'
    rows = []
  } else {
    throw new ProvenanceError(
      'INSPECT_UNREADABLE',
      'not a provenance report or telemetry summary: no schemaVersion and images, containerProvenance or trustStatus'
    )
  }
  if (rows.length === 0) rows = aggregateRows(document)
  const trustStatus =
    rows.length === 0 ? 'unknown' : rows.map(row => row.trustStatus).reduce(worseTrust)
  return { source, rows, trustStatus, exitCode: TRUST_EXIT[trustStatus] }
}

/** Flattens text from the document so it cannot break the table or send terminal controls. */
function plain(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

export function renderInspectTable(rows: InspectRow[]): string {
  const header = ['TRUST', 'CODE', 'IMAGE', 'DIGEST', 'SIGNER', 'LOG INDEX']
  const body = rows.map(row =>
    [
      row.trustStatus,
      row.code !== undefined ? String(row.code) : '-',
      row.reference,
      row.digest ?? '-',
      row.signer ?? '-',
      row.rekorLogIndex !== undefined ? String(row.rekorLogIndex) : '-'
    ].map(plain)
  )
  const table = [header, ...body]
  const widths = header.map((_, column) => Math.max(...table.map(cells => cells[column].length)))
  const lines = table.map(cells =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd()
  )
  if (rows.length === 0) lines.push('(no images)')
  return `${lines.join('\n')}\n`
}

/** The `--json` rendering: the rows, the worst trust status and the exit code. */
export function renderInspectJson(result: InspectResult): string {
  return `${JSON.stringify(result, null, 2)}\n`
}
