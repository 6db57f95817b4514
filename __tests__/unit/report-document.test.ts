import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  buildReport,
  serialiseReport,
  type ProvenanceReport,
  type ReportMetadata
} from '../../src/render/report.js'
import { writeReportFile } from '../../src/adapters/fs/report-file.js'
import { ProvenanceError } from '../../src/domain/errors.js'
import { PROVENANCE_SCHEMA as schema, reportSchemaErrors } from '../helpers/report-schema.js'
import {
  CURRENT,
  KEY_SIGNER,
  KEYLESS_SIGNER,
  makeImage,
  makeRun,
  VERIFIED_BY_KEY,
  VERIFIED_KEYLESS
} from '../helpers/run-fixtures.js'

const META: ReportMetadata = {
  actionVersion: '4.0.0',
  policyPath: 'ci/rocm_policy.yml',
  matrixPath: 'ci/rocm_matrix.yml',
  repository: 'example/rocm-app',
  runId: '42',
  runUrl: 'https://github.com/example/rocm-app/actions/runs/42'
}

function expectValid(report: ProvenanceReport): void {
  const document: unknown = JSON.parse(serialiseReport(report))
  expect(reportSchemaErrors(document)).toEqual([])
}

/** What Clamp's telemetry reader does: the first `"key": "value"` in the text. */
function naiveRead(text: string, key: string): string | undefined {
  return new RegExp(`"${key}"\\s*:\\s*"([^"]*)"`).exec(text)?.[1]
}

const mixedRun = makeRun([
  makeImage(
    { policy: { requireSignature: true }, signer: KEYLESS_SIGNER, signature: VERIFIED_KEYLESS },
    0
  ),
  makeImage(
    {
      policy: {
        requireSignature: true,
        attestMode: 'enforce',
        override: 'ghcr.io/*',
        sources: ['attest_mode=enforce (override "ghcr.io/*")']
      },
      signer: KEY_SIGNER,
      signature: VERIFIED_BY_KEY,
      attestation: {
        outcome: 'verified',
        digest: `sha256:${'d'.repeat(64)}`,
        subjectDigest: `sha256:${'a'.repeat(64)}`,
        builderId: 'https://github.com/actions/runner',
        count: 1
      }
    },
    1
  ),
  makeImage(
    { digest: { status: 'drift', currentDigest: CURRENT }, age: { ageDays: 30, stale: true } },
    2
  ),
  makeImage(
    { digest: { status: 'not-pinned', pinnedDigest: undefined, currentDigest: undefined } },
    3
  )
])

