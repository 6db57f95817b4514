/**
 * GitHub's artifact attestations REST API: the Sigstore bundles GitHub stores
 * for a subject digest (`GET /repos/{owner}/{repo}/attestations/sha256:<hex>`
 * at `GITHUB_API_URL`). Both shapes of an entry are read: a bundle inline
 * (`bundle`, the older API version) or behind `bundle_url` (a Snappy-compressed
 * JSON bundle in GitHub's blob storage, fetched without credentials). Pages
 * follow `Link: rel="next"` on the same origin and path only. Every request
 * goes through the registry's HTTP transport: a deadline over headers and
 * body (60 s), a bounded body (32 MiB a page, 16 MiB a bundle), no redirect
 * followed, the token bound to the API's origin.
 *
 * When the run will ask about two or more digests of one owner (told by
 * `expectSubjects`), the first question lists them all at once through the
 * bulk endpoint (`POST /orgs/{org}/attestations/bulk-list`, else
 * `/users/{username}/…` for a personal account; body `subject_digests` and
 * `predicate_type`, pages by `page_info.next` as the `after` cursor). Its
 * entries cover every repository of the owner the token may read: they are
 * marked `scope: 'owner'`, and the caller keeps those whose certificate
 * attributes them to the signer's repository. Where the bulk endpoint is not
 * served (404 on both, e.g. an older GitHub Enterprise Server) or fails,
 * each digest is listed per repository as before, as is a digest the bulk
 * answer never names (only `null` says none); a rate limit past the
 * budget is the answer for all.
 *
 * Rate limits (403 or 429 with `retry-after`, or `x-ratelimit-remaining: 0`
 * with `x-ratelimit-reset`) are waited out while the run's budget for the API
 * lasts (30 s in all by default; each wait costs at least 1 s of it, so a
 * limit that asks no wait cannot be asked again without end); past it the listing ends as
 * `GITHUB_API_RATE_LIMITED` with the reset time, which the caller reports as
 * could-not-complete, never as "no attestations". Nothing here verifies a
 * bundle: that is cosign's work.
 */
import { uncompress } from 'snappyjs'
import { ProvenanceError, RegistryError, type GitHubApiErrorCode } from '../../domain/errors.js'
import { nextLink } from '../../domain/manifest.js'
import { showControlCharacters } from '../../domain/reference.js'
import type { GitHubApiSubject } from '../../domain/github-signer.js'
import type { Digest } from '../../domain/types.js'
import { KeyedGate } from '../../lib/keyed-gate.js'
import { parseRetryAfter } from '../../lib/retry.js'
import { HttpTransport } from '../registry/http.js'

/** The REST API version asked for (`X-GitHub-Api-Version`). */
const GITHUB_API_VERSION = '2022-11-28'
/** The run's total wait for the attestations API's rate limits. */
const DEFAULT_RATE_LIMIT_BUDGET_MS = 30_000
/**
 * The least a rate limit is waited and charged to the budget: a limit that
 * asks no wait (`retry-after: 0`, a reset already past) would else be asked
 * again without end.
 */
const MIN_RATE_LIMIT_WAIT_MS = 1_000
const PER_PAGE = 100
const MAX_PAGES = 10
/**
 * Digests per bulk request. GitHub documents no limit on `subject_digests`;
 * 100 keeps a request small, and a refused one falls back per repository.
 */
const BULK_DIGESTS = 100
/** Largest compressed and decompressed bundle read. */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024
/** Largest API page read (100 entries with their bundles inline). */
const MAX_PAGE_BYTES = 32 * 1024 * 1024
/** Each request's deadline, headers and body together. */
const DEFAULT_TIMEOUT_MS = 60_000
/**
 * Bundle URLs fetched at once by the whole client: a listing may name a
 * thousand, each up to 16 MiB, and the verifier judges at most 16 of them.
 */
const BUNDLE_FETCHES = 4
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

/**
 * One entry the API lists for a digest: a Sigstore bundle, or why the entry
 * cannot be read (one bad entry hides none of the others).
 */
