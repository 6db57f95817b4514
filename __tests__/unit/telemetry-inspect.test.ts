import { describe, expect, it } from '@jest/globals'
import { inspectDocument, renderInspectJson, renderInspectTable } from '../../src/render/inspect.js'
import { buildReport, serialiseReport } from '../../src/render/report.js'
import { annotateTelemetrySummary } from '../../src/render/telemetry.js'
import {
  CURRENT,
  KEY_SIGNER,
  KEYLESS_SIGNER,
  makeImage,
  makeRun,
  VERIFIED_BY_KEY,
  VERIFIED_KEYLESS
} from '../helpers/run-fixtures.js'

const META = {
  actionVersion: '4.0.0',
  policyPath: 'ci/rocm_policy.yml',
  matrixPath: 'ci/rocm_matrix.yml'
}

const report = buildReport(
  makeRun([
    makeImage(
      { policy: { requireSignature: true }, signer: KEYLESS_SIGNER, signature: VERIFIED_KEYLESS },
      0
    ),
    makeImage(
      {
        signer: KEY_SIGNER,
        signature: { outcome: 'invalid', expected: 'ci/provenance_keys/rocm.pub' }
      },
      1
    ),
    makeImage({ digest: { status: 'drift', currentDigest: CURRENT } }, 2)
  ]),
  META
)

const TELEMETRY = `{
    "runtimeSeconds": 812.5,
    "trustStatus": "valid",
    "gpu": { "arch": "gfx942", "count": 8 },
    "kernels": [1, 2, 3],
    "digestAlgorithm": "sha1",
    "notes": null
}
`

describe('annotateTelemetrySummary', () => {
  const annotated = annotateTelemetrySummary(TELEMETRY, report)
  const parsed = JSON.parse(annotated)

  it('sets the five camelCase fields from the report', () => {
    expect(parsed).toMatchObject({
      trustStatus: 'invalid',
      provenanceIssuer: 'https://token.actions.githubusercontent.com',
      provenanceTimestamp: report.timestamp,
      digestAlgorithm: 'sha256',
      policyDecision: 'mode=strict|require_sig=mixed|attest=none|status=2'
    })
  })

  it('keeps every other field, its value and its place, and the indentation', () => {
    expect(Object.keys(parsed)).toEqual([
      'runtimeSeconds',
      'trustStatus',
      'gpu',
      'kernels',
      'digestAlgorithm',
      'notes',
      'provenanceIssuer',
      'provenanceTimestamp',
      'policyDecision',
      'containerProvenance'
    ])
    expect(parsed).toMatchObject({
      runtimeSeconds: 812.5,
      gpu: { arch: 'gfx942', count: 8 },
      kernels: [1, 2, 3],
      notes: null
    })
    expect(annotated.startsWith('{\n    "runtimeSeconds": 812.5,\n')).toBe(true)
    expect(annotated.endsWith('}\n')).toBe(true)
  })

  it('adds a containerProvenance block with one entry per image', () => {
    expect(parsed.containerProvenance).toMatchObject({
      schemaVersion: '1.1.0',
      trustStatus: 'invalid',
      exitCode: 2,
      decision: 'fail'
    })
    expect(parsed.containerProvenance.images).toHaveLength(3)
    expect(parsed.containerProvenance.images[0]).toMatchObject({
      reference: 'ghcr.io/rocm/dev:6.4.0-ubuntu-22.04',
      trustStatus: 'valid',
      code: 0,
      rekorLogIndex: 123456789
    })
  })

  it('keeps one-line JSON on one line', () => {
    const oneLine = annotateTelemetrySummary('{"a":1,"trustStatus":"x"}', report)
    expect(oneLine.split('\n')).toHaveLength(1)
    expect(Object.keys(JSON.parse(oneLine)).slice(0, 2)).toEqual(['a', 'trustStatus'])
  })

  it('refuses a summary that is not a JSON object', () => {
    expect(() => annotateTelemetrySummary('[1,2]', report)).toThrow(
      expect.objectContaining({ code: 'TELEMETRY_INVALID' })
    )
    expect(() => annotateTelemetrySummary('{"a":', report)).toThrow(
      expect.objectContaining({ code: 'TELEMETRY_INVALID' })
    )
  })

  it('refuses a provenance document that is not a report', () => {
    const notAReport = JSON.parse('{"trustStatus":"valid"}')
    expect(() => annotateTelemetrySummary('{}', notAReport)).toThrow(
      expect.objectContaining({
        code: 'TELEMETRY_INVALID',
        message: expect.stringContaining('not a rocm_provenance.json')
      })
    )
  })
})

