/**
 * A read-only OCI distribution client: what a tag points at, whether a
 * manifest exists, which tags a repository has. Authentication, retries,
 * timeouts and the credential-safe transport live in auth.ts, retry.ts and
 * http.ts; this file speaks the distribution API and checks every manifest
 * body it reads against the digest it was claimed or asked to have.
 */
import { createHash } from 'node:crypto'
import { isDigest } from '../../domain/reference.js'
import type { Digest, RegistryThrottle } from '../../domain/types.js'
import { KeyedGate } from '../../lib/keyed-gate.js'
import { Authenticator, headerValue, type Send } from './auth.js'
import type { CredentialStore } from './credentials.js'
import { InputError } from '../../domain/errors.js'
import {
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  MAX_TAG_LENGTH,
  normalizeRegistryHost
} from '../../domain/reference.js'
import { RegistryError, describeRegistryError } from '../../domain/errors.js'
import { errorForStatus } from './errors.js'
import { HttpTransport, type HttpResponse } from './http.js'
import {
  MANIFEST_ACCEPT,
  OCI_INDEX,
  isIndexMediaType,
  nextLink,
  parseIndexPlatforms,
  declaredArtifactType,
  formatPlatform,
  OCI_EMPTY,
  parseReferrers,
  referrersTag,
  type ReferrerDescriptor,
  type ManifestInfo,
  type PlatformManifest,
  type RequestCounter
} from '../../domain/manifest.js'
import {
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  withRetry,
  type RetryPolicy
} from '../../lib/retry.js'

export type { ManifestInfo, PlatformManifest, RequestCounter }

export const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_TAGS_PAGE_SIZE = 1000
const MAX_TAG_PAGES = 1000
/** Distinct tags kept from one listing: far above any real repository's count. */
export const MAX_TAGS = 100_000
/** Referrer manifests read to learn their artifact type (tag schema only). */
const MAX_REFERRERS_INSPECTED = 32
/** Distribution spec: a tag, or any algorithm's digest. */
const REFERENCE_PATTERN =
  /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[A-Za-z0-9=_-]+)$/
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const REPOSITORY_PATTERN = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)

export interface RegistryClientOptions {
  credentials: CredentialStore
  /** `host[:port]` entries that are spoken to over plain HTTP; a bare host matches any port. */
  insecureRegistries: string[]
  /** Per request, headers and body together. */
  timeoutMs?: number
  /** Attempts per request, the first included. */
  maxAttempts?: number
  maskSecret?: (secret: string) => void
  log?: (message: string) => void
  /** Tags asked for per page of `listTags`. */
  tagsPageSize?: number
  /** Backoff settings other than `maxAttempts` (tests shorten them). */
  retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>
  /** Requests in flight per registry (policy `registry_concurrency`; settable later). */
  registryConcurrency?: number
}

/** Requests in flight per registry until the policy says otherwise (policy `registry_concurrency`'s default). */
const DEFAULT_REGISTRY_CONCURRENCY = 8

