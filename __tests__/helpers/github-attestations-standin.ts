/**
 * A loopback stand-in for GitHub's artifact attestations REST API (GitHub's
 * services cannot run here). It speaks the real paths and shapes:
 * `GET /repos/{owner}/{repo}/attestations/{subject_digest}` with `per_page`
 * and an `after` cursor in `Link: rel="next"`, entries with the bundle inline
 * or behind `bundle_url` (served here Snappy-compressed, as GitHub's blob
 * storage serves it), 404 when a digest has none, and failures with GitHub's
 * real rate-limit headers (`retry-after`, `x-ratelimit-remaining`,
 * `x-ratelimit-reset`). The bulk listing too: `POST /orgs/{org}/attestations/bulk-list`
 * and `/users/{username}/attestations/bulk-list` (body `subject_digests`,
 * `predicate_type`; answer `attestations_subject_digests` by digest with
 * `page_info` and its `next` cursor), an account answering 404 on the other
 * kind's path. Every request is recorded with its method, body and Authorization.
 * Bundle URLs carry a signed query, as blob storage's do (it must appear in no
 * message). Hostile answers on demand: a stalled answer that trickles a byte
 * every 20 ms and never ends (API pages or bundle URLs), a failure from a
 * later page on, a bulk answer that leaves out digests it was asked about.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { compress } from 'snappyjs'

export interface StoredAttestation {
  repository: string
  digest: string
  bundle: unknown
  predicateType?: string
  /** The bundle as this JSON text instead (served inline), e.g. one nested too deep to stringify. */
  bundleJson?: string
}

export interface StandinFailure {
  status: number
  headers?: Record<string, string>
  body?: string
  times: number
  /** Sends the status line, then one byte every 20 ms and never ends (a stalled answer). */
  trickle?: boolean
  /** Served only once this many requests were answered (e.g. 1: from the second page on). */
  afterRequests?: number
}

export interface StandinRequest {
  method: string
  path: string
  status: number
  /** The request body (bulk listings). */
  body?: string
  authorization?: string
}

export interface AttestationsStandin {
  url: string
  /** Entries served inline (`bundle`) or behind `bundle_url`. */
  shape: 'inline' | 'bundle-url'
  /** `Link` of the next page points at this origin instead (a hostile answer). */
  nextOrigin?: string
  stored: StoredAttestation[]
  /** Owners that are personal accounts (bulk listing under `/users/`); the rest are organizations. */
  users: string[]
  /** False: the bulk endpoints answer 404 (as where they are not served). */
  bulkServed: boolean
  /** True: `attestations_subject_digests` as a list of one-digest objects (GitHub's documented example). */
  bulkAsList?: boolean
  /** Digests left out of `attestations_subject_digests` whatever is stored for them (an odd answer). */
  bulkLeaveOut?: string[]
  /** True: the bundle URLs stall (status line, then a byte every 20 ms, never ending). */
  blobsTrickle?: boolean
  /** Each bundle URL answers after this many milliseconds. */
  blobDelayMs?: number
  /** The most bundle URL requests ever in flight at once. */
  maxBlobsInFlight: number
  failures: StandinFailure[]
  requests: StandinRequest[]
  stop(): Promise<void>
}