describe('inspectDocument', () => {
  it('round-trips: annotate a telemetry summary, then inspect it, and the report itself, to the same rows', () => {
    const fromTelemetry = inspectDocument(annotateTelemetrySummary(TELEMETRY, report))
    const fromReport = inspectDocument(serialiseReport(report))
    expect(fromTelemetry.source).toBe('telemetry')
    expect(fromReport.source).toBe('report')
    expect(fromTelemetry.rows).toEqual(fromReport.rows)
    expect(fromReport.rows.map(row => [row.reference, row.trustStatus, row.code])).toEqual([
      ['ghcr.io/rocm/dev:6.4.0-ubuntu-22.04', 'valid', 0],
      ['ghcr.io/rocm/dev:6.4.1-ubuntu-22.04', 'invalid', 1],
      ['ghcr.io/rocm/dev:6.4.2-ubuntu-22.04', 'unsigned', 2]
    ])
    expect(fromReport.rows[0].signer).toBe(VERIFIED_KEYLESS.identity)
    expect(fromReport.rows[1].signer).toBeUndefined()
    expect(fromTelemetry).toMatchObject({ trustStatus: 'invalid', exitCode: 3 })
  })

  it.each([
    [['valid'], 0],
    [['valid', 'unsigned'], 0],
    [['valid', 'unknown'], 1],
    [['unknown', 'expired'], 3],
    [['unsigned', 'invalid'], 3],
    [[], 1]
  ] as const)('trust %j gives exit %i', (statuses, exitCode) => {
    const document = {
      schemaVersion: '1.1.0',
      images: statuses.map((trustStatus, i) => ({ reference: `r${i}`, trustStatus }))
    }
    expect(inspectDocument(JSON.stringify(document)).exitCode).toBe(exitCode)
  })

  it('reads an older telemetry summary with only the aggregate fields as one row', () => {
    const result = inspectDocument(
      JSON.stringify({
        trustStatus: 'expired',
        policyDecision: 'mode=strict|require_sig=true|attest=none|status=3'
      })
    )
    expect(result.rows).toEqual([
      {
        reference: '(all images)',
        trustStatus: 'expired',
        policyDecision: 'mode=strict|require_sig=true|attest=none|status=3'
      }
    ])
    expect(result.exitCode).toBe(3)
  })

  it('treats a trust status it does not know as unknown', () => {
    expect(inspectDocument(JSON.stringify({ trustStatus: 'trusted' })).rows[0].trustStatus).toBe(
      'unknown'
    )
  })

  it('refuses documents it cannot read', () => {
    expect(() => inspectDocument('not json')).toThrow(
      expect.objectContaining({ code: 'INSPECT_UNREADABLE' })
    )
    expect(() => inspectDocument('{"runtimeSeconds": 3}')).toThrow(
      expect.objectContaining({ code: 'INSPECT_UNREADABLE' })
    )
  })
})

describe('rendering inspect results', () => {
  const result = inspectDocument(serialiseReport(report))

  it('prints an aligned table with one line per image', () => {
    const lines = renderInspectTable(result.rows).trimEnd().split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toMatch(/^TRUST\s+CODE\s+IMAGE\s+DIGEST\s+SIGNER\s+LOG INDEX$/)
    const column = lines[0].indexOf('IMAGE')
    for (const line of lines.slice(1)) expect(line.indexOf('ghcr.io')).toBe(column)
    expect(lines[1]).toContain('123456789')
    expect(lines[2].startsWith('invalid')).toBe(true)
    expect(renderInspectTable([])).toContain('(no images)')
  })

  it('prints JSON for machines with the rows, trust status and exit code', () => {
    expect(JSON.parse(renderInspectJson(result))).toEqual({
      source: 'report',
      rows: result.rows,
      trustStatus: 'invalid',
      exitCode: 3
    })
  })
})

describe('inspect against a run with a verified key signature', () => {
  it('shows the key fingerprint as the signer', () => {
    const keyed = buildReport(
      makeRun([makeImage({ signer: KEY_SIGNER, signature: VERIFIED_BY_KEY })]),
      META
    )
    expect(inspectDocument(serialiseReport(keyed)).rows[0]).toMatchObject({
      signer: `sha256:${'c'.repeat(64)}`,
      trustStatus: 'valid'
    })
  })
})