export type ListedBundle = {
  /** Where: the API path and the entry's place, e.g. `repos/o/r/attestations/sha256:… #2 (inline)`. */
  where: string
} & (
  | {
      /** The bundle as JSON (`application/vnd.dev.sigstore.bundle…+json`). */
      bundle: unknown
      /** Which shape it came in: inline, or fetched from `bundle_url`. */
      shape: 'inline' | 'bundle-url'
      /** `repository`: listed for the repository asked; `owner`: by the bulk listing, any repository of the owner. */
      scope: 'repository' | 'owner'
    }
  | { problem: string }
)

/** The bulk listing of one owner's digests for one predicate type. */
type BulkAnswer =
  | {
      kind: 'listed'
      /** The API path that listed them, e.g. `orgs/rocm/attestations/bulk-list`. */
      path: string
      /**
       * The raw entries by digest (lower case), for each digest the answer
       * names (`null`: none). A digest it never names is not known to have none.
       */
      entries: Map<string, unknown[]>
      /** False when the page limit cut the listing short: absence then proves nothing. */
      complete: boolean
    }
  | { kind: 'not-served' }
  | { kind: 'failed'; error: GitHubApiError }

interface ApiAnswer {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

interface BulkGroup {
  owner: string
  predicateType?: string
  digests: Set<Digest>
  answer?: Promise<BulkAnswer>
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
  /** Each request's deadline, headers and body together (default 60 s). */
  timeoutMs?: number
  /** Largest API page read (default 32 MiB; a bundle URL's body: 16 MiB or this, the smaller). */
  maxBodyBytes?: number
}

/** Whether `url` may be fetched: HTTPS, or plain HTTP to a loopback host. */
function allowedUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true
  const host = url.hostname.replace(/^\[|\]$/g, '')
  return url.protocol === 'http:' && (/^127\./.test(host) || host === '::1' || host === 'localhost')
}