export async function startAttestationsStandin(): Promise<AttestationsStandin> {
  const state: Omit<AttestationsStandin, 'url' | 'stop'> = {
    shape: 'inline',
    stored: [],
    users: [],
    bulkServed: true,
    maxBlobsInFlight: 0,
    failures: [],
    requests: []
  }
  let origin = ''
  let blobsInFlight = 0
  const trickles = new Set<ReturnType<typeof setInterval>>()
  const trickle = (res: ServerResponse, status: number): void => {
    res.writeHead(status, { 'content-type': 'application/json' })
    const timer = setInterval(() => res.write(' '), 20)
    trickles.add(timer)
    res.on('close', () => {
      clearInterval(timer)
      trickles.delete(timer)
    })
  }
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  /** JSON.stringify, with each `bundleJson` spliced in as it is. */
  const serialize = (value: unknown): string => {
    const raws: string[] = []
    const text = JSON.stringify(value, (_key, v: unknown) => {
      const json = (v as { bundleJson?: unknown } | null)?.bundleJson
      if (typeof json !== 'string') return v
      raws.push(json)
      return { ...(v as object), bundleJson: undefined, bundle: `@@raw${raws.length - 1}@@` }
    })
    return text.replace(/"@@raw(\d+)@@"/g, (_, n: string) => raws[Number(n)])
  }
  const entryOf = (stored: StoredAttestation, index: number) =>
    stored.bundleJson !== undefined
      ? { bundleJson: stored.bundleJson, repository_id: repositoryId(stored.repository) }
      : state.shape === 'inline'
        ? { bundle: stored.bundle, repository_id: repositoryId(stored.repository) }
        : {
            // Signed like GitHub's blob storage URLs: the query is a secret.
            bundle_url: `${origin}/blobs/${index}?sv=2025-01-05&sig=STANDIN-BLOB-SIGNATURE`,
            repository_id: repositoryId(stored.repository)
          }
  const answer = (req: IncomingMessage, res: ServerResponse, requestBody: string): void => {
    const url = new URL(req.url ?? '/', origin)
    const record: StandinRequest = {
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      status: 0
    }
    if (requestBody) record.body = requestBody
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
      if (state.blobsTrickle) {
        record.status = 200
        return trickle(res, 200)
      }
      const stored = state.stored[Number(blob[1])]
      blobsInFlight++
      state.maxBlobsInFlight = Math.max(state.maxBlobsInFlight, blobsInFlight)
      res.on('close', () => blobsInFlight--)
      // A stored bundle left undefined: its blob is gone (404).
      const send = () =>
        stored?.bundle !== undefined
          ? reply(200, Buffer.from(compress(Buffer.from(JSON.stringify(stored.bundle)))), {
              'content-type': 'application/octet-stream'
            })
          : reply(404, '')
      if (state.blobDelayMs) setTimeout(send, state.blobDelayMs)
      else send()
      return
    }
    const failure = state.failures.find(
      f => f.times > 0 && state.requests.length > (f.afterRequests ?? 0)
    )
    if (failure) {
      failure.times--
      if (failure.trickle) {
        record.status = failure.status
        return trickle(res, failure.status)
      }
      return reply(
        failure.status,
        failure.body ?? JSON.stringify({ message: 'API rate limit exceeded' }),
        failure.headers
      )
    }
    const bulk = /^\/(orgs|users)\/([^/]+)\/attestations\/bulk-list$/.exec(url.pathname)
    if (bulk && req.method === 'POST') {
      const [, kind, owner] = bulk
      const isUser = state.users.some(user => user.toLowerCase() === owner.toLowerCase())
      if (!state.bulkServed || (kind === 'users') !== isUser)
        return reply(404, JSON.stringify({ message: 'Not Found' }))
      const { subject_digests: digests, predicate_type: predicateType } = JSON.parse(
        requestBody
      ) as { subject_digests: string[]; predicate_type?: string }
      const all = digests.flatMap(digest =>
        state.stored
          .map((stored, index) => ({ stored, index }))
          .filter(
            ({ stored }) =>
              // GitHub compares account and repository names without case.
              stored.repository.split('/')[0].toLowerCase() === owner.toLowerCase() &&
              stored.digest === digest &&
              (!predicateType || stored.predicateType === predicateType)
          )
      )
      const perPage = Number(url.searchParams.get('per_page') ?? 30)
      const after = Number(
        Buffer.from(url.searchParams.get('after') ?? '', 'base64url').toString() || 0
      )
      const page = all.slice(after, after + perPage)
      const byDigest: Record<string, unknown[] | null> = Object.fromEntries(
        digests.map(digest => [digest, null])
      )
      for (const { stored, index } of page)
        (byDigest[stored.digest] ??= []).push(entryOf(stored, index))
      for (const digest of state.bulkLeaveOut ?? []) delete byDigest[digest]
      const hasNext = after + perPage < all.length
      return reply(
        200,
        serialize({
          attestations_subject_digests: state.bulkAsList
            ? Object.entries(byDigest).map(([digest, list]) => ({ [digest]: list }))
            : byDigest,
          page_info: {
            has_next: hasNext,
            has_previous: after > 0,
            next: hasNext ? Buffer.from(String(after + perPage)).toString('base64url') : '',
            previous: ''
          }
        })
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
          stored.repository.toLowerCase() === repository.toLowerCase() &&
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
    const attestations = page.map(({ stored, index }) => entryOf(stored, index))
    return reply(200, serialize({ attestations }), headers)
  }
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return Object.assign(state, {
    url: origin,
    stop: () =>
      new Promise<void>(resolve => {
        for (const timer of trickles) clearInterval(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      })
  })
}

/** A stable numeric id per repository name, as GitHub's `repository_id`. */
function repositoryId(repository: string): number {
  let id = 7
  for (const char of repository) id = (id * 31 + char.charCodeAt(0)) % 1_000_000_007
  return id
}
