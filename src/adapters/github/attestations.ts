/**
 * GitHub's artifact attestations REST API: the Sigstore bundles GitHub stores
 * for a subject digest (`GET /repos/{owner}/{repo}/attestations/sha256:<hex>`
 * at `GITHUB_API_URL`). Both shapes of an entry are read: a bundle inline
 * (`bundle`, the older API version) or behind `bundle_url` (a Snappy-compressed
 * JSON bundle in GitHub's blob storage, fetched without credentials). Pages
 * follow `Link: rel="next"` on the same origin and path only.
 *
 * Rate limits (403 or 429 with `retry-after`, or `x-ratelimit-remaining: 0`
 * with `x-ratelimit-reset`) are waited out while the run's budget for the API
 * lasts (30 s in all by default); past it the listing ends as
 * `GITHUB_API_RATE_LIMITED` with the reset time, which the caller reports as
 * could-not-complete, never as "no attestations". Nothing here verifies a
 * bundle: that is cosign's work.
 */
import { HttpClient } from '@actions/http-client'
import { uncompress } from 'snappyjs'
import { ProvenanceError, type GitHubApiErrorCode } from '../../domain/errors.js'
import { nextLink } from '../../domain/manifest.js'
import { ACTION_VERSION } from '../../domain/action-version.js'
import type { Digest } from '../../domain/types.js'
import { parseRetryAfter } from '../../lib/retry.js'

/** The REST API version asked for (`X-GitHub-Api-Version`). */
const GITHUB_API_VERSION = '2022-11-28'
/** The run's total wait for the attestations API's rate limits. */
const DEFAULT_RATE_LIMIT_BUDGET_MS = 30_000
const PER_PAGE = 100
const MAX_PAGES = 10
/** Largest compressed and decompressed bundle read. */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024
/** GitHub's `owner/name`: an account name, then a repository name that is not `.` or `..`. */
const REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/(?!\.{1,2}$)[A-Za-z0-9_.-]{1,100}$/

export class GitHubApiError extends ProvenanceError<GitHubApiErrorCode> {
  /** When the rate limit resets (ISO 8601), for `GITHUB_API_RATE_LIMITED`. */
  readonly resetAt?: string

  constructor(
    code: GitHubApiErrorCode,
    message: string,
    options: { cause?: unknown; resetAt?: string } = {}
  ) {
    super(code, message, { cause: options.cause })
    this.name = 'GitHubApiError'
    this.resetAt = options.resetAt
  }
}

/** One Sigstore bundle the API lists for a digest. */
interface ListedBundle {
  /** The bundle as JSON (`application/vnd.dev.sigstore.bundle…+json`). */
  bundle: unknown
  /** Which shape it came in: inline, or fetched from `bundle_url`. */
  shape: 'inline' | 'bundle-url'
}

interface GitHubAttestationsOptions {
  /** `GITHUB_API_URL`, e.g. `https://api.github.com`; plain HTTP only for loopback. */
  apiUrl: string
  /** Optional: public repositories are listed without one. */
  token?: string
  /** Total milliseconds this client may wait for rate limits (default 30 s). */
  rateLimitBudgetMs?: number
  sleep?: (ms: number) => Promise<void>
  now?: () => number
  log?: (message: string) => void
}

