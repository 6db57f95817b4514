/**
 * Merges the provenance into Clamp's telemetry summary
 * (`build/telemetry_summary.json`): the five camelCase fields its aggregator
 * copies, plus a `containerProvenance` object with the per-image detail that
 * `inspect` reads back. Every other field keeps its value and its place; the
 * document keeps its indentation. Pure.
 */
import { ProvenanceError } from '../domain/errors.js'
import { describeSigner } from '../domain/signers.js'
import type { ProvenanceReport } from './report.js'
import type { TrustStatus } from '../domain/types.js'

interface ContainerProvenanceImage {
  reference: string
  pinnedDigest?: string
  currentDigest?: string
  trustStatus: TrustStatus
  code: number
  policyDecision: string
  signer?: string
  rekorLogIndex?: number
}

interface ContainerProvenance {
  schemaVersion: string
  trustStatus: TrustStatus
  exitCode: number
  decision: string
  timestamp: string
  images: ContainerProvenanceImage[]
}

/** The `containerProvenance` block for a report. */
export function containerProvenance(report: ProvenanceReport): ContainerProvenance {
  return {
    schemaVersion: report.schemaVersion,
    trustStatus: report.trustStatus,
    exitCode: report.exitCode,
    decision: report.decision,
    timestamp: report.timestamp,
    images: report.images.map(image => {
      // Who signed: only a verified signature has a signer.
      const signature = image.signature
      const signer =
        signature.status === 'verified' ? describeSigner(signature, { bareKey: true }) : undefined
      const entry: ContainerProvenanceImage = {
        reference: image.reference,
        trustStatus: image.trustStatus,
        code: image.code,
        policyDecision: image.policyDecision
      }
      if (image.pinnedDigest) entry.pinnedDigest = image.pinnedDigest
      if (image.currentDigest) entry.currentDigest = image.currentDigest
      if (signer) entry.signer = signer
      if (image.signature.rekorLogIndex !== undefined)
        entry.rekorLogIndex = image.signature.rekorLogIndex
      return entry
    })
  }
}

/** Largest telemetry summary merged (a run's summary is a few KiB). */
export const MAX_TELEMETRY_BYTES = 16 * 1024 * 1024

/** The indentation the document was written with: the first indented line's, or none for one-line JSON. */
function indentationOf(text: string): string | number {
  const match = /\n([ \t]+)\S/.exec(text)
  return match ? match[1] : 0
}

/** Whether a parsed document has the shape of a `rocm_provenance.json` report (trust status, images). */
export function isProvenanceReport(value: unknown): value is ProvenanceReport {
  const report = value as Partial<ProvenanceReport> | null | undefined
  return typeof report?.trustStatus === 'string' && Array.isArray(report.images)
}

export function annotateTelemetrySummary(summaryText: string, report: ProvenanceReport): string {
  // The report may come straight from JSON.parse (the `annotate` command): check its shape.
  if (!isProvenanceReport(report)) {
    throw new ProvenanceError(
      'TELEMETRY_INVALID',
      'the provenance document is not a rocm_provenance.json report'
    )
  }
  let summary: unknown
  try {
    summary = JSON.parse(summaryText)
  } catch (error: unknown) {
    throw new ProvenanceError('TELEMETRY_INVALID', 'the telemetry summary is not valid JSON', {
      cause: error
    })
  }
  if (summary === null || typeof summary !== 'object' || Array.isArray(summary)) {
    throw new ProvenanceError('TELEMETRY_INVALID', 'the telemetry summary is not a JSON object')
  }
  // Assigning an existing key keeps its position; new keys go at the end.
  const annotated: Record<string, unknown> = Object.assign(summary, {
    trustStatus: report.trustStatus,
    provenanceIssuer: report.issuer,
    provenanceTimestamp: report.timestamp,
    digestAlgorithm: report.digestAlgorithm,
    policyDecision: report.policyDecision,
    containerProvenance: containerProvenance(report)
  })
  const newline = summaryText.endsWith('\n') ? '\n' : ''
  return `${JSON.stringify(annotated, null, indentationOf(summaryText))}${newline}`
}
