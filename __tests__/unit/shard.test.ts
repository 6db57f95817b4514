import { describe, expect, it } from '@jest/globals'
import { parseActionInputs } from '../../src/action/inputs.js'
import { mergeShardReports } from '../../src/app/merge.js'
import { parseShard } from '../../src/app/run-options.js'
import { InputError } from '../../src/domain/errors.js'
import { fnv1a32, selectShard, shardOf } from '../../src/domain/shard.js'
import { runFromReport } from '../../src/render/report-read.js'
import { buildReport } from '../../src/render/report.js'
import { renderJobSummary } from '../../src/render/summary.js'
import { decideImage } from '../../src/domain/decide.js'
import type { NamedSigner } from '../../src/domain/types.js'
import {
  CURRENT,
  KEY_SIGNER,
  makeFindings,
  makeImage,
  makeRun,
  VERIFIED_BY_KEY,
  VERIFIED_KEYLESS
} from '../helpers/run-fixtures.js'

const references = Array.from({ length: 200 }, (_, i) => ({
  reference: `ghcr.io/rocm/dev:6.${i % 10}.${i}-ubuntu-22.04`
}))

describe('shard selection', () => {
  it('FNV-1a is the published function (test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
  })

  it('puts every image in exactly one shard, spread over all of them', () => {
    const shards = [1, 2, 3, 4].map(index => selectShard(references, { index, count: 4 }))
    expect(
      shards
        .flat()
        .map(r => r.reference)
        .sort()
    ).toEqual(references.map(r => r.reference).sort())
    for (const shard of shards) expect(shard.length).toBeGreaterThan(20)
  })

  it('moves no image when rows are added', () => {
    const before = references.map(r => shardOf(r.reference, 4))
    const more = [...references, { reference: 'docker.io/rocm/dev:7.0.0-ubuntu-24.04' }]
    expect(more.slice(0, references.length).map(r => shardOf(r.reference, 4))).toEqual(before)
  })
})

describe('parseShard and the shard inputs', () => {
  it.each([
    ['', undefined],
    ['1/1', { index: 1, count: 1 }],
    [' 2 / 4 ', { index: 2, count: 4 }]
  ])('%j → %j', (text, shard) => {
    expect(parseShard(text)).toEqual(shard)
  })

  it.each(['0/4', '5/4', '1/0', '1/257', 'two/four', '1-4'])(
    'refuses %j naming the input',
    text => {
      expect(() => parseShard(text)).toThrow(InputError)
      expect(() => parseShard(text)).toThrow(/input 'shard' must be k\/n/)
    }
  )

  it('gives a shard run its own default report file and artifact name', () => {
    const read = (values: Record<string, string>) => (name: string) => values[name] ?? ''
    const inputs = parseActionInputs(
      read({ shard: '2/4', 'provenance-path': 'rocm_provenance.json' })
    )
    expect(inputs.provenancePath).toBe('rocm_provenance-shard-2-of-4.json')
    expect(inputs.artifactName).toBe('rocm-provenance-shard-2-of-4')
    const named = parseActionInputs(read({ shard: '1/2', 'provenance-path': 'out/p.json' }))
    expect(named.provenancePath).toBe('out/p.json')
    expect(parseActionInputs(read({ command: 'merge' })).command).toBe('merge')
  })
})

describe('reading a report back (merge renders through it)', () => {
  it('buildReport(runFromReport(report)) is the report', () => {
    const run = makeRun([
      makeImage({ signer: KEY_SIGNER, signature: VERIFIED_BY_KEY }, 0),
      makeImage({ signature: VERIFIED_KEYLESS, policy: { requireSignature: true } }, 1),
      makeImage({ digest: { status: 'drift', currentDigest: CURRENT } }, 2),
      makeImage({ signer: KEY_SIGNER, signature: { outcome: 'unsigned', count: 0 } }, 3)
    ])
    const report = buildReport(run, { actionVersion: '4.0.0', policyPath: 'p', matrixPath: 'm' })
    expect(
      buildReport(runFromReport(report), {
        actionVersion: '4.0.0',
        policyPath: 'p',
        matrixPath: 'm'
      })
    ).toEqual(report)
  })

  it('under named signers too: the report and the job summary come back the same', () => {
    const signers: NamedSigner[] = [
      { kind: 'key', name: 'release', keyPath: 'ci/keys/release.pub' },
      {
        kind: 'keyless',
        name: 'images-ci',
        identity: '^https://github\\.com/rocm/images/',
        issuer: 'https://token.actions.githubusercontent.com',
        issuerIsRegexp: false
      }
    ]
    const findings = {
      ...makeFindings({
        policy: { requireSignature: true, attestMode: 'enforce' },
        plan: { trustModel: 'signers', signers, threshold: 2, requirements: [] },
        signature: {
          outcome: 'verified',
          count: 2,
          tlogChecked: true,
          signers: [
            {
              name: 'release',
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
        attestation: { outcome: 'verified', mode: 'enforce' }
      }),
      requirements: [
        {
          type: 'https://slsa.dev/provenance/v1',
          result: 'met' as const,
          signers: ['images-ci'],
          signedBy: 'images-ci',
          conditions: [
            {
              path: 'predicate.buildDefinition.buildType',
              pattern: '^https://',
              value: 'https://x',
              met: true
            }
          ]
        }
      ]
    }
    const run = makeRun([{ findings, decision: decideImage(findings) }])
    const meta = { actionVersion: '4.0.0', policyPath: 'p', matrixPath: 'm' }
    const report = buildReport(run, meta)
    const read = runFromReport(report)
    expect(buildReport(read, meta)).toEqual(report)
    expect(renderJobSummary(read)).toBe(renderJobSummary(run))
  })

  it('merging shards that hold no images at all still names what is missing', () => {
    const run = mergeShardReports([], new Date('2026-11-30T00:00:00Z'))
    expect(run.exitCode).toBe(4)
    expect(run.configIssues.map(issue => issue.message)).toEqual([
      'no shard reports were found to merge'
    ])
  })
})