function sha256Digest(body: Buffer): Digest {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`
}

/** The host the API is served from: Docker Hub's is not `docker.io`. */
export function registryApiHost(registry: string): string {
  return normalizeRegistryHost(registry) === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry
}

/** Docker Hub's official images live under `library/`. */
export function apiRepositoryPath(registry: string, repositoryPath: string): string {
  return normalizeRegistryHost(registry) === DOCKER_HUB && !repositoryPath.includes('/')
    ? `library/${repositoryPath}`
    : repositoryPath
}

function mediaTypeOf(response: HttpResponse): string {
  const type = headerValue(response.headers['content-type'])
  return type ? type.split(';')[0].trim() : ''
}

/** A registry's JSON answer, or RegistryError (`REGISTRY_PROTOCOL`) naming what was read. */
function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (error: unknown) {
    throw new RegistryError('REGISTRY_PROTOCOL', `${what} is not JSON`, { cause: error })
  }
}

function claimedDigest(response: HttpResponse): Digest | undefined {
  const claimed = headerValue(response.headers['docker-content-digest'])?.trim()
  return claimed && isDigest(claimed) ? claimed : undefined
}

export class RegistryClient {
  private readonly transport: HttpTransport
  private readonly auth: Authenticator
  private readonly policy: RetryPolicy
  private readonly log: (message: string) => void
  private readonly tagsPageSize: number
  private readonly insecure: Set<string>
  private readonly resolved = new Map<string, Promise<ManifestInfo>>()
  private readonly inspected = new Map<string, Promise<ManifestInfo | undefined>>()
  /** Per registry: requests in flight, and the back-off every request shares. */
  private readonly gate: KeyedGate

  constructor(options: RegistryClientOptions) {
    this.gate = new KeyedGate({
      limit: options.registryConcurrency ?? DEFAULT_REGISTRY_CONCURRENCY
    })
    this.insecure = new Set(options.insecureRegistries.map(host => host.trim().toLowerCase()))
    this.transport = new HttpTransport({
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      allowsPlainHttp: host => this.allowsPlainHttp(host)
    })
    this.auth = new Authenticator({
      credentials: options.credentials,
      maskSecret: options.maskSecret ?? (() => undefined)
    })
    this.policy = {
      ...DEFAULT_RETRY_POLICY,
      ...options.retry,
      maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts)
    }
    this.log = options.log ?? (() => undefined)
    this.tagsPageSize = options.tagsPageSize ?? DEFAULT_TAGS_PAGE_SIZE
  }

  /** Requests in flight per registry from now on (policy `registry_concurrency`). */
  setRegistryConcurrency(limit: number): void {
    this.gate.setLimit(limit)
  }

  /** Resolves once `registry` is not under a Retry-After back-off (for cosign's own requests). */
  clearance(registry: string): Promise<void> {
    return this.gate.clearance(registry)
  }

  /** Registries that asked to slow down (429/503 with Retry-After), and for how long all waited. */
  throttles(): RegistryThrottle[] {
    return this.gate.records().map(record => ({
      registry: record.key,
      responses: record.responses,
      firstAt: new Date(record.firstAtMs).toISOString(),
      waitedMs: Math.round(record.waitedMs)
    }))
  }

  /** Every HTTP request this client has sent (token requests and redirects included). */
  get requestCount(): number {
    return this.transport.requestCount
  }

  /**
   * What `tag` points at now: a HEAD with every manifest type accepted; a GET
   * when the registry gives no digest (the body's digest is computed), and a
   * GET of an index to list its platforms. Each (registry, path, tag) is
   * asked once per client; later calls share the answer.
   */
  resolveTag(
    registry: string,
    repositoryPath: string,
    tag: string,
    counter?: RequestCounter
  ): Promise<ManifestInfo> {
    const key = `${registry}/${repositoryPath}:${tag}`
    let pending = this.resolved.get(key)
    if (!pending) {
      pending = this.resolve(registry, repositoryPath, tag, counter)
      this.resolved.set(key, pending)
    }
    return pending
  }

  /** HEAD of a manifest: false on 404; any other trouble throws `RegistryError`. */
  async manifestExists(
    registry: string,
    repositoryPath: string,
    digestOrTag: string,
    counter?: RequestCounter
  ): Promise<boolean> {
    return (
      (await this.inspectManifest(registry, repositoryPath, digestOrTag, counter)) !== undefined
    )
  }

  /** HEAD of a manifest: its digest and media type, or undefined on 404. */
  inspectManifest(
    registry: string,
    repositoryPath: string,
    digestOrTag: string,
    counter?: RequestCounter
  ): Promise<ManifestInfo | undefined> {
    const key = `${registry}/${repositoryPath}@${digestOrTag}`
    let pending = this.inspected.get(key)
    if (!pending) {
      pending = this.head(registry, repositoryPath, digestOrTag, counter).then(
        response => {
          const digest =
            claimedDigest(response) ?? (isDigest(digestOrTag) ? digestOrTag : undefined)
          return digest
            ? { digest, mediaType: mediaTypeOf(response) }
            : this.getManifest(registry, repositoryPath, digestOrTag, counter)
        },
        (error: unknown) => {
          if (error instanceof RegistryError && error.code === 'REGISTRY_NOT_FOUND')
            return undefined
          throw error
        }
      )
      this.inspected.set(key, pending)
    }
    return pending
  }

  /**
   * Every tag of the repository, following `Link` pagination: distinct tags in
   * first-seen order. Bounded by what the client decides, not by what the
   * registry says: at most `MAX_TAG_PAGES` pages, `MAX_TAGS` distinct tags
   * (more throws `REGISTRY_PROTOCOL`), and a `next` page already fetched
   * (a page naming itself, a loop) ends the listing. A `next` page on another
   * origin is fetched without the registry's credentials (see `call`).
   */
  async listTags(
    registry: string,
    repositoryPath: string,
    counter?: RequestCounter
  ): Promise<string[]> {
    const tags = new Set<string>()
    const seen = new Set<string>()
    let url: URL | undefined = new URL(
      `${this.repositoryUrl(registry, repositoryPath)}/tags/list?n=${this.tagsPageSize}`
    )
    for (let page = 0; url && page < MAX_TAG_PAGES && !seen.has(url.href); page++) {
      seen.add(url.href)
      const response = await this.call(
        registry,
        repositoryPath,
        'GET',
        url,
        'application/json',
        counter
      )
      const json = parseJson(response.body, `GET ${url.href}: the tag list`)
      const pageTags = (json as { tags?: unknown } | null)?.tags
      if (Array.isArray(pageTags))
        for (const tag of pageTags) {
          if (typeof tag !== 'string' || tag.length > MAX_TAG_LENGTH || tags.has(tag)) continue
          if (tags.size >= MAX_TAGS)
            throw new RegistryError(
              'REGISTRY_PROTOCOL',
              `GET ${url.href}: ${registry}/${repositoryPath} lists more than ${MAX_TAGS} tags; not reading further`
            )
          tags.add(tag)
        }
      const next = nextLink(headerValue(response.headers.link))
      url = next ? new URL(next, url) : undefined
    }
    return [...tags]
  }

  /**
   * The platform (`os/arch[/variant]`) an image manifest is built for, read
   * from its config blob (OCI image spec: `os`, `architecture`, `variant`);
   * undefined when the config names none. The manifest and the blob are
   * checked against their digests. Trouble throws RegistryError.
   */
  async readPlatform(
    registry: string,
    repositoryPath: string,
    digest: Digest,
    counter?: RequestCounter
  ): Promise<string | undefined> {
    const url = this.manifestUrl(registry, repositoryPath, digest)
    const response = await this.call(registry, repositoryPath, 'GET', url, MANIFEST_ACCEPT, counter)
    if (sha256Digest(response.body) !== digest)
      throw new RegistryError('REGISTRY_PROTOCOL', `GET ${url.href}: the manifest is not ${digest}`)
    const config = (
      parseJson(response.body, `GET ${url.href}: the manifest`) as {
        config?: { digest?: unknown }
      } | null
    )?.config?.digest
    if (typeof config !== 'string' || !isDigest(config)) return undefined
    const blob = new URL(`${this.repositoryUrl(registry, repositoryPath)}/blobs/${config}`)
    const answer = await this.call(registry, repositoryPath, 'GET', blob, '*/*', counter)
    if (sha256Digest(answer.body) !== config)
      throw new RegistryError('REGISTRY_PROTOCOL', `GET ${blob.href}: the blob is not ${config}`)
    return formatPlatform(parseJson(answer.body, `GET ${blob.href}: the image config`))
  }

  /**
   * The referrers of `digest` (OCI distribution spec 1.1): the referrers API
   * (`GET /v2/<name>/referrers/<digest>`, paged by `Link`), else, where the
   * registry answers 404 because it has no such API, the index under the
   * referrers tag schema (`sha256-<hex>`); none when neither exists. With
   * `artifactType` only those referrers are kept (the filter is applied here
   * too: a registry may ignore it). Same auth, token reuse and retries as the
   * digest checks; other trouble throws RegistryError.
   */
  async listReferrers(
    registry: string,
    repositoryPath: string,
    digest: Digest,
    options: { artifactType?: string; counter?: RequestCounter } = {}
  ): Promise<ReferrerDescriptor[]> {
    const { artifactType, counter } = options
    const keep = (found: ReferrerDescriptor[]): ReferrerDescriptor[] =>
      artifactType ? found.filter(d => d.artifactType === artifactType) : found
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''
    let url: URL | undefined = new URL(
      `${this.repositoryUrl(registry, repositoryPath)}/referrers/${digest}${query}`
    )
    const found: ReferrerDescriptor[] = []
    try {
      for (let page = 0; url && page < MAX_TAG_PAGES; page++) {
        const response = await this.call(registry, repositoryPath, 'GET', url, OCI_INDEX, counter)
        found.push(...parseReferrers(parseJson(response.body, `GET ${url.href}`)))
        const next = nextLink(headerValue(response.headers.link))
        url = next ? new URL(next, url) : undefined
      }
      return keep(found).map(d => ({ ...d, via: 'referrers-api' as const }))
    } catch (error: unknown) {
      if (!(error instanceof RegistryError) || error.code !== 'REGISTRY_NOT_FOUND') throw error
    }
    const tag = referrersTag(digest)
    if (!(await this.manifestExists(registry, repositoryPath, tag, counter))) return []
    const index = this.manifestUrl(registry, repositoryPath, tag)
    const response = await this.call(registry, repositoryPath, 'GET', index, OCI_INDEX, counter)
    const listed = parseReferrers(parseJson(response.body, `GET ${index.href}`))
    return keep(await this.withArtifactTypes(registry, repositoryPath, listed, counter)).map(d => ({
      ...d,
      via: 'referrers-tag' as const
    }))
  }

  /**
   * The first layer of an artifact manifest (a referrer) whose media type is
   * `layerMediaType` — for a Sigstore bundle referrer, the bundle itself. The
   * manifest and the blob are checked against their digests; at most
   * `maxBytes` are accepted. Undefined when the manifest has no such layer.
   * Trouble throws RegistryError.
   */
  async readArtifactLayer(
    registry: string,
    repositoryPath: string,
    manifestDigest: Digest,
    layerMediaType: string,
    options: { maxBytes?: number; counter?: RequestCounter } = {}
  ): Promise<Buffer | undefined> {
    const { counter, maxBytes = 16 * 1024 * 1024 } = options
    const url = this.manifestUrl(registry, repositoryPath, manifestDigest)
    const response = await this.call(registry, repositoryPath, 'GET', url, MANIFEST_ACCEPT, counter)
    if (sha256Digest(response.body) !== manifestDigest)
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `GET ${url.href}: the manifest is not ${manifestDigest}`
      )
    const layers = (parseJson(response.body, `GET ${url.href}`) as { layers?: unknown } | null)
      ?.layers
    const layer = (Array.isArray(layers) ? layers : []).find(
      (entry): entry is { digest: string; size?: unknown } =>
        typeof entry === 'object' &&
        entry !== null &&
        (entry as { mediaType?: unknown }).mediaType === layerMediaType &&
        typeof (entry as { digest?: unknown }).digest === 'string' &&
        isDigest((entry as { digest: string }).digest)
    )
    if (!layer) return undefined
    if (typeof layer.size === 'number' && layer.size > maxBytes)
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `${layer.digest} is ${layer.size} bytes, more than the ${maxBytes} accepted`
      )
    const blob = new URL(`${this.repositoryUrl(registry, repositoryPath)}/blobs/${layer.digest}`)
    const answer = await this.call(registry, repositoryPath, 'GET', blob, '*/*', counter)
    if (answer.body.length > maxBytes || sha256Digest(answer.body) !== layer.digest)
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `GET ${blob.href}: the blob is not ${layer.digest}`
      )
    return answer.body
  }

  /**
   * Tag schema entries whose `artifactType` is missing or the empty config's
   * type, with the type the referrer's manifest declares (what a referrers API
   * reports). cosign 3.1 writes its bundles' entries that way: the index says
   * `application/vnd.oci.empty.v1+json` where the manifest says
   * `application/vnd.dev.sigstore.bundle.v0.3+json`. At most
   * MAX_REFERRERS_INSPECTED manifests are read; the rest stay as listed.
   */
  private async withArtifactTypes(
    registry: string,
    repositoryPath: string,
    listed: ReferrerDescriptor[],
    counter?: RequestCounter
  ): Promise<ReferrerDescriptor[]> {
    let inspected = 0
    const resolved: ReferrerDescriptor[] = []
    for (const descriptor of listed) {
      const vague = !descriptor.artifactType || descriptor.artifactType === OCI_EMPTY
      if (!vague || inspected >= MAX_REFERRERS_INSPECTED) {
        resolved.push(descriptor)
        continue
      }
      inspected++
      const url = this.manifestUrl(registry, repositoryPath, descriptor.digest)
      const response = await this.call(
        registry,
        repositoryPath,
        'GET',
        url,
        MANIFEST_ACCEPT,
        counter
      )
      if (sha256Digest(response.body) !== descriptor.digest)
        throw new RegistryError(
          'REGISTRY_PROTOCOL',
          `GET ${url.href}: the manifest's digest is not the ${descriptor.digest} asked for`
        )
      const artifactType = declaredArtifactType(parseJson(response.body, `GET ${url.href}`))
      resolved.push(artifactType ? { ...descriptor, artifactType } : descriptor)
    }
    return resolved
  }

  /** Lets idle keep-alive connections go. */
  close(): void {
    this.transport.close()
  }

  private async resolve(
    registry: string,
    repositoryPath: string,
    tag: string,
    counter?: RequestCounter
  ): Promise<ManifestInfo> {
    const response = await this.head(registry, repositoryPath, tag, counter)
    const digest = claimedDigest(response)
    const mediaType = mediaTypeOf(response)
    if (!digest) return this.getManifest(registry, repositoryPath, tag, counter)
    if (mediaType === '' || isIndexMediaType(mediaType))
      return this.getManifest(registry, repositoryPath, digest, counter)
    return { digest, mediaType }
  }

  private async head(
    registry: string,
    repositoryPath: string,
    reference: string,
    counter?: RequestCounter
  ): Promise<HttpResponse> {
    return this.call(
      registry,
      repositoryPath,
      'HEAD',
      this.manifestUrl(registry, repositoryPath, reference),
      MANIFEST_ACCEPT,
      counter
    )
  }

  /** GET of a manifest, its body checked against the digest claimed and the digest asked for. */
  private async getManifest(
    registry: string,
    repositoryPath: string,
    reference: string,
    counter?: RequestCounter
  ): Promise<ManifestInfo> {
    const url = this.manifestUrl(registry, repositoryPath, reference)
    const response = await this.call(registry, repositoryPath, 'GET', url, MANIFEST_ACCEPT, counter)
    const digest = sha256Digest(response.body)
    const claimed = claimedDigest(response)
    const expected = isDigest(reference) ? reference : claimed
    if ((claimed && claimed !== digest) || (expected && expected !== digest))
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `GET ${url.href}: the manifest's digest is ${digest}, not the ${expected ?? claimed} claimed`
      )
    const json = parseJson(response.body, `GET ${url.href}: the manifest`)
    const declared = (json as { mediaType?: unknown } | null)?.mediaType
    const mediaType = mediaTypeOf(response) || (typeof declared === 'string' ? declared : '')
    const isIndex =
      isIndexMediaType(mediaType) ||
      (mediaType === '' && Array.isArray((json as { manifests?: unknown } | null)?.manifests))
    return isIndex
      ? { digest, mediaType: mediaType || OCI_INDEX, platforms: parseIndexPlatforms(json) }
      : { digest, mediaType }
  }

  private baseUrl(registry: string): string {
    const host = registryApiHost(registry)
    return `${this.allowsPlainHttp(host) ? 'http' : 'https'}://${host}`
  }

  /** Listed in insecure-registries, as `host:port` or as a bare host (any port). */
  private allowsPlainHttp(host: string): boolean {
    const lower = host.toLowerCase()
    return this.insecure.has(lower) || this.insecure.has(lower.replace(/:\d+$/, ''))
  }

  private manifestUrl(registry: string, repositoryPath: string, reference: string): URL {
    if (!REFERENCE_PATTERN.test(reference))
      throw new InputError(`"${reference}" is neither a tag nor a digest`)
    return new URL(`${this.repositoryUrl(registry, repositoryPath)}/manifests/${reference}`)
  }

  private repositoryUrl(registry: string, repositoryPath: string): string {
    if (!REPOSITORY_PATTERN.test(repositoryPath))
      throw new InputError(`"${repositoryPath}" is not a valid repository path`)
    return `${this.baseUrl(registry)}/v2/${apiRepositoryPath(registry, repositoryPath)}`
  }

  /**
   * One API call with authentication and retries: anonymous (or with what the
   * registry's known scheme needs), then once more after a 401 challenge.
   * Returns a 2xx response; anything else throws `RegistryError`.
   */
  private call(
    registry: string,
    repositoryPath: string,
    method: 'GET' | 'HEAD',
    url: URL,
    accept: string,
    counter?: RequestCounter
  ): Promise<HttpResponse> {
    const scope = `repository:${apiRepositoryPath(registry, repositoryPath)}:pull`
    // Each request holds one of the registry's slots until its answer is read,
    // and a request told to slow down sets the back-off before letting go of
    // its slot: every request to this registry waits, not only this one.
    const send: Send = request =>
      this.gate.run(registry, async () => {
        const response = await this.transport.send(request, () => {
          if (counter) counter.requests++
        })
        this.noteSlowDown(registry, response)
        return response
      })
    const what = `${method} ${url.href}`
    return withRetry(
      async () => {
        // Credentials are bound to the registry's own origin, never to `url`'s:
        // a tag list's `Link` may name any origin.
        const origin = new URL(this.baseUrl(registry)).origin
        const bind = (value: string | undefined) =>
          value === undefined ? undefined : { value, origin }
        let authorization = await this.auth.authorizationFor(registry, scope, send)
        let response = await send({
          method,
          url,
          headers: { accept },
          authorization: bind(authorization)
        })
        if (response.status === 401 && response.url.origin !== origin)
          // Only the registry's own challenge is answered: another origin (a
          // `Link` page, a redirect) must not choose where credentials go.
          throw new RegistryError(
            'REGISTRY_AUTH',
            `${what}: ${response.url.origin} asked for credentials; those of ${registry} are sent to ${origin} and its token realm only`,
            { status: 401 }
          )
        if (response.status === 401) {
          authorization = await this.auth.answerChallenge(
            registry,
            scope,
            response.headers['www-authenticate'],
            authorization,
            send
          )
          response = await send({
            method,
            url,
            headers: { accept },
            authorization: bind(authorization)
          })
          if (response.status === 401) throw await this.refusal(registry, scope, what, response)
        }
        if (response.status >= 200 && response.status < 300) return response
        const retryAfterMs = parseRetryAfter(
          headerValue(response.headers['retry-after']),
          Date.now()
        )
        throw errorForStatus(what, response, retryAfterMs)
      },
      this.policy,
      {
        classify: error =>
          error instanceof RegistryError
            ? { retryable: error.retryable, retryAfterMs: error.retryAfterMs }
            : { retryable: false },
        onRetry: (error, attempt, delayMs) =>
          this.log(
            `${describeRegistryError(error)}; retrying in ${delayMs} ms (attempt ${attempt + 1} of ${this.policy.maxAttempts})`
          )
      }
    )
  }

  /** A 429 or 503 with a Retry-After the retry policy would wait for holds the whole registry. */
  private noteSlowDown(registry: string, response: HttpResponse): void {
    if (response.status !== 429 && response.status !== 503) return
    const retryAfterMs = parseRetryAfter(headerValue(response.headers['retry-after']), Date.now())
    if (retryAfterMs === undefined || retryAfterMs > this.policy.maxRetryAfterMs) return
    this.gate.backOff(registry, retryAfterMs)
    this.log(
      `${registry} asked to slow down (${response.status}): every request to it waits ${retryAfterMs} ms`
    )
  }

  private async refusal(
    registry: string,
    scope: string,
    what: string,
    response: HttpResponse
  ): Promise<RegistryError> {
    const detail = errorForStatus(what, response).message
    const message = (await this.auth.hasCredentials(registry))
      ? `credentials were refused by ${registry} for ${scope}: ${detail}`
      : `${registry} requires credentials for ${scope} and none are configured: ${detail}`
    return new RegistryError('REGISTRY_AUTH', message, { status: 401 })
  }
}
