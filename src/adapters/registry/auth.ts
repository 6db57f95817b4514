/**
 * The registry authentication handshake (distribution token spec):
 * a request without credentials, a 401 carrying a `WWW-Authenticate`
 * challenge, then Basic credentials or a Bearer token from the realm named
 * in the challenge. Once a registry's scheme is known, later requests carry
 * the authorization up front; tokens are cached per registry and scope and
 * reused for the rest of the run. Every credential and token is handed to
 * `maskSecret` before it is sent, and none is ever put in a message.
 */
import type { Credential, CredentialStore } from './credentials.js'
import { RegistryError } from '../../domain/errors.js'
import { errorForStatus } from './errors.js'
import type { HttpRequest, HttpResponse } from './http.js'
import { parseRetryAfter } from '../../lib/retry.js'

interface Challenge {
  /** Lowercase: `bearer`, `basic`, … */
  scheme: string
  /** Parameter names lowercase, values unquoted. */
  params: Record<string, string>
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y
const QUOTED = /"((?:[^"\\]|\\.)*)"/y
const SPACE = /[ \t]*/y
const PARAM_START = /[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=/y

function matchAt(pattern: RegExp, text: string, at: number): RegExpExecArray | null {
  pattern.lastIndex = at
  return pattern.exec(text)
}

/** Every challenge in one or more `WWW-Authenticate` values (RFC 9110 §11.6.1). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return []
  if (Array.isArray(header)) return header.flatMap(value => parseChallenges(value))
  const challenges: Challenge[] = []
  let at = 0
  while (at < header.length) {
    const separator = /[\s,]*/y
    separator.lastIndex = at
    separator.exec(header)
    at = separator.lastIndex
    const scheme = matchAt(TOKEN, header, at)
    if (!scheme) break
    at = TOKEN.lastIndex
    const challenge: Challenge = { scheme: scheme[0].toLowerCase(), params: {} }
    challenges.push(challenge)
    for (;;) {
      const param = matchAt(PARAM_START, header, at)
      if (!param) break
      at = PARAM_START.lastIndex
      matchAt(SPACE, header, at)
      at = SPACE.lastIndex
      const quoted = matchAt(QUOTED, header, at)
      let value = ''
      if (quoted) {
        value = quoted[1].replace(/\\(.)/g, '$1')
        at = QUOTED.lastIndex
      } else {
        const bare = matchAt(TOKEN, header, at)
        if (bare) {
          value = bare[0]
          at = TOKEN.lastIndex
        }
      }
      challenge.params[param[1].toLowerCase()] = value
      const comma = /[ \t]*,/y
      comma.lastIndex = at
      if (!comma.exec(header)) break
      // A comma then `name=` continues this challenge; a comma then a bare token starts the next.
      if (!matchAt(PARAM_START, header, comma.lastIndex)) {
        at = comma.lastIndex
        break
      }
      at = comma.lastIndex
    }
  }
  return challenges
}

