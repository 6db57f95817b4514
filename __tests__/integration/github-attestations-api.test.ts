/**
 * The GitHub attestations API client against a loopback stand-in of the API
 * (GitHub's services cannot run here): both bundle shapes, paging, rate
 * limits within and past the run's budget, where the token goes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { GitHubAttestations, GitHubApiError } from '../../src/adapters/github/attestations.js'
import { causeChain } from '../../src/domain/errors.js'
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
let logged: string[]

/** GitHub's primary rate limit: 403 with no requests left until `reset` (RFC 3339). */
const primaryLimit = (reset: string, times: number) => ({
  status: 403,
  headers: {
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': String(Date.parse(reset) / 1000)
  },
  times
})

const bundle = (n: number) => ({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  dsseEnvelope: { payload: Buffer.from(`statement ${n}`).toString('base64') }
})

function client(
  options: { token?: string; budgetMs?: number; timeoutMs?: number; maxBodyBytes?: number } = {}
): GitHubAttestations {
  return new GitHubAttestations({
    apiUrl: api.url,
    token: options.token,
    rateLimitBudgetMs: options.budgetMs,
    timeoutMs: options.timeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    sleep: async ms => {
      waits.push(ms)
    },
    now: () => Date.parse('2026-11-30T12:00:00Z'),
    log: message => logged.push(message)
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
  logged = []
  api.shape = 'inline'
  api.nextOrigin = undefined
  api.failures = []
  api.requests.length = 0
  api.users = []
  api.bulkServed = true
  api.bulkLeaveOut = []
  api.blobsTrickle = false
  api.blobDelayMs = 0
  api.maxBlobsInFlight = 0
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
      expect(found).toEqual([
        {
          bundle: bundle(1),
          shape,
          scope: 'repository',
          where: `repos/rocm/images/attestations/${DIGEST} #1 (${shape})`
        }
      ])
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
    expect(found.map(f => ('bundle' in f ? f.bundle : f.problem))).toEqual(
      api.stored.map(s => s.bundle)
    )
    expect(api.requests.map(r => r.path)).toEqual([
      `/repos/rocm/images/attestations/${DIGEST}?per_page=100`,
      `/repos/rocm/images/attestations/${DIGEST}?per_page=100&after=100`,
      `/repos/rocm/images/attestations/${DIGEST}?per_page=100&after=200`
    ])
  })

  it('a later page answering 404 fails the listing; the pages read are not all there is', async () => {
    api.stored = Array.from({ length: 150 }, (_, n) => ({
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: bundle(n)
    }))
    api.failures = [{ status: 404, body: '{"message":"Not Found"}', times: 1, afterRequests: 1 }]
    await expect(client().listBundles('rocm/images', DIGEST)).rejects.toMatchObject({
      code: 'GITHUB_API_FAILED',
      message: expect.stringContaining('HTTP 404 on a later page')
    })
    expect(api.requests.map(r => r.status)).toEqual([200, 404])
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

  it('fetches bundle URLs a few at a time, however many entries a listing has', async () => {
    api.shape = 'bundle-url'
    api.blobDelayMs = 20
    api.stored = Array.from({ length: 60 }, (_, n) => ({
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: bundle(n)
    }))
    const found = await client().listBundles('rocm/images', DIGEST)
    expect(found.map(f => ('bundle' in f ? f.bundle : f.problem))).toEqual(
      api.stored.map(s => s.bundle)
    )
    expect(api.maxBlobsInFlight).toBeLessThanOrEqual(4)
  })

  it('waits out a 429 with retry-after, then lists', async () => {
    api.failures = [{ status: 429, headers: { 'retry-after': '3' }, times: 1 }]
    const found = await client().listBundles('rocm/images', DIGEST, SLSA)
    expect(found).toHaveLength(1)
    expect(waits).toEqual([3000])
    expect(api.requests.map(r => r.status)).toEqual([429, 200])
  })

  it('waits out a primary rate limit until its reset when it fits the budget', async () => {
    api.failures = [primaryLimit('2026-11-30T12:00:20Z', 1)]
    expect(await client().listBundles('rocm/images', DIGEST, SLSA)).toHaveLength(1)
    expect(waits).toEqual([20_000])
  })

  it('gives up past the 30 s budget, naming the reset time, and never calls it none', async () => {
    api.failures = [primaryLimit('2026-11-30T12:10:00Z', 5)]
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
    await expect(shared.listBundles('rocm/images', DIGEST)).rejects.toMatchObject({
      code: 'GITHUB_API_RATE_LIMITED'
    })
    expect(waits).toEqual([20_000])
  })

  it.each([
    ['retry-after: 0', { 'retry-after': '0' }],
    ['a reset already past', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' }]
  ])('a rate limit that asks no wait (%s) is still bounded by the budget', async (_, headers) => {
    api.failures = [{ status: 429, headers, times: 500 }]
    await expect(client().listBundles('rocm/images', DIGEST, SLSA)).rejects.toMatchObject({
      code: 'GITHUB_API_RATE_LIMITED'
    })
    // Each wait spends at least a second of the 30 s budget.
    expect(api.requests.length).toBeLessThanOrEqual(31)
    expect(waits.every(ms => ms >= 1000)).toBe(true)
    api.failures = []
  })

  it('reports a refused token as an auth failure, not a rate limit', async () => {
    api.failures = [{ status: 401, body: JSON.stringify({ message: 'Bad credentials' }), times: 1 }]
    await expect(
      client({ token: 'wrong' }).listBundles('rocm/images', DIGEST)
    ).rejects.toMatchObject({ code: 'GITHUB_API_AUTH' })
  })

  it('an auth failure quotes GitHub and says what to give the job, with a token or without', async () => {
    const refused = JSON.stringify({ message: 'Resource not accessible by integration' })
    api.failures = [{ status: 403, body: refused, times: 1 }]
    const withToken = (await client({ token: TOKEN })
      .listBundles('rocm/images', DIGEST)
      .catch((error: unknown) => error)) as Error
    expect(withToken.message).toBe(
      `GET /repos/rocm/images/attestations/${DIGEST}: HTTP 403 ("Resource not accessible by integration"); the token may not read attestations: give the job \`permissions: attestations: read\` (a fine-grained token: Attestations read)`
    )
    expect(withToken.message).not.toContain(TOKEN)
    api.failures = [{ status: 401, body: '{"message":"Requires authentication"}', times: 1 }]
    const without = (await client()
      .listBundles('rocm/images', DIGEST)
      .catch((error: unknown) => error)) as Error
    expect(without.message).toContain('no token was sent: pass `github-token`')
  })

  it('refuses a repository that is not owner/name before asking anything', async () => {
    await expect(client().listBundles('../etc', DIGEST)).rejects.toMatchObject({
      code: 'GITHUB_API_FAILED'
    })
    expect(api.requests).toEqual([])
  })
})

describe('listBundles against an answer that never ends or never stops', () => {
  it('a page that stalls ends at the deadline as a failure, not as none', async () => {
    api.failures = [{ status: 200, trickle: true, times: 1 }]
    const started = Date.now()
    await expect(
      client({ timeoutMs: 300 }).listBundles('rocm/images', DIGEST, SLSA)
    ).rejects.toMatchObject({
      code: 'GITHUB_API_FAILED',
      message: expect.stringContaining('no answer')
    })
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('a page larger than the bound is refused while it is read', async () => {
    const huge = JSON.stringify({ attestations: [{ bundle: { pad: 'x'.repeat(64 * 1024) } }] })
    api.failures = [{ status: 200, body: huge, times: 1 }]
    const error = await client({ maxBodyBytes: 16 * 1024 })
      .listBundles('rocm/images', DIGEST, SLSA)
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'GITHUB_API_FAILED' })
    expect(JSON.stringify(causeChain(error))).toContain('16384 bytes')
  })

  it('a bundle URL that stalls is a problem entry naming neither the URL nor its signature', async () => {
    api.shape = 'bundle-url'
    api.blobsTrickle = true
    const found = await client({ timeoutMs: 300, token: TOKEN }).listBundles(
      'rocm/images',
      DIGEST,
      SLSA
    )
    expect(found).toEqual([
      {
        where: `repos/rocm/images/attestations/${DIGEST} #1 (bundle-url)`,
        problem: expect.stringContaining('no complete answer')
      }
    ])
    expect(JSON.stringify(found)).not.toContain('STANDIN-BLOB-SIGNATURE')
    expect(JSON.stringify(found)).not.toContain('/blobs/')
  })
})

describe('listBundles in bulk: two or more digests of one owner', () => {
  const D1 = DIGEST
  const D2 = OTHER
  const D3 = `sha256:${'ef'.repeat(32)}` as Digest
  const BULK = '/orgs/rocm/attestations/bulk-list?per_page=100'
  const subjects = (...digests: Digest[]) =>
    digests.map(digest => ({ repository: 'rocm/images', digest, predicateType: SLSA }))

  beforeEach(() => {
    api.stored = [
      { repository: 'rocm/images', digest: D1, bundle: bundle(1), predicateType: SLSA },
      { repository: 'rocm/other', digest: D2, bundle: bundle(2), predicateType: SLSA },
      { repository: 'rocm/images', digest: D2, bundle: bundle(3), predicateType: SLSA },
      { repository: 'evil/images', digest: D1, bundle: bundle(4), predicateType: SLSA }
    ]
  })

  it.each(['inline', 'bundle-url'] as const)(
    'lists them with one request (%s), each entry marked owner-wide',
    async shape => {
      api.shape = shape
      const c = client({ token: TOKEN })
      c.expectSubjects([
        ...subjects(D1, D2),
        { repository: 'rocm/other', digest: D3, predicateType: SLSA }
      ])
      const [one, two, three] = await Promise.all([
        c.listBundles('rocm/images', D1, SLSA),
        c.listBundles('rocm/images', D2, SLSA),
        c.listBundles('rocm/other', D3, SLSA)
      ])
      const apiCalls = api.requests.filter(r => !r.path.startsWith('/blobs/'))
      expect(apiCalls.map(r => [r.method, r.path, r.authorization])).toEqual([
        ['POST', BULK, `Bearer ${TOKEN}`]
      ])
      expect(JSON.parse(apiCalls[0].body ?? '')).toEqual({
        subject_digests: [D1, D2, D3],
        predicate_type: SLSA
      })
      expect(one).toEqual([
        {
          bundle: bundle(1),
          shape,
          scope: 'owner',
          where: `orgs/rocm/attestations/bulk-list: ${D1} #1 (${shape})`
        }
      ])
      // Owner-wide: rocm/other's bundle of D2 too (the caller keeps the signer's own).
      expect(two.map(b => ('bundle' in b ? b.bundle : b.problem))).toEqual([bundle(2), bundle(3)])
      expect(three).toEqual([])
      // The bundle URLs are fetched without the token.
      const blobs = api.requests.filter(r => r.path.startsWith('/blobs/'))
      expect(blobs.map(r => r.authorization)).toEqual(
        shape === 'inline' ? [] : [undefined, undefined, undefined]
      )
    }
  )

  it('a personal account: the users endpoint, after the orgs one answers 404', async () => {
    api.users = ['rocm']
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toHaveLength(1)
    expect(await c.listBundles('rocm/images', D2, SLSA)).toHaveLength(2)
    expect(api.requests.map(r => [r.method, r.path, r.status])).toEqual([
      ['POST', BULK, 404],
      ['POST', '/users/rocm/attestations/bulk-list?per_page=100', 200]
    ])
  })

  it('where no bulk endpoint is served, lists each repository and says so', async () => {
    api.bulkServed = false
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toHaveLength(1)
    expect(await c.listBundles('rocm/images', D2, SLSA)).toEqual([
      expect.objectContaining({ bundle: bundle(3), scope: 'repository' })
    ])
    expect(api.requests.map(r => r.method)).toEqual(['POST', 'POST', 'GET', 'GET'])
    expect(logged.join('\n')).toContain('no bulk listing for rocm; listing each repository')
  })

  it('a failing bulk listing (HTTP 500 twice) falls back to each repository, and says so', async () => {
    api.failures = [{ status: 500, body: '{}', times: 2 }]
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toHaveLength(1)
    expect(api.requests.map(r => [r.method, r.status])).toEqual([
      ['POST', 500],
      ['POST', 500],
      ['GET', 200]
    ])
    expect(logged.join('\n')).toMatch(/bulk listing for rocm failed \(POST .*HTTP 500\)/)
  })

  it('one expected digest of an owner is listed by its repository, never in bulk', async () => {
    const c = client()
    c.expectSubjects(subjects(D1))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toHaveLength(1)
    expect(api.requests.map(r => r.method)).toEqual(['GET'])
  })

  it('follows page_info.next as the after cursor over every page', async () => {
    api.stored = Array.from({ length: 230 }, (_, n) => ({
      repository: 'rocm/images',
      digest: n % 2 === 0 ? D1 : D2,
      bundle: bundle(n),
      predicateType: SLSA
    }))
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toHaveLength(115)
    expect(await c.listBundles('rocm/images', D2, SLSA)).toHaveLength(115)
    expect(api.requests.map(r => r.path)).toEqual([
      BULK,
      `${BULK}&after=${Buffer.from('100').toString('base64url')}`,
      `${BULK}&after=${Buffer.from('200').toString('base64url')}`
    ])
  })

  it('a digest the bulk answer leaves out is listed by its repository, not taken as none', async () => {
    api.bulkLeaveOut = [D2]
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toEqual([
      expect.objectContaining({ bundle: bundle(1), scope: 'owner' })
    ])
    expect(await c.listBundles('rocm/images', D2, SLSA)).toEqual([
      expect.objectContaining({ bundle: bundle(3), scope: 'repository' })
    ])
    expect(api.requests.map(r => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /orgs/rocm/attestations/bulk-list',
      `GET /repos/rocm/images/attestations/${D2}`
    ])
  })

  it('reads the list-of-objects shape of GitHub’s documented example alike', async () => {
    api.bulkAsList = true
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D2, SLSA)).toHaveLength(2)
    api.bulkAsList = false
  })

  it('a rate limit past the budget is the answer for every digest, with no further request', async () => {
    api.failures = [primaryLimit('2026-11-30T13:00:00Z', 5)]
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    for (const digest of [D1, D2, D3])
      await expect(c.listBundles('rocm/images', digest, SLSA)).rejects.toMatchObject({
        code: 'GITHUB_API_RATE_LIMITED',
        resetAt: '2026-11-30T13:00:00.000Z'
      })
    expect(api.requests).toHaveLength(1)
  })

  it('waits out a 429 on the bulk request within the budget', async () => {
    api.failures = [{ status: 429, headers: { 'retry-after': '2' }, times: 1 }]
    const c = client()
    c.expectSubjects(subjects(D1, D2))
    expect(await c.listBundles('rocm/images', D1, SLSA)).toHaveLength(1)
    expect(waits).toEqual([2000])
    expect(api.requests.map(r => r.status)).toEqual([429, 200])
  })
})

