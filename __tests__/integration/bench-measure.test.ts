import { describe, expect, it } from '@jest/globals'
import {
  chainsOfSequentialRun,
  countByKind,
  coveredLength,
  formatTable,
  median,
  parseBashTimes,
  parseCosignRecord,
  requestKind,
  sampleOf
} from '../helpers/bench-measure.js'
import type { RecordedRequest } from '../helpers/fault-proxy.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`

function request(
  path: string,
  receivedAt: number,
  finishedAt: number,
  method = 'GET'
): RecordedRequest {
  return { method, path, status: 200, receivedAt, finishedAt }
}

describe('median and sampleOf', () => {
  it.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5]
  ])('the median of %j is %d', (values, expected) => {
    expect(median(values)).toBe(expected)
  })

  it('refuses no values', () => {
    expect(() => median([])).toThrow(RangeError)
  })

  it('keeps the spread and the values', () => {
    expect(sampleOf([3, 9, 1])).toEqual({ median: 3, min: 1, max: 9, values: [3, 9, 1] })
  })
})

describe('coveredLength', () => {
  it.each([
    [
      'disjoint intervals add up',
      [
        [0, 10],
        [20, 25]
      ],
      15
    ],
    [
      'overlaps count once',
      [
        [0, 10],
        [5, 15]
      ],
      15
    ],
    [
      'an interval inside another adds nothing',
      [
        [0, 20],
        [5, 10]
      ],
      20
    ],
    [
      'order does not matter',
      [
        [20, 30],
        [0, 10],
        [5, 12]
      ],
      22
    ],
    ['nothing covers nothing', [], 0]
  ] as [string, [number, number][], number][])('%s', (_, intervals, expected) => {
    expect(coveredLength(intervals)).toBe(expected)
  })
})

describe('chainsOfSequentialRun', () => {
  it('splits a sequential run at each image tag and measures the time with requests in flight', () => {
    const requests = [
      request('/v2/rocm/dev/manifests/6.4.0-ubuntu-22.04', 0, 25, 'HEAD'),
      request('/v2/', 40, 62),
      request(`/v2/rocm/dev/manifests/${DIGEST}`, 60, 85),
      request('/v2/rocm/dev/manifests/6.4.1-ubuntu-22.04', 100, 121, 'HEAD'),
      request(`/v2/rocm/dev/referrers/${DIGEST}`, 130, 150)
    ]
    expect(chainsOfSequentialRun(requests, ['6.4.0-ubuntu-22.04', '6.4.1-ubuntu-22.04'])).toEqual([
      { tag: '6.4.0-ubuntu-22.04', requests: 3, networkMs: 70 },
      { tag: '6.4.1-ubuntu-22.04', requests: 2, networkMs: 41 }
    ])
  })

  it('does not start a new chain for a tag that is not an image of the run', () => {
    const requests = [
      request('/v2/rocm/dev/manifests/6.4.0-ubuntu-22.04', 0, 10, 'HEAD'),
      request(`/v2/rocm/dev/manifests/${DIGEST.replace(':', '-')}`, 20, 30)
    ]
    expect(chainsOfSequentialRun(requests, ['6.4.0-ubuntu-22.04'])).toEqual([
      { tag: '6.4.0-ubuntu-22.04', requests: 2, networkMs: 20 }
    ])
  })
})

describe('requestKind and countByKind', () => {
  it.each([
    ['GET', '/v2/', 'GET /v2/ (ping)'],
    ['HEAD', '/v2/rocm/dev/manifests/6.4.0-ubuntu-22.04', 'HEAD manifest by tag'],
    ['GET', `/v2/rocm/dev/manifests/${DIGEST}`, 'GET manifest by digest'],
    ['GET', `/v2/rocm/dev/manifests/${DIGEST.replace(':', '-')}`, 'GET manifest by signature tag'],
    [
      'GET',
      `/v2/rocm/dev/manifests/${DIGEST.replace(':', '-')}.sig`,
      'GET manifest by signature tag'
    ],
    ['GET', `/v2/rocm/dev/referrers/${DIGEST}`, 'GET referrers'],
    ['GET', `/v2/rocm/dev/blobs/${DIGEST}`, 'GET blob'],
    ['GET', '/v2/rocm/dev/tags/list', 'GET tag list']
  ])('%s %s is "%s"', (method, path, kind) => {
    expect(requestKind(method, path)).toBe(kind)
  })

  it('counts requests per kind, sorted by kind', () => {
    const counts = countByKind([
      request(`/v2/rocm/dev/blobs/${DIGEST}`, 0, 1),
      request('/v2/', 0, 1),
      request(`/v2/rocm/dev/blobs/${DIGEST}`, 0, 1)
    ])
    expect(Object.entries(counts)).toEqual([
      ['GET /v2/ (ping)', 1],
      ['GET blob', 2]
    ])
  })
})

describe('the cosign wrapper records', () => {
  it('reads bash times lines, minutes included', () => {
    expect(parseBashTimes('1m2.500s 0m0.250s')).toEqual([62.5, 0.25])
    expect(() => parseBashTimes('0m1.000s')).toThrow(/not a line of bash times/)
  })

  it('reads the command, start, end and the children CPU time', () => {
    const record =
      'verify\n1700000000.250000\n1700000000.750000\n0m0.001s 0m0.002s\n0m0.070s 0m0.015s\n'
    expect(parseCosignRecord(record)).toEqual({
      command: 'verify',
      startedAt: 1700000000.25,
      endedAt: 1700000000.75,
      userSeconds: 0.07,
      systemSeconds: 0.015
    })
  })

  it('refuses a truncated record', () => {
    expect(() => parseCosignRecord('verify\n1700000000.25\n')).toThrow(
      /unexpected cosign wrapper record/
    )
  })
})

describe('formatTable', () => {
  it('prints one aligned line per row, wall times in seconds', () => {
    const table = formatTable([
      {
        n: 100,
        variant: 'action concurrency 4',
        wall: sampleOf([9000, 8000, 10_000]),
        ratioToBaseline: 0.25,
        ratioToLowerBound: 2.1,
        peakMemoryMiB: 111.26,
        startupMs: 640,
        cosignProcesses: 100,
        requestsPerImage: 11.04
      },
      {
        n: 100,
        variant: 'lower bound (computed)',
        wall: sampleOf([4000]),
        ratioToBaseline: 0.1,
        ratioToLowerBound: 1
      }
    ])
    const lines = table.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[2]).toMatch(
      /^100 +action concurrency 4 +9\.00 \(8\.00-10\.00\) +0\.250 +2\.10 +111\.3 +640 +100 +11\.0$/
    )
    expect(lines[3]).toMatch(
      /lower bound \(computed\) +4\.00 \(4\.00-4\.00\) +0\.100 +1\.00 +- +- +- +-$/
    )
    expect(new Set(lines.map(line => line.length)).size).toBe(1)
  })
})
