import { describe, expect, it } from '@jest/globals'
import { renderJobSummary, renderTextSummary, runNotes } from '../../src/render/summary.js'
import { KEY_SIGNER, makeImage, makeRun, VERIFIED_BY_KEY } from '../helpers/run-fixtures.js'

describe('what a run says about itself', () => {
  it('says nothing extra for a plain run', () => {
    expect(runNotes(makeRun([makeImage()]))).toEqual([])
  })

  it('says when and how long a registry throttled the run', () => {
    const run = {
      ...makeRun([makeImage()]),
      throttles: [
        {
          registry: 'ghcr.io',
          responses: 3,
          firstAt: '2026-11-30T10:00:01.000Z',
          waitedMs: 4500
        }
      ]
    }
    const line =
      'throttled: ghcr.io asked to slow down 3 times from 2026-11-30T10:00:01.000Z; its requests waited 4.5 s in all'
    expect(runNotes(run)).toEqual([line])
    expect(renderTextSummary(run)).toContain(`note: ${line}`)
    expect(renderJobSummary(run)).toContain('throttled: ghcr.io asked to slow down 3 times')
  })

  it('says which shard this is, what the cache did, and marks cached results', () => {
    const image = makeImage({ signer: KEY_SIGNER, signature: VERIFIED_BY_KEY })
    image.findings.cache = { status: 'hit', judgedAt: '2026-11-30T09:00:00.000Z' }
    const run = {
      ...makeRun([image]),
      shard: { index: 2, count: 4 },
      cache: { status: 'used' as const, hits: 1, saved: 0 }
    }
    expect(runNotes(run)).toEqual([
      "shard 2 of 4: this report lists only this shard's images",
      'verification cache: 1 result reused, 0 saved'
    ])
    expect(renderTextSummary(run)).toContain('(cached 2026-11-30T09:00:00.000Z)')
  })

  it('says once that there was no cache service', () => {
    const run = {
      ...makeRun([makeImage()]),
      cache: {
        status: 'unavailable' as const,
        note: 'no cache service here; every image was verified by cosign',
        hits: 0,
        saved: 0
      }
    }
    expect(renderJobSummary(run).match(/no cache service/g)).toHaveLength(1)
  })
})