export function basicAuthorization(credential: Credential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`
}

/** A token endpoint's answer: `token` or `access_token`, and its lifetime. */
export function parseTokenResponse(body: string): { token: string; expiresInSeconds?: number } {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new RegistryError(
      'REGISTRY_PROTOCOL',
      'the token service answered with something other than JSON'
    )
  }
  const {
    token,
    access_token: accessToken,
    expires_in: expiresIn
  } = (json ?? {}) as Record<string, unknown>
  const value = typeof token === 'string' && token !== '' ? token : accessToken
  if (typeof value !== 'string' || value === '')
    throw new RegistryError('REGISTRY_PROTOCOL', 'the token service answered without a token')
  return {
    token: value,
    expiresInSeconds: typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : undefined
  }
}

/** The distribution spec says a token without `expires_in` lasts 60 s. */
const DEFAULT_TOKEN_LIFETIME_S = 60
/** Renew a token this long before it expires. */
const TOKEN_RENEWAL_MARGIN_MS = 10_000

type AuthScheme = { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string }

interface CachedToken {
  authorization: string
  expiresAtMs: number
}

export type Send = (request: HttpRequest) => Promise<HttpResponse>

interface AuthenticatorOptions {
  credentials: CredentialStore
  maskSecret: (secret: string) => void
  now?: () => number
}

export class Authenticator {
  private readonly schemes = new Map<string, AuthScheme>()
  private readonly tokens = new Map<string, Promise<CachedToken>>()
  private readonly masked = new Set<string>()
  private readonly now: () => number

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now
  }

  /** Whether credentials are configured for `registry` (false when its helper fails). */
  async hasCredentials(registry: string): Promise<boolean> {
    return (await this.options.credentials.get(registry).catch(() => undefined)) !== undefined
  }

  /**
   * The `Authorization` value to send before any challenge: none until the
   * registry has named its scheme, then Basic credentials or a cached (or
   * freshly fetched) Bearer token for `scope`.
   */
  async authorizationFor(registry: string, scope: string, send: Send): Promise<string | undefined> {
    const scheme = this.schemes.get(registry)
    if (!scheme) return undefined
    if (scheme.kind === 'basic') {
      const credential = await this.credential(registry)
      return credential ? this.basic(credential) : undefined
    }
    return (await this.token(registry, scope, scheme, send)).authorization
  }

  /**
   * Answers a 401: learns the scheme from the challenge and returns a new
   * authorization to try once. Throws `REGISTRY_AUTH` when there is nothing
   * new to offer (no credentials for Basic, or the same ones were just refused).
   */
  async answerChallenge(
    registry: string,
    scope: string,
    header: string | string[] | undefined,
    sent: string | undefined,
    send: Send
  ): Promise<string> {
    const challenges = parseChallenges(header)
    const bearer = challenges.find(c => c.scheme === 'bearer' && c.params.realm)
    if (bearer) {
      const scheme: AuthScheme = {
        kind: 'bearer',
        realm: bearer.params.realm,
        service: bearer.params.service
      }
      this.schemes.set(registry, scheme)
      const key = tokenKey(registry, scope)
      const cached = this.tokens.get(key)
      if (cached && (await cached.catch(() => undefined))?.authorization === sent)
        this.tokens.delete(key)
      return (await this.token(registry, scope, scheme, send)).authorization
    }
    if (challenges.some(c => c.scheme === 'basic')) {
      this.schemes.set(registry, { kind: 'basic' })
      const credential = await this.credential(registry)
      if (!credential)
        throw new RegistryError(
          'REGISTRY_AUTH',
          `${registry} requires credentials (Basic) and none are configured for it`,
          { status: 401 }
        )
      const authorization = this.basic(credential)
      if (authorization === sent)
        throw new RegistryError(
          'REGISTRY_AUTH',
          `credentials were refused by ${registry} (Basic)`,
          {
            status: 401
          }
        )
      return authorization
    }
    throw new RegistryError(
      'REGISTRY_AUTH',
      `${registry} answered 401 without a Basic or Bearer challenge it could be answered with`,
      { status: 401 }
    )
  }

  private async credential(registry: string): Promise<Credential | undefined> {
    const credential = await this.options.credentials.get(registry)
    if (credential) this.mask(credential.password)
    return credential
  }

  /** A Basic value, its password and its encoded form masked first. */
  private basic(credential: Credential): string {
    this.mask(credential.password)
    const authorization = basicAuthorization(credential)
    this.mask(authorization.slice('Basic '.length))
    return authorization
  }

  private mask(secret: string): string {
    if (secret !== '' && !this.masked.has(secret)) {
      this.masked.add(secret)
      this.options.maskSecret(secret)
    }
    return secret
  }

  private token(
    registry: string,
    scope: string,
    scheme: Extract<AuthScheme, { kind: 'bearer' }>,
    send: Send
  ): Promise<CachedToken> {
    const key = tokenKey(registry, scope)
    const cached = this.tokens.get(key)
    if (cached) {
      return cached.then(token =>
        token.expiresAtMs - TOKEN_RENEWAL_MARGIN_MS > this.now()
          ? token
          : this.refreshToken(key, registry, scope, scheme, send)
      )
    }
    return this.refreshToken(key, registry, scope, scheme, send)
  }

  private refreshToken(
    key: string,
    registry: string,
    scope: string,
    scheme: Extract<AuthScheme, { kind: 'bearer' }>,
    send: Send
  ): Promise<CachedToken> {
    const pending = this.fetchToken(registry, scope, scheme, send)
    this.tokens.set(key, pending)
    pending.catch(() => {
      if (this.tokens.get(key) === pending) this.tokens.delete(key)
    })
    return pending
  }

  private async fetchToken(
    registry: string,
    scope: string,
    scheme: Extract<AuthScheme, { kind: 'bearer' }>,
    send: Send
  ): Promise<CachedToken> {
    let url: URL
    try {
      url = new URL(scheme.realm)
    } catch (error: unknown) {
      throw new RegistryError(
        'REGISTRY_PROTOCOL',
        `${registry} named a token realm that is not a URL`,
        {
          cause: error
        }
      )
    }
    if (scheme.service) url.searchParams.set('service', scheme.service)
    url.searchParams.append('scope', scope)
    const credential = await this.credential(registry)
    const startedMs = this.now()
    // Docker's rule: the registry's credentials go to the realm its challenge
    // names, wherever that is (README, security) — but to that origin only.
    const response = await send({
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      authorization: credential ? { value: this.basic(credential), origin: url.origin } : undefined
    })
    const what = `token for ${scope} from ${url.origin}${url.pathname}`
    if (response.status === 401 || response.status === 403) {
      const who = credential ? 'credentials were refused' : 'anonymous access was refused'
      throw new RegistryError(
        'REGISTRY_AUTH',
        `${what}: ${who} by the token service (HTTP ${response.status})`,
        { status: response.status }
      )
    }
    if (response.status !== 200)
      throw errorForStatus(
        what,
        response,
        parseRetryAfter(headerValue(response.headers['retry-after']), this.now())
      )
    const { token, expiresInSeconds } = parseTokenResponse(response.body.toString('utf8'))
    this.mask(token)
    return {
      authorization: `Bearer ${token}`,
      expiresAtMs: startedMs + (expiresInSeconds ?? DEFAULT_TOKEN_LIFETIME_S) * 1000
    }
  }
}

function tokenKey(registry: string, scope: string): string {
  return `${registry} ${scope}`
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
