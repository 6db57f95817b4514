/**
 * A loopback HTTP proxy in front of a test registry that counts requests and
 * can inject faults per request: a status (503, 429 with Retry-After), a
 * dropped connection, or a delay. Rules are checked in order; the first whose
 * `when` matches acts, and `times` bounds how often it fires.
 *
 * With `referrersApi`, it is also a stand-in for a registry that has the OCI
 * 1.1 referrers API, which CNCF Distribution 2.8 (the registry these tests
 * run) lacks: `GET /v2/<name>/referrers/<digest>` answers, as the spec says,
 * with an image index of the referrers, read from the registry's own
 * referrers tag schema index (`sha256-<hex>`, kept by cosign 3 and crane), an
 * empty index when there is none, filtered by `artifactType` with
 * `OCI-Filters-Applied` set. Everything else is forwarded.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type FaultAction =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  /** Forwards, then removes these response headers (e.g. `docker-content-digest`). */
  | { kind: 'drop-headers'; headers: string[] }

export interface FaultRule {
  when: (method: string, path: string) => boolean
  action: FaultAction
  /** How many times the rule fires (default: always). */
  times?: number
}

export interface RecordedRequest {
  method: string
  path: string
  status: number
  authorization?: string
  /** `performance.now()` of this process when the request arrived. */
  receivedAt?: number
  /** `performance.now()` when the response was finished or the connection closed. */
  finishedAt?: number
}

export interface FaultProxy {
  /** `127.0.0.1:<port>` */
  host: string
  url: string
  requests: RecordedRequest[]
  rules: FaultRule[]
  /** Clears the rules and the request log. */
  reset(): void
  stop(): Promise<void>
}

const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})(?:\?(.*))?$/

/** The referrers API's answer for `name` and `digest`, built from the tag schema index upstream. */
async function referrersIndex(
  upstreamUrl: string,
  name: string,
  digest: string,
  query: string | undefined
): Promise<{ body: string; headers: Record<string, string> }> {
  const tag = digest.replace(':', '-')
  const response = await fetch(`${upstreamUrl}/v2/${name}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.index.v1+json' }
  })
  const listed: { digest: string; artifactType?: string }[] =
    response.status === 200 ? (((await response.json()) as { manifests?: [] }).manifests ?? []) : []
  // As a registry with the API does: each referrer's artifactType as its
  // manifest declares it (the tag schema index may say the empty config's type).
  const manifests = await Promise.all(
    listed.map(async entry => {
      const manifest = (await (
        await fetch(`${upstreamUrl}/v2/${name}/manifests/${entry.digest}`, {
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' }
        })
      ).json()) as { artifactType?: string; config?: { mediaType?: string } }
      return { ...entry, artifactType: manifest.artifactType ?? manifest.config?.mediaType }
    })
  )
  const artifactType = new URLSearchParams(query ?? '').get('artifactType')
  const kept = artifactType ? manifests.filter(m => m.artifactType === artifactType) : manifests
  return {
    body: JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: kept
    }),
    headers: {
      'content-type': 'application/vnd.oci.image.index.v1+json',
      ...(artifactType ? { 'oci-filters-applied': 'artifactType' } : {})
    }
  }
}

export async function startFaultProxy(
  upstreamHost: string,
  rules: FaultRule[] = [],
  options: { referrersApi?: boolean } = {}
): Promise<FaultProxy> {
  const [upstreamHostname, upstreamPort] = upstreamHost.split(':')
  const state = { rules, requests: [] as RecordedRequest[] }
  const remaining = new Map<FaultRule, number>()

  function pickRule(method: string, path: string): FaultRule | undefined {
    for (const rule of state.rules) {
      if (!rule.when(method, path)) continue
      if (rule.times !== undefined) {
        const left = remaining.get(rule) ?? rule.times
        if (left <= 0) continue
        remaining.set(rule, left - 1)
      }
      return rule
    }
    return undefined
  }

  function forward(
    req: IncomingMessage,
    res: import('node:http').ServerResponse,
    record: RecordedRequest,
    dropHeaders: string[] = []
  ): void {
    const upstream = httpRequest(
      {
        hostname: upstreamHostname,
        port: Number(upstreamPort),
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstreamHost }
      },
      upstreamResponse => {
        record.status = upstreamResponse.statusCode ?? 0
        const headers = { ...upstreamResponse.headers }
        for (const name of dropHeaders) delete headers[name.toLowerCase()]
        res.writeHead(upstreamResponse.statusCode ?? 502, headers)
        upstreamResponse.pipe(res)
      }
    )
    upstream.on('error', () => {
      record.status = 502
      res.destroy()
    })
    req.pipe(upstream)
  }

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const path = req.url ?? '/'
    const record: RecordedRequest = { method, path, status: 0, receivedAt: performance.now() }
    res.on('close', () => (record.finishedAt = performance.now()))
    if (typeof req.headers.authorization === 'string')
      record.authorization = req.headers.authorization
    state.requests.push(record)
    const rule = pickRule(method, path)
    const referrers = options.referrersApi ? REFERRERS_PATH.exec(path) : null
    if (!rule && referrers && method === 'GET') {
      req.resume()
      referrersIndex(`http://${upstreamHost}`, referrers[1], referrers[2], referrers[3]).then(
        answer => {
          record.status = 200
          res.writeHead(200, answer.headers)
          res.end(answer.body)
        },
        () => {
          record.status = 502
          res.destroy()
        }
      )
      return
    }
    if (!rule) return forward(req, res, record)
    const action = rule.action
    if (action.kind === 'reset') {
      record.status = -1
      req.socket.destroy()
      return
    }
    if (action.kind === 'drop-headers') return forward(req, res, record, action.headers)
    if (action.kind === 'delay') {
      const timer = setTimeout(() => forward(req, res, record), action.ms)
      res.on('close', () => clearTimeout(timer))
      return
    }
    record.status = action.status
    req.resume()
    res.writeHead(action.status, { 'content-type': 'application/json', ...(action.headers ?? {}) })
    res.end(
      action.body ??
        JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] })
    )
  })
  await new Promise<void>(resolveListen => server.listen(0, '127.0.0.1', () => resolveListen()))
  const port = (server.address() as AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests
    },
    get rules() {
      return state.rules
    },
    set rules(next: FaultRule[]) {
      state.rules = next
      remaining.clear()
    },
    reset() {
      state.rules = []
      state.requests = []
      remaining.clear()
    },
    stop() {
      return new Promise<void>(resolveClose => {
        server.closeAllConnections()
        server.close(() => resolveClose())
      })
    }
  } as FaultProxy
}
