/**
 * A loopback stand-in for GitHub's artifact attestations REST API (GitHub's
 * services cannot run here). It speaks the real paths and shapes:
 * `GET /repos/{owner}/{repo}/attestations/{subject_digest}` with `per_page`
 * and an `after` cursor in `Link: rel="next"`, entries with the bundle inline
 * or behind `bundle_url` (served here Snappy-compressed, as GitHub's blob
 * storage serves it), 404 when a digest has none, and failures with GitHub's
 * real rate-limit headers (`retry-after`, `x-ratelimit-remaining`,
 * `x-ratelimit-reset`). Every request is recorded with its Authorization.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { compress } from 'snappyjs'

export interface StoredAttestation {
  repository: string
  digest: string
  bundle: unknown
  predicateType?: string
}

export interface StandinFailure {
  status: number
  headers?: Record<string, string>
  body?: string
  times: number
}

export interface StandinRequest {
  path: string
  status: number
  authorization?: string
}

export interface AttestationsStandin {
  url: string
  /** Entries served inline (`bundle`) or behind `bundle_url`. */
  shape: 'inline' | 'bundle-url'
  /** `Link` of the next page points at this origin instead (a hostile answer). */
  nextOrigin?: string
  stored: StoredAttestation[]
  failures: StandinFailure[]
  requests: StandinRequest[]
  stop(): Promise<void>
}

export async function startAttestationsStandin(): Promise<AttestationsStandin> {
  const state: Omit<AttestationsStandin, 'url' | 'stop'> = {
    shape: 'inline',
    stored: [],
    failures: [],
    requests: []
  }
  let origin = ''
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin)
    const record: StandinRequest = { path: `${url.pathname}${url.search}`, status: 0 }
    if (typeof req.headers.authorization === 'string')
      record.authorization = req.headers.authorization
    state.requests.push(record)
    const reply = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
      record.status = status
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(body)
    }
    const blob = /^\/blobs\/(\d+)$/.exec(url.pathname)
    if (blob) {
      const stored = state.stored[Number(blob[1])]
      return stored
        ? reply(200, Buffer.from(compress(Buffer.from(JSON.stringify(stored.bundle)))), {
            'content-type': 'application/octet-stream'
          })
        : reply(404, '')
    }
    const failure = state.failures.find(f => f.times > 0)
    if (failure) {
      failure.times--
      return reply(
        failure.status,
        failure.body ?? JSON.stringify({ message: 'API rate limit exceeded' }),
        failure.headers
      )
    }
    const match = /^\/repos\/([^/]+\/[^/]+)\/attestations\/(sha256:[0-9a-f]{64})$/.exec(
      url.pathname
    )
    if (!match) return reply(404, JSON.stringify({ message: 'Not Found' }))
    const [, repository, digest] = match
    const predicateType = url.searchParams.get('predicate_type')
    const all = state.stored
      .map((stored, index) => ({ stored, index }))
      .filter(
        ({ stored }) =>
          stored.repository === repository &&
          stored.digest === digest &&
          (!predicateType || stored.predicateType === predicateType)
      )
    if (all.length === 0) return reply(404, JSON.stringify({ message: 'Not Found' }))
    const perPage = Number(url.searchParams.get('per_page') ?? 30)
    const after = Number(url.searchParams.get('after') ?? 0)
    const page = all.slice(after, after + perPage)
    const headers: Record<string, string> = {}
    if (after + perPage < all.length) {
      const next = new URL(url.href)
      next.searchParams.set('after', String(after + perPage))
      const target = state.nextOrigin
        ? `${state.nextOrigin}${next.pathname}${next.search}`
        : next.href
      headers.link = `<${target}>; rel="next"`
    }
    const attestations = page.map(({ stored, index }) =>
      state.shape === 'inline'
        ? { bundle: stored.bundle, repository_id: 1 }
        : { bundle_url: `${origin}/blobs/${index}`, repository_id: 1 }
    )
    return reply(200, JSON.stringify({ attestations }), headers)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return Object.assign(state, {
    url: origin,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  })
}
