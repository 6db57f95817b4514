/**
 * The one place that talks HTTP: a thin wrapper over `@actions/http-client`
 * (which honours HTTPS_PROXY / NO_PROXY as the toolkit does) that adds what
 * the registry client (and GitHub's attestations API client) needs and the
 * library lacks:
 *
 * - a deadline per request that covers the headers and the body;
 * - redirects followed here, not by the library: the library keeps the
 *   `Authorization` header when only the port changes, so a credential could
 *   reach another service on the same host. Here it is sent only to the exact
 *   origin (scheme, host, port) the caller bound it to — the registry the
 *   client was configured for, or the token realm — never to the origin of a
 *   URL a server supplied (a `Location`, a `Link`);
 * - a deadline per request that aborts the request itself, so a server that
 *   trickles its headers cannot keep a socket (and the process) alive;
 * - plain HTTP refused for any host not listed as insecure, redirects included;
 * - a bounded body, and a count of every request sent.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http'
import { HttpClient } from '@actions/http-client'
type RequestHandler = HttpClient['handlers'][number]
import { ACTION_VERSION } from '../../domain/action-version.js'
import { RegistryError } from '../../domain/errors.js'

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'POST'
  url: URL
  headers?: Record<string, string>
  /** A request body (POST); sent again on a followed redirect. */
  body?: string
  /**
   * An `Authorization` value and the one origin (`scheme://host:port`) it is
   * meant for. Sent only when the request (or a redirect) goes to exactly that
   * origin; dropped everywhere else, including the `url` itself when a server
   * supplied it and it names another origin.
   */
  authorization?: BoundAuthorization
}

interface BoundAuthorization {
  value: string
  origin: string
}

export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** Where the answer came from, after redirects. */
  url: URL
}

interface TransportOptions {
  timeoutMs: number
  /** Whether plain HTTP may be used for this `host[:port]`. */
  allowsPlainHttp: (host: string) => boolean
  maxBodyBytes?: number
  maxRedirects?: number
}

/** Distribution refuses manifests above 4 MiB; nothing we read is larger. */
const MAX_BODY_BYTES = 4 * 1024 * 1024
const MAX_REDIRECTS = 5
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
const USER_AGENT = `rocm-provenance/${ACTION_VERSION}`
const TLS_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/

/** One callback per request sent, so a caller can count its own share. */
type RequestObserver = (request: { method: string; url: URL }) => void

/**
 * Gives the next request the library prepares an `AbortSignal`: the library
 * hands out no request object, and before the headers arrive there is no
 * response to destroy, so aborting through the signal is the only way to
 * close a socket whose server trickles its headers. `request()` prepares its
 * options synchronously, so the signal set just before the call is the one
 * that call takes.
 */
class AbortSignalHandler implements RequestHandler {
  next: AbortSignal | undefined
  prepareRequest(options: RequestOptions): void {
    if (this.next) options.signal = this.next
    this.next = undefined
  }
  canHandleAuthentication(): boolean {
    return false
  }
  handleAuthentication(): Promise<never> {
    return Promise.reject(new Error('not an authentication handler'))
  }
}

export class HttpTransport {
  private readonly options: Required<TransportOptions>
  private readonly signals = new AbortSignalHandler()
  /** One client per scheme: the library caches a single agent per client. */
  private readonly clients = new Map<string, HttpClient>()
  private sent = 0

  constructor(options: TransportOptions) {
    this.options = {
      maxBodyBytes: MAX_BODY_BYTES,
      maxRedirects: MAX_REDIRECTS,
      ...options
    }
  }

  get requestCount(): number {
    return this.sent
  }

  async send(request: HttpRequest, observe?: RequestObserver): Promise<HttpResponse> {
    let url = request.url
    for (let redirects = 0; ; redirects++) {
      this.checkScheme(url)
      const headers: Record<string, string> = { ...request.headers }
      if (request.authorization !== undefined && url.origin === request.authorization.origin)
        headers.authorization = request.authorization.value
      this.sent++
      observe?.({ method: request.method, url })
      const response = await this.sendOnce(request.method, url, headers, request.body)
      const location = response.headers.location
      if (!REDIRECT_STATUSES.has(response.status) || typeof location !== 'string') return response
      if (redirects >= this.options.maxRedirects)
        throw new RegistryError(
          'REGISTRY_PROTOCOL',
          `${request.method} ${request.url.href}: more than ${this.options.maxRedirects} redirects`,
          { status: response.status }
        )
      url = new URL(location, url)
    }
  }

