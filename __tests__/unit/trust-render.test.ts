/**
 * The trust model in what users read: the decision path names each signer and
 * each requirement (a failed condition with its path, pattern and value), the
 * report carries `signers`, `threshold` and `attestations` (valid against
 * schemas/provenance.schema.json, the five telemetry keys still first), and the
 * job summary counts signers as "2 of 2 (release-2026, images-ci)".
 */
import { describe, expect, it } from '@jest/globals'
import { decideImage } from '../../src/domain/decide.js'
import type { ImageFindings, NamedSigner } from '../../src/domain/types.js'
import { buildReport, serialiseReport } from '../../src/render/report.js'
import { annotationsFor } from '../../src/render/annotations.js'
import { renderJobSummary, renderTextSummary } from '../../src/render/summary.js'
import { reportSchemaErrors } from '../helpers/report-schema.js'
import { makeFindings, makeRun } from '../helpers/run-fixtures.js'

const SIGNERS: NamedSigner[] = [
  { kind: 'key', name: 'release-2025', keyPath: 'ci/keys/old.pub', validUntil: '2026-06-30' },
  { kind: 'key', name: 'release-2026', keyPath: 'ci/keys/new.pub', validFrom: '2026-06-01' },
  {
    kind: 'keyless',
    name: 'images-ci',
    identity: '^https://github\\.com/rocm/images/',
    issuer: 'https://token.actions.githubusercontent.com',
    issuerIsRegexp: false
  }
]

function findings(): ImageFindings {
  const base = makeFindings({
    policy: { requireSignature: true, attestMode: 'enforce' },
    plan: {
      trustModel: 'signers',
      signers: SIGNERS,
      threshold: 2,
      requirements: []
    },
    signature: {
      outcome: 'verified',
      count: 2,
      tlogChecked: true,
      signers: [
        {
          name: 'release-2025',
          kind: 'key',
          result: 'expired',
          counted: false,
          outcome: 'expired',
          signingTime: '2026-11-30T12:00:00.000Z',
          signingTimeSource: 'run',
          message: 'signing key expired: valid_until 2026-06-30, now 2026-11-30T12:00:00.000Z'
        },
        {
          name: 'release-2026',
          kind: 'key',
          result: 'verified',
          counted: true,
          outcome: 'verified',
          signingTime: '2026-11-30T12:00:00.000Z',
          signingTimeSource: 'run',
          keyFingerprint: `sha256:${'cc'.repeat(32)}`
        },
        {
          name: 'images-ci',
          kind: 'keyless',
          result: 'verified',
          counted: true,
          outcome: 'verified',
          signingTime: '2026-11-29T08:00:00.000Z',
          signingTimeSource: 'tlog',
          identity: 'https://github.com/rocm/images/.github/workflows/release.yml@refs/tags/v1',
          issuer: 'https://token.actions.githubusercontent.com'
        }
      ],
      threshold: { required: 2, counted: 2, met: true }
    },
    attestation: { outcome: 'attestation-invalid', mode: 'enforce' }
  })
  return {
    ...base,
    requirements: [
      {
        type: 'https://slsa.dev/provenance/v1',
        result: 'unmet',
        signers: ['images-ci'],
        statementDigest: `sha256:${'dd'.repeat(32)}`,
        conditions: [
          {
            path: 'predicate.runDetails.builder.id',
            pattern: '^https://github\\.com/rocm/',
            value: 'https://evil/"x"',
            met: false
          }
        ]
      },
      {
        type: 'https://spdx.dev/Document',
        result: 'met',
        signers: ['release-2026'],
        conditions: [],
        signedBy: 'release-2026'
      }
    ]
  }
}

describe('the trust model as rendered', () => {
  const image = { findings: findings(), decision: decideImage(findings()) }
  const run = makeRun([image])

  it('names each signer and requirement in the decision path, a failed condition in full', () => {
    expect(image.decision.code).toBe(3)
    expect(image.decision.trustStatus).toBe('invalid')
    expect(image.decision.path).toEqual(
      expect.arrayContaining([
        'signature: verified, threshold met — 2 of 2 required distinct trusted signers counted (release-2026, images-ci)',
        'signer release-2025 (key): expired, signing time 2026-11-30T12:00:00.000Z (run); not counted: signing key expired: valid_until 2026-06-30, now 2026-11-30T12:00:00.000Z',
        'signer images-ci (keyless): verified, signing time 2026-11-29T08:00:00.000Z (tlog); counted',
        'attestation https://slsa.dev/provenance/v1: unmet; predicate.runDetails.builder.id fails "^https://github\\\\.com/rocm/" (value "https://evil/\\"x\\""); required by attest_mode=enforce → 3',
        'attestation https://spdx.dev/Document: met signed by release-2026 (attest_mode=enforce)'
      ])
    )
  })

  it('reports signers, threshold and attestations, valid against the schema, telemetry keys first', () => {
    const report = buildReport(run, {
      actionVersion: '4.1.0',
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml'
    })
    const text = serialiseReport(report)
    expect(reportSchemaErrors(JSON.parse(text))).toEqual([])
    expect(Object.keys(report).slice(0, 6)).toEqual([
      'schemaVersion',
      'trustStatus',
      'issuer',
      'timestamp',
      'digestAlgorithm',
      'policyDecision'
    ])
    expect(report.schemaVersion).toBe('1.1.0')
    // Every signer that counted is in the run's issuer, in order.
    expect(report.issuer).toBe(
      `key sha256:${'cc'.repeat(32)}, https://token.actions.githubusercontent.com`
    )
    const [reported] = report.images
    expect(reported.signers.map(s => [s.name, s.kind, s.result, s.counted])).toEqual([
      ['release-2025', 'key', 'expired', false],
      ['release-2026', 'key', 'verified', true],
      ['images-ci', 'keyless', 'verified', true]
    ])
    expect(reported.threshold).toEqual({ required: 2, counted: 2, met: true })
    expect(reported.attestations.map(a => [a.type, a.result])).toEqual([
      ['https://slsa.dev/provenance/v1', 'unmet'],
      ['https://spdx.dev/Document', 'met']
    ])
    expect(reported.attestations[0].conditions[0]).toEqual({
      path: 'predicate.runDetails.builder.id',
      pattern: '^https://github\\.com/rocm/',
      value: 'https://evil/"x"',
      met: false
    })
  })

  it('counts signers in the summary table, six columns at most', () => {
    const markdown = renderJobSummary(run)
    const rows = markdown.split('\n').filter(line => line.startsWith('|'))
    expect(rows[0].split('|').length - 2).toBe(6)
    expect(rows[2]).toContain('| 2 of 2 (release-2026, images-ci) |')
    expect(rows[2]).toContain('| enforce: 1 of 2 met |')
  })

  it('shows a configuration warning in both summaries and as a warning annotation', () => {
    const warning = {
      code: 'requirements-not-checked',
      message: 'policy.attest_mode: `none` next to 1 attestation requirement; they are not checked',
      location: { file: 'ci/rocm_policy.yml', line: 2, column: 16 }
    }
    const warned = { ...run, configWarnings: [warning] }
    expect(renderJobSummary(warned)).toContain('**Configuration warnings**')
    expect(renderTextSummary(warned)).toContain(
      'config warning: ci/rocm_policy.yml:2:16: policy.attest_mode'
    )
    expect(annotationsFor(warned)).toContainEqual(
      expect.objectContaining({ level: 'warning', file: 'ci/rocm_policy.yml', startLine: 2 })
    )
    expect(warned.exitCode).toBe(run.exitCode)
  })
})