/** Whether `url` may be fetched: HTTPS, or plain HTTP to a loopback host. */
function allowedUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return url.protocol === 'http:' && (/^127\./.test(host) || host === '::1' || host === 'localhost')
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export class GitHubAttestations {
  private readonly client = new HttpClient(`rocm-provenance/${ACTION_VERSION}`, [], {
    allowRedirects: false,
    socketTimeout: 30_000
  })
  private budgetMs: number
  private readonly totalBudgetMs: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly now: () => number
  /** Requests sent to the API and to bundle URLs. */
  requests = 0

  constructor(private readonly options: GitHubAttestationsOptions) {
    this.budgetMs = options.rateLimitBudgetMs ?? DEFAULT_RATE_LIMIT_BUDGET_MS
    this.totalBudgetMs = this.budgetMs
    this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)))
    this.now = options.now ?? Date.now
  }

  /**
   * Every bundle GitHub stores for `digest` in `repository` (`owner/name`),
   * optionally of one predicate type; none when the API answers 404 (no
   * attestation for that digest). Throws GitHubApiError: `GITHUB_API_AUTH`
   * (401/403 not a rate limit), `GITHUB_API_RATE_LIMITED` (past the budget),
   * `GITHUB_API_FAILED` (anything else, a bad page or bundle included).
   */
  async listBundles(
    repository: string,
    digest: Digest,
    predicateType?: string
  ): Promise<ListedBundle[]> {
    if (!REPOSITORY.test(repository))
      throw new GitHubApiError('GITHUB_API_FAILED', `"${repository}" is not owner/name`)
    const base = new URL(this.options.apiUrl.replace(/\/+$/, '') + '/')
    if (!allowedUrl(base))
      throw new GitHubApiError('GITHUB_API_FAILED', `${base.origin} is not HTTPS`)
    let url: URL | undefined = new URL(`repos/${repository}/attestations/${digest}`, base)
    url.searchParams.set('per_page', String(PER_PAGE))
    if (predicateType) url.searchParams.set('predicate_type', predicateType)
    const first = url
    const found: ListedBundle[] = []
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const { status, body, headers } = await this.getApi(url)
      if (status === 404) return found
      const entries = (parse(body, `GET ${url.pathname}`) as { attestations?: unknown })
        ?.attestations
      if (!Array.isArray(entries))
        throw new GitHubApiError('GITHUB_API_FAILED', `GET ${url.pathname}: no attestations list`)
      for (const entry of entries) found.push(await this.bundleOf(entry))
      const next = nextLink(header(headers.link))
      url = next ? new URL(next, url) : undefined
      if (url && (url.origin !== first.origin || url.pathname !== first.pathname))
        throw new GitHubApiError(
          'GITHUB_API_FAILED',
          `GET ${first.pathname}: the next page points elsewhere (${url.origin}${url.pathname})`
        )
    }
    return found
  }

  private async bundleOf(entry: unknown): Promise<ListedBundle> {
    const { bundle, bundle_url: bundleUrl } = (entry ?? {}) as Record<string, unknown>
    if (bundle && typeof bundle === 'object') return { bundle, shape: 'inline' }
    if (typeof bundleUrl !== 'string')
      throw new GitHubApiError(
        'GITHUB_API_FAILED',
        'an attestation has neither bundle nor bundle_url'
      )
    let url: URL
    try {
      url = new URL(bundleUrl)
    } catch (error: unknown) {
      throw new GitHubApiError('GITHUB_API_FAILED', 'an attestation bundle_url is not a URL', {
        cause: error
      })
    }
    if (!allowedUrl(url))
      throw new GitHubApiError('GITHUB_API_FAILED', `a bundle_url on ${url.origin} is not HTTPS`)
    // Blob storage: no credentials, and the signed URL never in a message.
    this.requests++
    const response = await this.client.get(url.href, { accept: 'application/octet-stream' })
    const status = response.message.statusCode ?? 0
    const compressed = await response.readBodyBuffer!()
    if (status !== 200)
      throw new GitHubApiError('GITHUB_API_FAILED', `a bundle_url answered HTTP ${status}`)
    if (compressed.length > MAX_BUNDLE_BYTES)
      throw new GitHubApiError('GITHUB_API_FAILED', 'a bundle is larger than 16 MiB')
    let text: string
    try {
      text = Buffer.from(uncompress(compressed, MAX_BUNDLE_BYTES)).toString('utf8')
    } catch (error: unknown) {
      throw new GitHubApiError('GITHUB_API_FAILED', 'a bundle_url is not Snappy-compressed', {
        cause: error
      })
    }
    return { bundle: parse(text, 'a bundle from bundle_url'), shape: 'bundle-url' }
  }

  /** One API GET; rate limits waited out within the budget, 5xx once more. */
  private async getApi(url: URL): Promise<{
    status: number
    body: string
    headers: Record<string, string | string[] | undefined>
  }> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION
    }
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`
    for (let attempt = 1; ; attempt++) {
      this.requests++
      const response = await this.client.get(url.href, headers)
      const status = response.message.statusCode ?? 0
      const body = await response.readBody()
      const answer = { status, body, headers: response.message.headers }
      if (status === 200 || status === 404) return answer
      const wait = this.rateLimitWait(status, answer.headers)
      if (wait !== undefined) {
        const resetAt = new Date(this.now() + wait).toISOString()
        if (wait > this.budgetMs)
          throw new GitHubApiError(
            'GITHUB_API_RATE_LIMITED',
            `GET ${url.pathname}: rate-limited until ${resetAt}, past this run's ${this.totalBudgetMs / 1000} s budget for the attestations API`,
            { resetAt }
          )
        this.budgetMs -= wait
        this.options.log?.(
          `GitHub attestations API rate-limited: waiting ${wait} ms (until ${resetAt})`
        )
        await this.sleep(wait)
        continue
      }
      if (status >= 500 && attempt < 2) continue
      const code = status === 401 || status === 403 ? 'GITHUB_API_AUTH' : 'GITHUB_API_FAILED'
      throw new GitHubApiError(code, `GET ${url.pathname}: HTTP ${status}`)
    }
  }

  /** Milliseconds to wait when the answer is a rate limit, else undefined. */
  private rateLimitWait(
    status: number,
    headers: Record<string, string | string[] | undefined>
  ): number | undefined {
    if (status !== 403 && status !== 429) return undefined
    const retryAfter = parseRetryAfter(header(headers['retry-after']), this.now())
    if (retryAfter !== undefined) return retryAfter
    if (header(headers['x-ratelimit-remaining']) === '0') {
      const reset = Number(header(headers['x-ratelimit-reset']))
      if (Number.isFinite(reset)) return Math.max(0, reset * 1000 - this.now())
    }
    // A secondary limit without a time: GitHub asks for at least a minute.
    return status === 429 ? 60_000 : undefined
  }
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error: unknown) {
    throw new GitHubApiError('GITHUB_API_FAILED', `${what} is not JSON`, { cause: error })
  }
}