  /** Lets idle keep-alive connections go. */
  close(): void {
    for (const client of this.clients.values()) client.dispose()
    this.clients.clear()
  }

  private checkScheme(url: URL): void {
    if (url.protocol === 'https:') return
    if (url.protocol === 'http:' && this.options.allowsPlainHttp(url.host)) return
    throw new RegistryError(
      'REGISTRY_PROTOCOL',
      `refusing ${url.protocol}//${url.host}: plain HTTP is used only for hosts listed in insecure-registries`
    )
  }

  private clientFor(protocol: string): HttpClient {
    let client = this.clients.get(protocol)
    if (!client) {
      client = new HttpClient(USER_AGENT, [this.signals], {
        allowRedirects: false,
        allowRetries: false,
        keepAlive: true,
        socketTimeout: this.options.timeoutMs
      })
      this.clients.set(protocol, client)
    }
    return client
  }

  private sendOnce(
    method: string,
    url: URL,
    headers: Record<string, string>,
    payload?: string
  ): Promise<HttpResponse> {
    const { timeoutMs, maxBodyBytes } = this.options
    const what = `${method} ${url.href}`
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false
      let message: IncomingMessage | undefined
      const abort = new AbortController()
      const finish = (error: RegistryError | undefined, response?: HttpResponse): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (error) reject(error)
        else if (response) resolve(response)
      }
      const timer = setTimeout(() => {
        // Before the headers there is no message: the signal closes the socket.
        abort.abort()
        message?.destroy()
        finish(
          new RegistryError(
            'REGISTRY_TIMEOUT',
            `${what}: no complete answer within ${timeoutMs} ms`,
            {
              retryable: true
            }
          )
        )
      }, timeoutMs)
      const client = this.clientFor(url.protocol)
      this.signals.next = abort.signal
      client.request(method, url.href, payload ?? null, headers).then(
        response => {
          if (settled) {
            response.message.destroy()
            return
          }
          message = response.message
          readBounded(response.message, maxBodyBytes).then(
            body =>
              finish(undefined, {
                status: response.message.statusCode ?? 0,
                headers: response.message.headers,
                body,
                url
              }),
            (error: unknown) => finish(toTransportError(what, error))
          )
        },
        (error: unknown) => finish(toTransportError(what, error))
      )
    })
  }
}

function readBounded(message: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    message.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        message.destroy()
        reject(new RegistryError('REGISTRY_PROTOCOL', `response body exceeds ${maxBytes} bytes`))
        return
      }
      chunks.push(chunk)
    })
    message.on('end', () => resolve(Buffer.concat(chunks)))
    message.on('error', reject)
    message.on('close', () => {
      if (!message.complete) reject(new Error('connection closed before the body ended'))
    })
  })
}

function toTransportError(what: string, error: unknown): RegistryError {
  if (error instanceof RegistryError) return error
  // OpenSSL's messages end in a line break: one line, so nothing after is cut.
  const text = (error instanceof Error ? error.message : String(error))
    .replace(/\s*\n\s*/g, ' ')
    .trim()
  const code = (error as { code?: unknown }).code
  const detail = typeof code === 'string' && !text.includes(code) ? `${code}: ${text}` : text
  if (/^Request timeout/.test(text))
    return new RegistryError('REGISTRY_TIMEOUT', `${what}: connection idle too long`, {
      cause: error,
      retryable: true
    })
  const tls = TLS_ERROR.test(detail)
  // An HTTPS request answered in plain HTTP: OpenSSL's "wrong version number".
  const plainHttp = /wrong version number|ERR_SSL_WRONG_VERSION_NUMBER/i.test(detail)
    ? ' (the registry answered in plain HTTP: if it is meant to, list it in insecure-registries)'
    : ''
  return new RegistryError('REGISTRY_UNREACHABLE', `${what}: ${detail}${plainHttp}`, {
    cause: error,
    retryable: !tls
  })
}
