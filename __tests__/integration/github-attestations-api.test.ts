/**
 * The GitHub attestations API client against a loopback stand-in of the API
 * (GitHub's services cannot run here): both bundle shapes, paging, rate
 * limits within and past the run's budget, where the token goes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GitHubAttestations, GitHubApiError } from '../../src/adapters/github/attestations.js'
import type { Digest } from '../../src/domain/types.js'
import {
  startAttestationsStandin,
  type AttestationsStandin
} from '../helpers/github-attestations-standin.js'

const DIGEST = `sha256:${'ab'.repeat(32)}` as Digest
const OTHER = `sha256:${'cd'.repeat(32)}` as Digest
const SLSA = 'https://slsa.dev/provenance/v1'
const TOKEN = 'ghs_standin_token_value'

let api: AttestationsStandin
let waits: number[]

const bundle = (n: number) => ({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  dsseEnvelope: { payload: Buffer.from(`statement ${n}`).toString('base64') }
})

function client(options: { token?: string; budgetMs?: number } = {}): GitHubAttestations {
  return new GitHubAttestations({
    apiUrl: api.url,
    token: options.token,
    rateLimitBudgetMs: options.budgetMs,
    sleep: async ms => {
      waits.push(ms)
    },
    now: () => Date.parse('2026-11-30T12:00:00Z')
  })
}

beforeAll(async () => {
  api = await startAttestationsStandin()
})
afterAll(async () => {
  await api.stop()
})
beforeEach(() => {
  waits = []
  api.shape = 'inline'
  api.nextOrigin = undefined
  api.failures = []
  api.requests.length = 0
  api.stored = [
    { repository: 'rocm/images', digest: DIGEST, bundle: bundle(1), predicateType: SLSA },
    {
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: bundle(2),
      predicateType: 'https://spdx.dev/Document'
    }
  ]
})

describe('listBundles', () => {
  it.each(['inline', 'bundle-url'] as const)(
    'reads bundles given %s, filtered by predicate type',
    async shape => {
      api.shape = shape
      const found = await client().listBundles('rocm/images', DIGEST, SLSA)
      expect(found).toEqual([{ bundle: bundle(1), shape }])
      expect(await client().listBundles('rocm/images', DIGEST)).toHaveLength(2)
    }
  )

  it('answers none for a digest GitHub has no attestation of (404)', async () => {
    expect(await client().listBundles('rocm/images', OTHER)).toEqual([])
  })

  it('follows every page', async () => {
    api.stored = Array.from({ length: 230 }, (_, n) => ({
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: bundle(n)
    }))
    const found = await client().listBundles('rocm/images', DIGEST)
    expect(found.map(f => f.bundle)).toEqual(api.stored.map(s => s.bundle))
    expect(api.requests.map(r => r.path)).toEqual([
      `/repos/rocm/images/attestations/${DIGEST}?per_page=100`,
      `/repos/rocm/images/attestations/${DIGEST}?per_page=100&after=100`,
      `/repos/rocm/images/attestations/${DIGEST}?per_page=100&after=200`
    ])
  })

  it('refuses a next page on another origin, without asking it', async () => {
    api.stored = Array.from({ length: 150 }, (_, n) => ({
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: bundle(n)
    }))
    api.nextOrigin = 'http://127.0.0.2:9'
    await expect(client({ token: TOKEN }).listBundles('rocm/images', DIGEST)).rejects.toMatchObject(
      { code: 'GITHUB_API_FAILED', message: expect.stringContaining('points elsewhere') }
    )
    expect(api.requests).toHaveLength(1)
  })

  it('sends the token to the API only, never to the bundle URL', async () => {
    api.shape = 'bundle-url'
    await client({ token: TOKEN }).listBundles('rocm/images', DIGEST)
    const api_ = api.requests.filter(r => r.path.startsWith('/repos/'))
    const blobs = api.requests.filter(r => r.path.startsWith('/blobs/'))
    expect(api_.map(r => r.authorization)).toEqual([`Bearer ${TOKEN}`])
    expect(blobs).toHaveLength(2)
    expect(blobs.map(r => r.authorization)).toEqual([undefined, undefined])
  })

  it('waits out a 429 with retry-after, then lists', async () => {
    api.failures = [{ status: 429, headers: { 'retry-after': '3' }, times: 1 }]
    const found = await client().listBundles('rocm/images', DIGEST, SLSA)
    expect(found).toHaveLength(1)
    expect(waits).toEqual([3000])
    expect(api.requests.map(r => r.status)).toEqual([429, 200])
  })

  it('waits out a primary rate limit until its reset when it fits the budget', async () => {
    const reset = Date.parse('2026-11-30T12:00:20Z') / 1000
    api.failures = [
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
        times: 1
      }
    ]
    expect(await client().listBundles('rocm/images', DIGEST, SLSA)).toHaveLength(1)
    expect(waits).toEqual([20_000])
  })

  it('gives up past the 30 s budget, naming the reset time, and never calls it none', async () => {
    const reset = Date.parse('2026-11-30T12:10:00Z') / 1000
    api.failures = [
      {
        status: 403,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
        times: 5
      }
    ]
    const error = await client()
      .listBundles('rocm/images', DIGEST)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitHubApiError)
    expect(error).toMatchObject({
      code: 'GITHUB_API_RATE_LIMITED',
      resetAt: '2026-11-30T12:10:00.000Z',
      message: expect.stringContaining('rate-limited until 2026-11-30T12:10:00.000Z')
    })
    expect(waits).toEqual([])
  })

  it('spends one budget across calls: two 20 s waits do not both fit in 30 s', async () => {
    const twenty = { 'retry-after': '20' }
    api.failures = [{ status: 429, headers: twenty, times: 1 }]
    const shared = client()
    expect(await shared.listBundles('rocm/images', DIGEST, SLSA)).toHaveLength(1)
    api.failures = [{ status: 429, headers: twenty, times: 1 }]
    await expect(shared.listBundles('rocm/images', DIGEST, SLSA)).rejects.toMatchObject({
      code: 'GITHUB_API_RATE_LIMITED'
    })
    expect(waits).toEqual([20_000])
  })

  it('reports a refused token as an auth failure, not a rate limit', async () => {
    api.failures = [{ status: 401, body: JSON.stringify({ message: 'Bad credentials' }), times: 1 }]
    await expect(
      client({ token: 'wrong' }).listBundles('rocm/images', DIGEST)
    ).rejects.toMatchObject({ code: 'GITHUB_API_AUTH' })
  })

  it('refuses a repository that is not owner/name before asking anything', async () => {
    await expect(client().listBundles('../etc', DIGEST)).rejects.toMatchObject({
      code: 'GITHUB_API_FAILED'
    })
    expect(api.requests).toEqual([])
  })
})
