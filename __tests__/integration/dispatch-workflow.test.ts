import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { dispatchWorkflow, shouldDispatchUpdate } from '../../src/adapters/github/dispatch.js'
import { ProvenanceError } from '../../src/domain/errors.js'
import { startRecordingServer } from '../helpers/registry-auth-servers.js'
import { CURRENT, KEY_SIGNER, makeImage } from '../helpers/run-fixtures.js'

const TOKEN = 'ghs_standinTokenThatMustNeverBeShown0123'

interface Received {
  method?: string
  url?: string
  headers: IncomingHttpHeaders
  body: string
}

describe('dispatchWorkflow against a loopback GitHub API', () => {
  let server: Server
  let apiUrl: string
  let received: Received[]
  let reply: { status: number; body: string; headers?: Record<string, string> }
  let queued: (typeof reply)[]

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        received.push({
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8')
        })
        const answer = queued.shift() ?? reply
        response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
        response.end(answer.body)
      })
    })
    await new Promise<void>(resolveListen => server.listen(0, '127.0.0.1', () => resolveListen()))
    const address = server.address()
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/v3/`
  })
  afterAll(async () => {
    await new Promise<void>(resolveClose => server.close(() => resolveClose()))
  })
  beforeEach(() => {
    received = []
    reply = { status: 204, body: '' }
    queued = []
  })

  const options = () => ({
    apiUrl,
    token: TOKEN,
    repository: 'example/rocm-app',
    workflow: 'update-rocm.yml',
    ref: 'main',
    inputs: { reason: 'digest drift' }
  })

  it('POSTs the ref and inputs to the workflow dispatches endpoint, with the token as a bearer header', async () => {
    await dispatchWorkflow(options())
    expect(received).toHaveLength(1)
    const [request] = received
    expect(request.method).toBe('POST')
    expect(request.url).toBe(
      '/api/v3/repos/example/rocm-app/actions/workflows/update-rocm.yml/dispatches'
    )
    expect(JSON.parse(request.body)).toEqual({ ref: 'main', inputs: { reason: 'digest drift' } })
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`)
    expect(request.headers.accept).toBe('application/vnd.github+json')
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers['x-github-api-version']).toBe('2022-11-28')
  })

  it('sends only the ref when there are no inputs', async () => {
    await dispatchWorkflow({ ...options(), inputs: undefined })
    expect(JSON.parse(received[0].body)).toEqual({ ref: 'main' })
  })

  it('names the status and the missing actions: write permission on a 403, without the token', async () => {
    reply = {
      status: 403,
      body: JSON.stringify({ message: 'Resource not accessible by integration' })
    }
    const failure = dispatchWorkflow(options())
    await expect(failure).rejects.toBeInstanceOf(ProvenanceError)
    const error = (await failure.catch((e: unknown) => e)) as ProvenanceError
    expect(error.code).toBe('DISPATCH_FAILED')
    expect(error.message).toContain('HTTP 403 (Resource not accessible by integration)')
    expect(error.message).toContain('`actions: write`')
    expect(error.message).not.toContain(TOKEN)
  })

  it('on a 404 also says the workflow must exist on the ref', async () => {
    reply = { status: 404, body: JSON.stringify({ message: 'Not Found' }) }
    await expect(dispatchWorkflow(options())).rejects.toMatchObject({
      code: 'DISPATCH_FAILED',
      message: expect.stringMatching(
        /HTTP 404 \(Not Found\).*`actions: write`.*update-rocm\.yml must exist on main/
      )
    })
  })

  it('names the status of other failures without blaming permissions, and redacts an echoed token', async () => {
    reply = {
      status: 422,
      body: JSON.stringify({ message: `No ref found for: main (token ${TOKEN})` })
    }
    const error = (await dispatchWorkflow(options()).catch((e: unknown) => e)) as ProvenanceError
    expect(error.message).toContain('HTTP 422')
    expect(error.message).not.toContain('actions: write')
    expect(error.message).not.toContain(TOKEN)
    expect(error.message).toContain('***')
  })

  it('fails with DISPATCH_FAILED when nothing listens', async () => {
    const closed = createServer()
    await new Promise<void>(resolveListen => closed.listen(0, '127.0.0.1', () => resolveListen()))
    const address = closed.address()
    const port = typeof address === 'object' && address ? address.port : 0
    await new Promise<void>(resolveClose => closed.close(() => resolveClose()))
    const error = (await dispatchWorkflow({
      ...options(),
      apiUrl: `http://127.0.0.1:${port}`
    }).catch((e: unknown) => e)) as ProvenanceError
    expect(error.code).toBe('DISPATCH_FAILED')
    expect(error.message).toMatch(
      /workflow_dispatch of update-rocm\.yml on main in example\/rocm-app failed/
    )
    expect(error.message).not.toContain(TOKEN)
  })

  it('does not follow a redirect to another port of the same host with the token', async () => {
    const elsewhere = await startRecordingServer(() => ({
      status: 204,
      headers: {},
      body: Buffer.alloc(0)
    }))
    try {
      reply = { status: 307, body: '', headers: { location: `${elsewhere.url}/dispatches` } }
      const error = (await dispatchWorkflow(options()).catch((e: unknown) => e)) as ProvenanceError
      expect(error.code).toBe('DISPATCH_FAILED')
      expect(error.message).toContain(`redirecting to ${elsewhere.url}, another origin`)
      expect(elsewhere.requests).toEqual([])
      expect(received).toHaveLength(1)
    } finally {
      await elsewhere.stop()
    }
  })

  it('follows a redirect within the API origin (a renamed repository) with the token', async () => {
    queued = [
      {
        status: 307,
        body: '',
        headers: {
          location: '/api/v3/repositories/42/actions/workflows/update-rocm.yml/dispatches'
        }
      }
    ]
    await dispatchWorkflow(options())
    expect(received.map(r => [r.url, r.headers.authorization])).toEqual([
      [
        '/api/v3/repos/example/rocm-app/actions/workflows/update-rocm.yml/dispatches',
        `Bearer ${TOKEN}`
      ],
      ['/api/v3/repositories/42/actions/workflows/update-rocm.yml/dispatches', `Bearer ${TOKEN}`]
    ])
  })

  it('refuses a repository that is not owner/name before sending anything', async () => {
    await expect(dispatchWorkflow({ ...options(), repository: '../../x' })).rejects.toMatchObject({
      code: 'DISPATCH_FAILED'
    })
    expect(received).toEqual([])
  })
})