describe('listBundles, each entry on its own', () => {
  it('asked twice, answered once', async () => {
    const c = client()
    await Promise.all([
      c.listBundles('rocm/images', DIGEST, SLSA),
      c.listBundles('rocm/images', DIGEST, SLSA)
    ])
    expect(api.requests).toHaveLength(1)
  })

  it('an entry that cannot be read is a problem entry and hides none of the others', async () => {
    api.stored.unshift({
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: null,
      predicateType: SLSA
    })
    const found = await client().listBundles('rocm/images', DIGEST, SLSA)
    expect(found).toEqual([
      {
        where: `repos/rocm/images/attestations/${DIGEST} #1`,
        problem: 'the attestation has neither bundle nor bundle_url'
      },
      expect.objectContaining({ bundle: bundle(1) })
    ])
  })

  it('a bundle URL that fails is a problem entry naming no URL', async () => {
    api.shape = 'bundle-url'
    api.stored.push({
      repository: 'rocm/images',
      digest: DIGEST,
      bundle: undefined,
      predicateType: SLSA
    })
    const found = await client().listBundles('rocm/images', DIGEST, SLSA)
    expect(found[0]).toMatchObject({ bundle: bundle(1) })
    expect(found[1]).toEqual({
      where: `repos/rocm/images/attestations/${DIGEST} #2 (bundle-url)`,
      problem: 'its bundle_url answered HTTP 404'
    })
  })
})
