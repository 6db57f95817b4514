/**
 * A loopback stand-in for GitHub's artifact backend, speaking the protocol the
 * real @actions/artifact client speaks: the Results service's Twirp
 * JSON calls (CreateArtifact, FinalizeArtifact) and the Azure block-blob PUTs
 * the signed upload URL receives (`comp=block`, then `comp=blocklist`). It
 * keeps what arrived so a test can assert the bytes. A fake, named as one: the
 * real services cannot run here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { inflateRawSync } from 'node:zlib'

const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.ArtifactService/'
export const STANDIN_ARTIFACT_ID = 4242

export interface TwirpCall {
  method: string
  body: Record<string, unknown>
  authorization?: string
}

export interface ArtifactStandin {
  /** `http://127.0.0.1:<port>` — the value for ACTIONS_RESULTS_URL. */
  url: string
  calls: TwirpCall[]
  /** Committed blobs by URL path. */
  blobs: Map<string, Buffer>
  /** Makes CreateArtifact answer with this Twirp error (4xx, JSON), e.g. a name conflict. */
  failCreateWith?: { status: number; code: string; msg: string }
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

/** A JWT-shaped runtime token whose claims carry the run and job backend ids (decoded, never verified). */
export function fakeRuntimeToken(runBackendId: string, jobBackendId: string): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ scp: `Actions.Results:${runBackendId}:${jobBackendId}` })}.standin`
}

export async function startArtifactStandin(): Promise<ArtifactStandin> {
  const staged = new Map<string, Buffer>()
  const standin: ArtifactStandin = {
    url: '',
    calls: [],
    blobs: new Map(),
    stop: () => new Promise(resolveStop => server.close(() => resolveStop()))
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', standin.url)
    const body = await readBody(request)
    if (request.method === 'POST' && url.pathname.startsWith(TWIRP_PREFIX)) {
      const method = url.pathname.slice(TWIRP_PREFIX.length)
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>
      standin.calls.push({ method, body: parsed, authorization: request.headers.authorization })
      if (method === 'CreateArtifact') {
        if (standin.failCreateWith) {
          const { status, code, msg } = standin.failCreateWith
          return sendJson(response, status, { code, msg })
        }
        const blobPath = `/devstoreaccount1/actions-results/${String(parsed.workflow_run_backend_id)}/${String(parsed.name)}.zip`
        return sendJson(response, 200, {
          ok: true,
          signed_upload_url: `${standin.url}${blobPath}?sv=2025-01-05&sig=standin-signature`
        })
      }
      if (method === 'FinalizeArtifact') {
        return sendJson(response, 200, { ok: true, artifact_id: String(STANDIN_ARTIFACT_ID) })
      }
      return sendJson(response, 404, { code: 'not_found', msg: `no method ${method}` })
    }
    if (request.method === 'PUT' && url.searchParams.get('comp') === 'block') {
      staged.set(`${url.pathname}#${url.searchParams.get('blockid')}`, body)
      response.writeHead(201, { 'x-ms-request-id': 'standin', 'x-ms-version': '2025-01-05' })
      return void response.end()
    }
    if (request.method === 'PUT' && url.searchParams.get('comp') === 'blocklist') {
      const ids = [
        ...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)
      ].map(m => m[1])
      const parts = ids.map(id => staged.get(`${url.pathname}#${id}`))
      if (parts.some(part => part === undefined)) {
        response.writeHead(400)
        return void response.end('InvalidBlockList')
      }
      standin.blobs.set(url.pathname, Buffer.concat(parts as Buffer[]))
      response.writeHead(201, {
        etag: '"standin"',
        'last-modified': new Date().toUTCString(),
        'x-ms-request-id': 'standin'
      })
      return void response.end()
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
  standin.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  return standin
}

/** The files in a zip archive (stored or deflated), read through its central directory. */
export function readZip(zip: Buffer): Map<string, Buffer> {
  const END_OF_CENTRAL_DIRECTORY = 0x06054b50
  let end = zip.length - 22
  while (end >= 0 && zip.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end -= 1
  if (end < 0) throw new Error('not a zip archive: no end of central directory')
  const entries = zip.readUInt16LE(end + 10)
  let offset = zip.readUInt32LE(end + 16)
  const files = new Map<string, Buffer>()
  for (let i = 0; i < entries; i += 1) {
    const method = zip.readUInt16LE(offset + 10)
    const compressedSize = zip.readUInt32LE(offset + 20)
    const nameLength = zip.readUInt16LE(offset + 28)
    const extraLength = zip.readUInt16LE(offset + 30)
    const commentLength = zip.readUInt16LE(offset + 32)
    const localHeader = zip.readUInt32LE(offset + 42)
    const name = zip.subarray(offset + 46, offset + 46 + nameLength).toString('utf8')
    const dataStart =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28)
    const data = zip.subarray(dataStart, dataStart + compressedSize)
    files.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data))
    offset += 46 + nameLength + extraLength + commentLength
  }
  return files
}
