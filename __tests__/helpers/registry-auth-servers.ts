/**
 * Loopback servers the registry auth tests need besides the real registry:
 * a Docker token service of the tests' own (JWTs signed with a key whose
 * self-signed certificate, made with openssl at test time, the registry
 * trusts), an htpasswd entry made at test time, a recording HTTP server to
 * redirect to, and a crane copy with credentials.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomBytes, sign } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hermeticEnv, mustRun, toolPath } from './tools.js'
import bcrypt from 'bcryptjs'

/** A random password that is easy to search for in logs. */
export function makeSecret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`
}

/** One bcrypt htpasswd line, hashed now (cost 4: fast, and the registry accepts any cost). */
export function htpasswdEntry(username: string, password: string): string {
  return `${username}:${bcrypt.hashSync(password, 4)}\n`
}

/** A Docker config folder whose `auths` hold these credentials. */
export function dockerConfigWith(
  auths: Record<string, { username: string; password: string }>
): string {
  const dir = mkdtempSync(join(tmpdir(), 'rp-docker-config-'))
  const entries = Object.fromEntries(
    Object.entries(auths).map(([host, { username, password }]) => [
      host,
      { auth: Buffer.from(`${username}:${password}`).toString('base64') }
    ])
  )
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: entries }))
  return dir
}

/** `crane copy` of `source` to `destination`, with the credentials in `dockerConfigDir`. */
export async function copyImage(
  source: string,
  destination: string,
  dockerConfigDir: string
): Promise<void> {
  await mustRun(toolPath('crane'), ['copy', '--insecure', source, destination], {
    env: hermeticEnv({ DOCKER_CONFIG: dockerConfigDir })
  })
}

export interface TokenIssuer {
  certPath: string
  privateKeyPem: string
  certDerBase64: string
  issuer: string
  service: string
}

/** An RSA key and its self-signed certificate, made with openssl now. */
export function makeTokenIssuer(
  issuer = 'rp-test-issuer',
  service = 'rp-test-registry'
): TokenIssuer {
  const dir = mkdtempSync(join(tmpdir(), 'rp-token-'))
  const keyPath = join(dir, 'token.key')
  const certPath = join(dir, 'token.crt')
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath].concat([
      '-days',
      '1',
      '-subj',
      '/CN=rp-test-token-issuer'
    ]),
    { stdio: 'ignore' }
  )
  const pem = readFileSync(certPath, 'utf8')
  const certDerBase64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
  return { certPath, privateKeyPem: readFileSync(keyPath, 'utf8'), certDerBase64, issuer, service }
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url')
}

interface Access {
  type: string
  name: string
  actions: string[]
}

function signToken(issuer: TokenIssuer, subject: string, access: Access[]): string {
  const nowS = Math.floor(Date.now() / 1000)
  const header = { typ: 'JWT', alg: 'RS256', x5c: [issuer.certDerBase64] }
  const claims = {
    iss: issuer.issuer,
    sub: subject,
    aud: issuer.service,
    exp: nowS + 300,
    nbf: nowS - 10,
    iat: nowS,
    jti: randomBytes(8).toString('hex'),
    access
  }
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  const signature = sign('sha256', Buffer.from(input), issuer.privateKeyPem)
  return `${input}.${base64url(signature)}`
}

export interface TokenRequest {
  scope: string
  service: string
  /** The Authorization header sent, if any. */
  authorization?: string
}

export interface TokenServer {
  /** `http://127.0.0.1:<port>/token` */
  realm: string
  host: string
  requests: TokenRequest[]
  stop(): Promise<void>
}

/**
 * A token service: `users` get pull and push on every repository; anonymous
 * callers get pull on repositories under `publicPrefix`; wrong credentials
 * get 401.
 */
export async function startTokenServer(
  issuer: TokenIssuer,
  users: Record<string, string>,
  publicPrefix = 'public/'
): Promise<TokenServer> {
  const requests: TokenRequest[] = []
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid')
    const record: TokenRequest = {
      scope: url.searchParams.getAll('scope').join(' '),
      service: url.searchParams.get('service') ?? ''
    }
    if (req.headers.authorization) record.authorization = req.headers.authorization
    requests.push(record)
    let subject = ''
    if (req.headers.authorization) {
      const decoded = Buffer.from(req.headers.authorization.replace(/^Basic /, ''), 'base64')
        .toString('utf8')
        .split(':')
      const [username, ...rest] = decoded
      if (users[username] === undefined || users[username] !== rest.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ details: 'bad credentials' }))
        return
      }
      subject = username
    }
    const access: Access[] = []
    for (const scope of url.searchParams.getAll('scope')) {
      const [type, name, actions] = scope.split(':')
      if (type !== 'repository') continue
      if (subject) access.push({ type, name, actions: actions.split(',') })
      else if (name.startsWith(publicPrefix)) access.push({ type, name, actions: ['pull'] })
    }
    const token = signToken(issuer, subject, access)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300 }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    realm: `http://${host}/token`,
    host,
    requests,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

export interface RecordingServer {
  host: string
  url: string
  requests: { method: string; path: string; headers: IncomingHttpHeaders }[]
  stop(): Promise<void>
}

/** Answers every request with `respond(path)` and records the request headers. */
export async function startRecordingServer(
  respond: (path: string) => { status: number; headers: Record<string, string>; body: Buffer }
): Promise<RecordingServer> {
  const requests: RecordingServer['requests'] = []
  const server = createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers })
    const answer = respond(path)
    res.writeHead(answer.status, answer.headers)
    res.end(req.method === 'HEAD' ? undefined : answer.body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    host,
    url: `http://${host}`,
    requests,
    stop: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