describe('shouldDispatchUpdate', () => {
  const auto = { mode: 'auto_update' as const }
  it.each([
    ['drift', { policy: auto, digest: { status: 'drift' as const, currentDigest: CURRENT } }, true],
    ['a stale pin', { policy: auto, age: { ageDays: 40, stale: true } }, true],
    [
      'a failed signature check',
      { policy: auto, signer: KEY_SIGNER, signature: { outcome: 'invalid' as const } },
      true
    ],
    [
      'a signature check that could not complete',
      { policy: auto, signer: KEY_SIGNER, signature: { outcome: 'transient' as const } },
      true
    ],
    [
      'an unsigned row with no signer',
      { policy: auto, signature: { outcome: 'unsigned' as const } },
      false
    ],
    ['nothing wrong', { policy: auto }, false],
    [
      'drift under strict',
      {
        policy: { mode: 'strict' as const },
        digest: { status: 'drift' as const, currentDigest: CURRENT }
      },
      false
    ],
    [
      'drift under warn',
      {
        policy: { mode: 'warn' as const },
        digest: { status: 'drift' as const, currentDigest: CURRENT }
      },
      false
    ]
  ])('%s → %s', (_name, changes, expected) => {
    expect(shouldDispatchUpdate([makeImage({}, 0), makeImage(changes, 1)])).toBe(expected)
  })
})