describe('buildReport', () => {
  it('produces a document the schema accepts, with every image field', () => {
    const report = buildReport(mixedRun, META)
    expectValid(report)
    expect(report).toMatchObject({
      schemaVersion: '1.1.0',
      trustStatus: 'unsigned',
      digestAlgorithm: 'sha256',
      timestamp: '2026-11-26T10:00:05.000Z',
      exitCode: 2,
      decision: 'fail',
      counts: { valid: 2, unsigned: 2, invalid: 0, expired: 0, unknown: 0 },
      run: {
        actionVersion: '4.0.0',
        cosignVersion: 'v3.1.1',
        runId: '42',
        startedAt: '2026-11-26T10:00:00.000Z'
      }
    })
    expect(report.issuer).toBe(
      `https://token.actions.githubusercontent.com, key sha256:${'c'.repeat(64)}`
    )
    expect(report.policyDecision).toBe('mode=strict|require_sig=mixed|attest=mixed|status=2')
    const [keyless, keyed, drifted, unpinned] = report.images
    expect(keyless.signature).toMatchObject({
      status: 'verified',
      rekorLogIndex: 123456789,
      signedAt: '2026-11-19T08:00:00Z'
    })
    expect(keyed.attestation).toMatchObject({
      mode: 'enforce',
      status: 'verified',
      builder: 'https://github.com/actions/runner'
    })
    expect(keyed.policy.override).toBe('ghcr.io/*')
    expect(drifted).toMatchObject({
      digestStatus: 'drift',
      currentDigest: CURRENT,
      ageDays: 30,
      ttlDays: 7,
      stale: true,
      code: 2
    })
    expect(drifted.row).toEqual({
      index: 2,
      version: '6.4.2',
      os: 'ubuntu-22.04',
      file: 'ci/rocm_matrix.yml',
      line: 15
    })
    expect(unpinned.pinnedDigest).toBeUndefined()
    expect(unpinned.decisionPath.length).toBeGreaterThan(3)
  })

  it('puts the telemetry keys first, so a first-occurrence reader gets the aggregates', () => {
    const report = buildReport(mixedRun, META)
    const text = serialiseReport(report)
    expect(Object.keys(report).slice(0, 6)).toEqual([
      'schemaVersion',
      'trustStatus',
      'issuer',
      'timestamp',
      'digestAlgorithm',
      'policyDecision'
    ])
    expect(naiveRead(text, 'trustStatus')).toBe(report.trustStatus)
    expect(naiveRead(text, 'issuer')).toBe(report.issuer)
    expect(naiveRead(text, 'timestamp')).toBe(report.timestamp)
    expect(naiveRead(text, 'digestAlgorithm')).toBe('sha256')
    expect(naiveRead(text, 'policyDecision')).toBe(report.policyDecision)
  })

  it('is complete and valid for a broken configuration with no images', () => {
    const run = makeRun([], {
      configIssues: [
        {
          code: 'unknown-key',
          message: 'unknown key "mdoe"',
          location: { file: 'ci/rocm_policy.yml', line: 2, column: 3 }
        },
        { code: 'yaml-syntax', message: 'the matrix is not YAML' }
      ]
    })
    const report = buildReport(
      { ...run, cosign: undefined },
      { actionVersion: '4.0.0', policyPath: 'p.yml', matrixPath: 'm.yml' }
    )
    expectValid(report)
    expect(report).toMatchObject({
      trustStatus: 'unknown',
      issuer: 'none',
      exitCode: 4,
      decision: 'fail',
      policyDecision: 'mode=unknown|require_sig=unknown|attest=unknown|status=4',
      images: []
    })
    expect(report.configIssues).toHaveLength(2)
    expect(report.run.cosignVersion).toBeUndefined()
  })

  it('is complete and valid when the registry went down mid-way', () => {
    const run = makeRun(
      [
        makeImage(
          { signer: KEY_SIGNER, policy: { requireSignature: true }, signature: VERIFIED_BY_KEY },
          0
        ),
        makeImage(
          {
            signer: KEY_SIGNER,
            policy: { requireSignature: true, attestMode: 'record' },
            digest: {
              status: 'unreachable',
              currentDigest: undefined,
              cause: 'GET /v2/: 503 Service Unavailable'
            },
            signature: { outcome: 'transient', attempts: 3, message: 'UNAVAILABLE' },
            attestation: { outcome: 'transient', attempts: 3 },
            errors: [
              'registry 127.0.0.1:5000: 503 Service Unavailable',
              'cosign: retries exhausted'
            ]
          },
          1
        )
      ],
      { errors: ['the matrix preference names a row that was not checked'] }
    )
    const report = buildReport(run, META)
    expectValid(report)
    expect(report).toMatchObject({ exitCode: 3, trustStatus: 'unknown', decision: 'fail' })
    expect(report.images[1].errors).toEqual([
      'registry 127.0.0.1:5000: 503 Service Unavailable',
      'cosign: retries exhausted'
    ])
    expect(report.errors).toEqual(['the matrix preference names a row that was not checked'])
  })

  it('is rejected by the schema when a required field is missing or a status is made up', () => {
    const report = buildReport(mixedRun, META)
    const broken = JSON.parse(serialiseReport(report))
    delete broken.images[0].decisionPath
    broken.images[1].trustStatus = 'trusted'
    expect(reportSchemaErrors(broken).sort()).toEqual([
      "/images/0: must have required property 'decisionPath'",
      '/images/1/trustStatus: must be equal to one of the allowed values'
    ])
  })
})

describe('the schema', () => {
  it('describes every field', () => {
    const undocumented: string[] = []
    const visit = (node: unknown, where: string): void => {
      if (node === null || typeof node !== 'object') return
      const record = node as Record<string, unknown>
      for (const section of ['properties', '$defs']) {
        const children = record[section]
        if (children && typeof children === 'object') {
          for (const [name, child] of Object.entries(children as Record<string, unknown>)) {
            if (typeof (child as { description?: unknown }).description !== 'string')
              undocumented.push(`${where}/${name}`)
            visit(child, `${where}/${name}`)
          }
        }
      }
      if (record.items) visit({ properties: { items: record.items } }, where)
    }
    visit(schema, '')
    expect(undocumented).toEqual([])
  })
})

describe('writeReportFile', () => {
  it('replaces the file in one step and leaves no temporary file behind', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'rp-report-'))
    const path = join(folder, 'build', 'rocm_provenance.json')
    const report = buildReport(mixedRun, META)
    await writeReportFile(path, report)
    await writeReportFile(path, { ...report, exitCode: 0 })
    expect(readdirSync(join(folder, 'build'))).toEqual(['rocm_provenance.json'])
    const written = JSON.parse(readFileSync(path, 'utf8'))
    expect(written.exitCode).toBe(0)
    expect(reportSchemaErrors(written)).toEqual([])
  })

  it('throws REPORT_WRITE_FAILED, cleaning up, when the folder cannot be made', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'rp-report-'))
    writeFileSync(join(folder, 'build'), 'a file where a folder should be')
    const failure = writeReportFile(
      join(folder, 'build', 'rocm_provenance.json'),
      buildReport(mixedRun, META)
    )
    await expect(failure).rejects.toBeInstanceOf(ProvenanceError)
    await expect(failure).rejects.toMatchObject({ code: 'REPORT_WRITE_FAILED' })
    expect(readdirSync(folder)).toEqual(['build'])
  })
})