/** Plain HTTP only to a loopback host (the `host[:port]` of a URL). */
function loopbackHost(host: string): boolean {
  return allowedUrl(new URL(`http://${host}/`))
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export class GitHubAttestations {
  /** The API: a deadline per request, a bounded body, no redirect followed. */
  private readonly api: HttpTransport
  /** Bundle URLs (blob storage), the same with a bundle's bound. */
  private readonly blobs: HttpTransport
  private readonly blobGate = new KeyedGate({ limit: BUNDLE_FETCHES })
  private budgetMs: number
  private readonly totalBudgetMs: number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly now: () => number
  /** Requests sent to the API and to bundle URLs. */
  requests = 0
  /** Set once a rate limit outlasts the budget: later questions fail without a request. */
  private exhausted?: GitHubApiError
  private readonly groups = new Map<string, BulkGroup>()
  private readonly listings = new Map<string, Promise<ListedBundle[]>>()

  constructor(private readonly options: GitHubAttestationsOptions) {
    this.budgetMs = options.rateLimitBudgetMs ?? DEFAULT_RATE_LIMIT_BUDGET_MS
    this.totalBudgetMs = this.budgetMs
    this.sleep = options.sleep ?? (ms => new Promise(resolve => setTimeout(resolve, ms)))
    this.now = options.now ?? Date.now
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const pageBytes = options.maxBodyBytes ?? MAX_PAGE_BYTES
    const transport = (maxBodyBytes: number) =>
      new HttpTransport({ timeoutMs, allowsPlainHttp: loopbackHost, maxBodyBytes, maxRedirects: 0 })
    this.api = transport(pageBytes)
    this.blobs = transport(Math.min(pageBytes, MAX_BUNDLE_BYTES))
  }

  /** Whether the API is asked without a token (only public repositories' attestations are seen). */
  get anonymous(): boolean {
    return !this.options.token
  }

  /**
   * Tells the client which digests the run may ask about (domain
   * `gitHubApiSubjects`): an owner with two or more of them for one predicate
   * type is then listed with the bulk endpoint on the first question.
   */
  expectSubjects(subjects: readonly GitHubApiSubject[]): void {
    for (const subject of subjects) {
      if (!REPOSITORY.test(subject.repository)) continue
      const owner = subject.repository.split('/')[0]
      const key = groupKey(owner, subject.predicateType)
      const group = this.groups.get(key) ?? {
        owner,
        predicateType: subject.predicateType,
        digests: new Set<Digest>()
      }
      if (!group.answer) group.digests.add(subject.digest.toLowerCase() as Digest)
      this.groups.set(key, group)
    }
  }

  /**
   * Every bundle GitHub stores for `digest` in `repository` (`owner/name`),
   * optionally of one predicate type (a URI); none when the API answers 404
   * (no attestation for that digest). From the bulk listing when the digest
   * was expected with others of its owner (entries `scope: 'owner'`: any
   * repository of the owner), else from the repository's own listing. Asked
   * twice, answered once. An entry that cannot be read is a `problem` entry.
   * Throws GitHubApiError: `GITHUB_API_AUTH` (401/403 not a rate limit),
   * `GITHUB_API_RATE_LIMITED` (past the budget), `GITHUB_API_FAILED`
   * (anything else: unreachable, a page that is not the API's JSON).
   */
  listBundles(repository: string, digest: Digest, predicateType?: string): Promise<ListedBundle[]> {
    const key = `${repository.toLowerCase()} ${digest.toLowerCase()} ${predicateType ?? ''}`
    let listing = this.listings.get(key)
    if (!listing) {
      listing = this.list(repository, digest.toLowerCase() as Digest, predicateType)
      this.listings.set(key, listing)
    }
    return listing
  }

  private async list(
    repository: string,
    digest: Digest,
    predicateType: string | undefined
  ): Promise<ListedBundle[]> {
    if (!REPOSITORY.test(repository))
      throw new GitHubApiError('GITHUB_API_FAILED', `"${repository}" is not owner/name`)
    const base = this.base()
    const group = this.groups.get(groupKey(repository.split('/')[0], predicateType))
    if (group && group.digests.size >= 2 && group.digests.has(digest)) {
      group.answer ??= this.bulkList(base, group)
      const answer = await group.answer
      if (answer.kind === 'failed' && answer.error.code === 'GITHUB_API_RATE_LIMITED')
        throw answer.error
      // A digest the answer never names is asked of its repository.
      const entries =
        answer.kind === 'listed' && answer.complete ? answer.entries.get(digest) : undefined
      if (answer.kind === 'listed' && entries) {
        return Promise.all(
          entries.map((entry, i) =>
            this.bundleOf(entry, `${answer.path}: ${digest} #${i + 1}`, 'owner')
          )
        )
      }
    }
    return this.listRepository(base, repository, digest, predicateType)
  }

  private base(): URL {
    const base = new URL(this.options.apiUrl.replace(/\/+$/, '') + '/')
    if (!allowedUrl(base))
      throw new GitHubApiError('GITHUB_API_FAILED', `${base.origin} is not HTTPS`)
    return base
  }

  /** `GET /repos/{owner}/{repo}/attestations/{digest}`, every page. */
  private async listRepository(
    base: URL,
    repository: string,
    digest: Digest,
    predicateType: string | undefined
  ): Promise<ListedBundle[]> {
    const path = `repos/${repository}/attestations/${digest}`
    let url: URL | undefined = new URL(path, base)
    url.searchParams.set('per_page', String(PER_PAGE))
    if (predicateType) url.searchParams.set('predicate_type', predicateType)
    const first = url
    const raw: unknown[] = []
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const { status, body, headers } = await this.callApi('GET', url)
      if (status === 404) {
        // None, on the first page; on a later one, the listing is not all there.
        if (page === 0) break
        throw new GitHubApiError(
          'GITHUB_API_FAILED',
          `GET ${url.pathname}: HTTP 404 on a later page`
        )
      }
      const entries = (parse(body, `GET ${url.pathname}`) as { attestations?: unknown })
        ?.attestations
      if (!Array.isArray(entries))
        throw new GitHubApiError('GITHUB_API_FAILED', `GET ${url.pathname}: no attestations list`)
      raw.push(...(entries as unknown[]))
      url = sameListing(first, nextLink(header(headers.link)), url)
    }
    return Promise.all(
      raw.map((entry, i) => this.bundleOf(entry, `${path} #${i + 1}`, 'repository'))
    )
  }

  /**
   * The bulk listing of a group's digests: the organization's endpoint, else
   * the user's; `not-served` when both answer 404. Never throws: a failure is
   * an answer, so every digest of the group gets the same one.
   */
  private async bulkList(base: URL, group: BulkGroup): Promise<BulkAnswer> {
    const digests = [...group.digests]
    try {
      for (const account of ['orgs', 'users'] as const) {
        const path = `${account}/${group.owner}/attestations/bulk-list`
        const entries = new Map<string, unknown[]>()
        let complete = true
        let served = true
        for (let at = 0; at < digests.length && served; at += BULK_DIGESTS) {
          const chunk = digests.slice(at, at + BULK_DIGESTS)
          const listed = await this.bulkPages(new URL(path, base), chunk, group.predicateType)
          if (listed === 'not-served') served = false
          else {
            complete &&= listed.complete
            for (const [digest, list] of listed.entries)
              entries.set(digest, [...(entries.get(digest) ?? []), ...list])
          }
        }
        if (served) return { kind: 'listed', path, entries, complete }
      }
      this.options.log?.(
        `GitHub attestations API: no bulk listing for ${group.owner}; listing each repository`
      )
      return { kind: 'not-served' }
    } catch (error: unknown) {
      const failure =
        error instanceof GitHubApiError
          ? error
          : new GitHubApiError('GITHUB_API_FAILED', 'the bulk listing failed', { cause: error })
      if (failure.code !== 'GITHUB_API_RATE_LIMITED')
        this.options.log?.(
          `GitHub attestations API: the bulk listing for ${group.owner} failed (${failure.message}); listing each repository`
        )
      return { kind: 'failed', error: failure }
    }
  }

  /** Every page of one bulk request; `not-served` on a first-page 404. */
  private async bulkPages(
    endpoint: URL,
    digests: readonly Digest[],
    predicateType: string | undefined
  ): Promise<'not-served' | { entries: Map<string, unknown[]>; complete: boolean }> {
    const body = JSON.stringify({
      subject_digests: digests,
      ...(predicateType && { predicate_type: predicateType })
    })
    const entries = new Map<string, unknown[]>()
    const first = new URL(endpoint)
    first.searchParams.set('per_page', String(PER_PAGE))
    let url: URL | undefined = first
    for (let page = 0; url; page++) {
      if (page === MAX_PAGES) return { entries, complete: false }
      const answer = await this.callApi('POST', url, body)
      if (answer.status === 404) {
        if (page === 0) return 'not-served'
        throw new GitHubApiError(
          'GITHUB_API_FAILED',
          `POST ${url.pathname}: HTTP 404 on a later page`
        )
      }
      const parsed = parse(answer.body, `POST ${url.pathname}`) as {
        attestations_subject_digests?: unknown
        page_info?: { has_next?: unknown; next?: unknown }
      } | null
      for (const [digest, list] of bulkEntries(parsed?.attestations_subject_digests, url))
        entries.set(digest, [...(entries.get(digest) ?? []), ...list])
      url = sameListing(
        first,
        nextLink(header(answer.headers.link)) ?? afterCursor(url, parsed?.page_info),
        url
      )
    }
    return { entries, complete: true }
  }

  /** One listed entry as a bundle: inline, or fetched from its `bundle_url`. */
  private async bundleOf(
    entry: unknown,
    where: string,
    scope: 'repository' | 'owner'
  ): Promise<ListedBundle> {
    const { bundle, bundle_url: bundleUrl } = (entry ?? {}) as Record<string, unknown>
    if (bundle && typeof bundle === 'object')
      return { where: `${where} (inline)`, bundle, shape: 'inline', scope }
    const at = `${where} (bundle-url)`
    if (typeof bundleUrl !== 'string')
      return { where, problem: 'the attestation has neither bundle nor bundle_url' }
    let url: URL
    try {
      url = new URL(bundleUrl)
    } catch {
      return { where: at, problem: 'its bundle_url is not a URL' }
    }
    if (!allowedUrl(url))
      return { where: at, problem: `its bundle_url on ${url.origin} is not HTTPS` }
    // Blob storage: no credentials, and the signed URL never in a message
    // (the transport's errors name it, so none of their text is kept).
    this.requests++
    let status: number
    let compressed: Buffer
    try {
      const response = await this.blobGate.run('bundle-url', () =>
        this.blobs.send({ method: 'GET', url, headers: { accept: 'application/octet-stream' } })
      )
      status = response.status
      compressed = response.body
    } catch (error: unknown) {
      return { where: at, problem: `its bundle_url ${unreadBecause(error)}` }
    }
    if (status !== 200) return { where: at, problem: `its bundle_url answered HTTP ${status}` }
    let text: string
    try {
      text = Buffer.from(uncompress(compressed, MAX_BUNDLE_BYTES)).toString('utf8')
    } catch {
      return { where: at, problem: 'its bundle_url is not Snappy-compressed' }
    }
    try {
      return { where: at, bundle: JSON.parse(text) as unknown, shape: 'bundle-url', scope }
    } catch {
      return { where: at, problem: 'its bundle is not JSON' }
    }
  }

  /**
   * One API request (GET, or POST with a JSON body); rate limits waited out
   * within the budget, 5xx asked once more. 200 and 404 are answers; anything
   * else throws GitHubApiError. Once a rate limit has outlasted the budget,
   * every later call throws that at once, without a request.
   */
  private async callApi(method: 'GET' | 'POST', url: URL, body?: string): Promise<ApiAnswer> {
    if (this.exhausted) throw this.exhausted
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION,
      ...(body !== undefined && { 'content-type': 'application/json' })
    }
    // The token is bound to the API's origin: the transport sends it nowhere else.
    const authorization = this.options.token
      ? { value: `Bearer ${this.options.token}`, origin: this.base().origin }
      : undefined
    for (let attempt = 1; ; attempt++) {
      this.requests++
      let answer: ApiAnswer
      try {
        const response = await this.api.send({ method, url, headers, body, authorization })
        answer = {
          status: response.status,
          body: response.body.toString('utf8'),
          headers: response.headers
        }
      } catch (error: unknown) {
        throw new GitHubApiError('GITHUB_API_FAILED', `${method} ${url.pathname}: no answer`, {
          cause: error
        })
      }
      const { status } = answer
      if (status === 200 || status === 404) return answer
      const asked = this.rateLimitWait(status, answer.headers)
      if (asked !== undefined) {
        const wait = Math.max(asked, MIN_RATE_LIMIT_WAIT_MS)
        const resetAt = new Date(this.now() + wait).toISOString()
        if (wait > this.budgetMs) {
          this.exhausted = new GitHubApiError(
            'GITHUB_API_RATE_LIMITED',
            `${method} ${url.pathname}: rate-limited until ${resetAt}, past this run's ${this.totalBudgetMs / 1000} s budget for the attestations API`,
            { resetAt }
          )
          throw this.exhausted
        }
        this.budgetMs -= wait
        this.options.log?.(
          `GitHub attestations API rate-limited: waiting ${wait} ms (until ${resetAt})`
        )
        await this.sleep(wait)
        continue
      }
      if (status >= 500 && attempt < 2) continue
      if (status === 401 || status === 403)
        throw new GitHubApiError(
          'GITHUB_API_AUTH',
          `${method} ${url.pathname}: HTTP ${status}${githubMessage(answer.body)}; ${
            this.options.token
              ? 'the token may not read attestations: give the job `permissions: attestations: read` (a fine-grained token: Attestations read)'
              : 'no token was sent: pass `github-token` (GITHUB_TOKEN for the command line) with `attestations: read`'
          }`
        )
      throw new GitHubApiError(
        'GITHUB_API_FAILED',
        `${method} ${url.pathname}: HTTP ${status}${githubMessage(answer.body)}`
      )
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

/** Why a bundle URL could not be read, in words that name neither the URL nor its query. */
function unreadBecause(error: unknown): string {
  if (error instanceof RegistryError) {
    if (error.code === 'REGISTRY_TIMEOUT') return 'gave no complete answer in time'
    if (/body exceeds/.test(error.message)) return 'answered a body larger than a bundle may be'
    if (error.code === 'REGISTRY_PROTOCOL' && error.status !== undefined)
      return `answered a redirect (HTTP ${error.status}), not followed`
  }
  const code = (error as { cause?: { code?: unknown }; code?: unknown } | null)?.cause?.code
  return `cannot be read${typeof code === 'string' ? ` (${code})` : ''}`
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error: unknown) {
    throw new GitHubApiError('GITHUB_API_FAILED', `${what} is not JSON`, { cause: error })
  }
}

function groupKey(owner: string, predicateType: string | undefined): string {
  return `${owner.toLowerCase()} ${predicateType ?? ''}`
}

/**
 * The next page's URL, or undefined at the end. Throws GITHUB_API_FAILED when
 * it leaves the listing's origin or path (a page may not send the token elsewhere).
 */
function sameListing(first: URL, next: string | undefined, current: URL): URL | undefined {
  if (next === undefined) return undefined
  const url = new URL(next, current)
  if (url.origin !== first.origin || url.pathname !== first.pathname)
    throw new GitHubApiError(
      'GITHUB_API_FAILED',
      `${first.pathname}: the next page points elsewhere (${url.origin}${url.pathname})`
    )
  return url
}

/** The bulk listing's next page from `page_info` (`has_next`, `next` as the `after` cursor). */
function afterCursor(
  current: URL,
  pageInfo: { has_next?: unknown; next?: unknown } | undefined
): string | undefined {
  if (pageInfo?.has_next !== true || typeof pageInfo.next !== 'string' || pageInfo.next === '')
    return undefined
  const url = new URL(current)
  url.searchParams.set('after', pageInfo.next)
  return url.href
}

/**
 * The entries of a bulk answer's `attestations_subject_digests`, by digest
 * (lower case): an object of digest → list (or null), as the REST schema
 * says; a list of such objects, as GitHub's documented example shows, is read
 * the same. Throws GITHUB_API_FAILED on anything else.
 */
function bulkEntries(value: unknown, url: URL): [string, unknown[]][] {
  const maps = Array.isArray(value) ? value : [value]
  const found: [string, unknown[]][] = []
  for (const map of maps) {
    if (typeof map !== 'object' || map === null || Array.isArray(map))
      throw new GitHubApiError(
        'GITHUB_API_FAILED',
        `POST ${url.pathname}: no attestations_subject_digests object`
      )
    for (const [digest, list] of Object.entries(map as Record<string, unknown>)) {
      if (list === null) {
        found.push([digest.toLowerCase(), []])
        continue
      }
      if (!Array.isArray(list))
        throw new GitHubApiError(
          'GITHUB_API_FAILED',
          `POST ${url.pathname}: the entry of ${digest} is not a list`
        )
      found.push([digest.toLowerCase(), list as unknown[]])
    }
  }
  return found
}

/**
 * GitHub's own words of an error answer (`{"message": …}`), quoted and cut to
 * 200 characters, control characters shown; empty when the body has none.
 */
function githubMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown } | null)?.message
    return typeof message === 'string' && message !== ''
      ? ` (${JSON.stringify(showControlCharacters(message.slice(0, 200)))})`
      : ''
  } catch {
    return ''
  }
}
