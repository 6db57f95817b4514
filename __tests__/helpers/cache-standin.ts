/**
 * A loopback stand-in for GitHub's cache service (cache service v2), speaking
 * the protocol the real @actions/cache client speaks: Twirp JSON calls to
 * `github.actions.results.api.v1.CacheService` (GetCacheEntryDownloadURL,
 * CreateCacheEntry, FinalizeCacheEntryUpload) at ACTIONS_RESULTS_URL, and the
 * archive itself PUT to the signed upload URL as an Azure block blob (one
 * shot, or `comp=block` + `comp=blocklist`) and read back with a GET of the
 * signed download URL. Its rules follow the service's documentation: an exact
 * key (and version) wins, else the newest entry whose key starts with a
 * restore key; an entry cannot be overwritten. A fake, named as one: the real
 * service cannot run here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'

const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/'

export interface CacheEntry {
  key: string
  version: string
  /** Order of creation: a later entry is newer. */
  created: number
  finalized: boolean
  blob?: Buffer
}

export interface CacheStandin {
  /** `http://127.0.0.1:<port>/` — the value for ACTIONS_RESULTS_URL. */
  url: string
  /** Twirp method names in the order they were called. */
  calls: string[]
  entries: Map<string, CacheEntry>
  /**
   * Makes every Twirp call answer a Twirp error (403 `permission_denied`, as
   * the service does when a run may not use the cache): a failing service
   * the client does not retry.
   */
  refusing: boolean
  /** The environment the real client needs to reach this stand-in. */
  env(): Record<string, string>
  stop(): Promise<void>
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolveBody(Buffer.concat(chunks)))
    request.on('error', reject)
  })
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

/** A JWT-shaped runtime token (decoded by nobody here; the client only sends it). */
function runtimeToken(): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ scp: 'Actions.Results:run:job' })}.standin`
}

export async function startCacheStandin(): Promise<CacheStandin> {
  let created = 0
  const staged = new Map<string, Buffer>()
  const standin: CacheStandin = {
    url: '',
    calls: [],
    entries: new Map(),
    refusing: false,
    env: () => ({
      ACTIONS_CACHE_SERVICE_V2: 'true',
      ACTIONS_RESULTS_URL: standin.url,
      ACTIONS_RUNTIME_TOKEN: runtimeToken(),
      // Data only: github.com keeps the client out of its GHES (v1-only) path.
      GITHUB_SERVER_URL: 'https://github.com',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost'
    }),
    stop: () => new Promise(resolveStop => server.close(() => resolveStop()))
  }
  const blobPath = (entry: CacheEntry): string =>
    `/devstoreaccount1/actions-cache/${encodeURIComponent(entry.key)}-${entry.created}`

  function findEntry(key: string, restoreKeys: string[], version: string): CacheEntry | undefined {
    const ready = [...standin.entries.values()].filter(e => e.finalized && e.version === version)
    const exact = ready.find(e => e.key === key)
    if (exact) return exact
    for (const prefix of restoreKeys) {
      const newest = ready
        .filter(e => e.key.startsWith(prefix))
        .sort((a, b) => b.created - a.created)[0]
      if (newest) return newest
    }
    return undefined
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', standin.url)
    const body = await readBody(request)
    if (request.method === 'POST' && url.pathname.startsWith(TWIRP_PREFIX)) {
      const method = url.pathname.slice(TWIRP_PREFIX.length)
      standin.calls.push(method)
      if (standin.refusing) {
        return sendJson(response, 403, { code: 'permission_denied', msg: 'refused (stand-in)' })
      }
      const call = JSON.parse(body.toString('utf8')) as Record<string, unknown>
      const key = String(call.key)
      const version = String(call.version)
      if (method === 'GetCacheEntryDownloadURL') {
        const restoreKeys = Array.isArray(call.restore_keys) ? call.restore_keys.map(String) : []
        const entry = findEntry(key, restoreKeys, version)
        if (!entry) return sendJson(response, 200, { ok: false })
        return sendJson(response, 200, {
          ok: true,
          signed_download_url: `${standin.url.replace(/\/$/, '')}${blobPath(entry)}?sig=standin`,
          matched_key: entry.key
        })
      }
      if (method === 'CreateCacheEntry') {
        if (standin.entries.has(`${key}\n${version}`)) {
          return sendJson(response, 200, { ok: false, message: 'cache entry already exists' })
        }
        const entry: CacheEntry = { key, version, created: ++created, finalized: false }
        standin.entries.set(`${key}\n${version}`, entry)
        return sendJson(response, 200, {
          ok: true,
          signed_upload_url: `${standin.url.replace(/\/$/, '')}${blobPath(entry)}?sv=2025-01-05&sig=standin`
        })
      }
      if (method === 'FinalizeCacheEntryUpload') {
        const entry = standin.entries.get(`${key}\n${version}`)
        if (!entry?.blob) return sendJson(response, 200, { ok: false, message: 'nothing uploaded' })
        entry.finalized = true
        return sendJson(response, 200, { ok: true, entry_id: String(entry.created) })
      }
      return sendJson(response, 404, { code: 'bad_route', msg: `no method ${method}` })
    }
    const entry = [...standin.entries.values()].find(e => blobPath(e) === url.pathname)
    if (request.method === 'PUT' && entry) {
      const comp = url.searchParams.get('comp')
      if (comp === 'block') staged.set(`${url.pathname}#${url.searchParams.get('blockid')}`, body)
      else if (comp === 'blocklist') {
        const ids = [
          ...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)
        ].map(m => m[1])
        entry.blob = Buffer.concat(
          ids.map(id => staged.get(`${url.pathname}#${id}`) ?? Buffer.alloc(0))
        )
      } else entry.blob = body
      response.writeHead(201, {
        etag: '"standin"',
        'last-modified': new Date().toUTCString(),
        'x-ms-request-id': 'standin',
        'x-ms-version': '2025-01-05'
      })
      return void response.end()
    }
    if ((request.method === 'GET' || request.method === 'HEAD') && entry?.blob) {
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(entry.blob.length)
      })
      return void response.end(request.method === 'GET' ? entry.blob : undefined)
    }
    response.writeHead(404)
    response.end()
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500)
      response.end(String(error))
    })
  })
  await new Promise<void>(resolveListen => server.listen(0, '127.0.0.1', () => resolveListen()))
  const address = server.address()
  standin.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`
  return standin
}
