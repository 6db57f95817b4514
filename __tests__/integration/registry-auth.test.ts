import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { pushImage } from '../helpers/images.js'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { planFor } from '../helpers/registry-plans.js'
import {
  copyImage,
  dockerConfigWith,
  htpasswdEntry,
  makeSecret,
  makeTokenIssuer,
  startRecordingServer,
  startTokenServer,
  type RecordingServer,
  type TokenServer
} from '../helpers/registry-auth-servers.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { MANIFEST_ACCEPT } from '../../src/domain/manifest.js'
import {
  createCredentialStore,
  type CredentialOptions
} from '../../src/adapters/registry/credentials.js'
import { checkDigest } from '../../src/domain/drift.js'
import { mapConcurrent } from '../../src/lib/concurrency.js'
import type { DigestFinding } from '../../src/domain/types.js'

const TAG = '6.4.4-ubuntu-22.04'
const USER = 'rocm-ci'
const EMPTY_DOCKER_CONFIG = '/nonexistent-rp-docker-config'

/** One client with its log and the secrets it masked, checked for leaks at the end of a test. */
function observedClient(
  insecureRegistries: string[],
  credentials: CredentialOptions
): { client: RegistryClient; logs: string[]; masked: string[] } {
  const logs: string[] = []
  const masked: string[] = []
  const client = new RegistryClient({
    credentials: createCredentialStore({ dockerConfigDir: EMPTY_DOCKER_CONFIG, ...credentials }),
    insecureRegistries,
    timeoutMs: 5_000,
    retry: { baseDelayMs: 20 },
    maskSecret: secret => masked.push(secret),
    log: message => logs.push(message)
  })
  return { client, logs, masked }
}

/** Neither a secret nor anything masked appears in the logs or findings. */
function expectNoLeak(secrets: string[], logs: string[], findings: DigestFinding[]): void {
  const output = JSON.stringify({ logs, findings })
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(3)
    expect(output).not.toContain(secret)
  }
}

function basicOf(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64')
}

let source: TestRegistry
const digests: Record<string, string> = {}

beforeAll(async () => {
  source = await startRegistry()
  for (const ref of [
    'rocm/dev:' + TAG,
    'rocm/dev:second',
    'public/rocm:' + TAG,
    'public/rocm:second',
    'public/other:' + TAG,
    'private/rocm:' + TAG
  ]) {
    const [repository, tag] = ref.split(':')
    digests[ref] = await pushImage(source.host, repository, tag)
  }
})
afterAll(async () => {
  await source.stop()
})

describe('a registry with htpasswd Basic auth', () => {
  const password = makeSecret('basic-password')
  let registry: TestRegistry
  let proxy: FaultProxy
  let plan: (tag: string) => ReturnType<typeof planFor>

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: htpasswdEntry(USER, password) })
    const config = dockerConfigWith({ [registry.host]: { username: USER, password } })
    for (const tag of [TAG, 'second'])
      await copyImage(`${source.host}/rocm/dev:${tag}`, `${registry.host}/rocm/dev:${tag}`, config)
    proxy = await startFaultProxy(registry.host)
    plan = tag => planFor(proxy.host, 'rocm/dev', tag, digests[`rocm/dev:${tag}`])
  })
  afterAll(async () => {
    await proxy.stop()
    await registry.stop()
  })
  beforeEach(() => proxy.reset())

  it('answers the challenge with the right credentials, then sends them up front', async () => {
    const { client, logs, masked } = observedClient([proxy.host], { username: USER, password })
    const first = await checkDigest(plan(TAG), client)
    const second = await checkDigest(plan('second'), client)
    expect([first.status, second.status]).toEqual(['match', 'match'])
    expect([first.requests, second.requests]).toEqual([2, 1])
    expect(proxy.requests.map(r => [r.status, r.authorization !== undefined])).toEqual([
      [401, false],
      [200, true],
      [200, true]
    ])
    expect(masked).toEqual(expect.arrayContaining([password, basicOf(USER, password)]))
    expectNoLeak([password, basicOf(USER, password)], logs, [first, second])
  })

  it('reports refused credentials without retrying them', async () => {
    const wrong = makeSecret('wrong-password')
    const { client, logs } = observedClient([proxy.host], { username: USER, password: wrong })
    const finding = await checkDigest(plan(TAG), client)
    expect(finding.status).toBe('access-denied')
    expect(finding.cause).toMatch(
      /^REGISTRY_AUTH: credentials were refused by 127\.0\.0\.1:\d+ for repository:rocm\/dev:pull: HEAD .*HTTP 401/
    )
    expect(proxy.requests.map(r => r.status)).toEqual([401, 401])
    expectNoLeak([wrong, basicOf(USER, wrong), password], logs, [finding])
  })

  it('says so when no credentials are configured', async () => {
    const { client } = observedClient([proxy.host], {})
    const finding = await checkDigest(plan(TAG), client)
    expect(finding.status).toBe('access-denied')
    expect(finding.cause).toMatch(
      /^REGISTRY_AUTH: 127\.0\.0\.1:\d+ requires credentials \(Basic\) and none are configured/
    )
    expect(proxy.requests).toHaveLength(1)
  })

  it('takes credentials from a Docker config', async () => {
    const dockerConfigDir = dockerConfigWith({ [proxy.host]: { username: USER, password } })
    const { client, logs } = observedClient([proxy.host], { dockerConfigDir })
    const finding = await checkDigest(plan(TAG), client)
    expect(finding.status).toBe('match')
    expectNoLeak([password, basicOf(USER, password)], logs, [finding])
  })

  it('sends no credentials to a tag list page on another origin named by Link', async () => {
    const elsewhere = await startRecordingServer(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"name":"rocm/dev","tags":["from-elsewhere"]}')
    }))
    try {
      const { client, logs } = observedClient([proxy.host, elsewhere.host], {
        username: USER,
        password
      })
      // The first request learns the registry's scheme; the tag list then carries Basic up front.
      await checkDigest(plan(TAG), client)
      proxy.rules = [
        {
          when: (m, p) => m === 'GET' && p.includes('/tags/list'),
          action: {
            kind: 'status',
            status: 200,
            headers: { link: `<${elsewhere.url}/v2/rocm/dev/tags/list?last=x>; rel="next"` },
            body: '{"name":"rocm/dev","tags":["from-registry"]}'
          }
        }
      ]
      const tags = await client.listTags(proxy.host, 'rocm/dev')
      expect(tags).toEqual(['from-registry', 'from-elsewhere'])
      const list = proxy.requests.find(r => r.path.includes('/tags/list'))
      expect(list?.authorization).toBe(`Basic ${basicOf(USER, password)}`)
      expect(elsewhere.requests).toHaveLength(1)
      expect(elsewhere.requests[0].headers.authorization).toBeUndefined()
      expectNoLeak([password], logs, [])
    } finally {
      await elsewhere.stop()
    }
  })

  describe('when the manifest is redirected to another port on the same host', () => {
    let blobStore: RecordingServer
    beforeAll(async () => {
      const manifest = await fetch(`${source.url}/v2/rocm/dev/manifests/${TAG}`, {
        headers: { accept: MANIFEST_ACCEPT }
      })
      const body = Buffer.from(await manifest.arrayBuffer())
      const contentType = manifest.headers.get('content-type') ?? ''
      blobStore = await startRecordingServer(() => ({
        status: 200,
        headers: { 'content-type': contentType },
        body
      }))
    })
    afterAll(async () => {
      await blobStore.stop()
    })

    it('sends the credentials to the registry and none to the redirect target', async () => {
      proxy.rules = [
        {
          when: (m, p) => m === 'HEAD' && p.endsWith(`/${TAG}`),
          action: { kind: 'drop-headers', headers: ['docker-content-digest'] }
        },
        {
          when: (m, p) => m === 'GET' && p.endsWith(`/${TAG}`),
          action: {
            kind: 'status',
            status: 307,
            headers: { location: `${blobStore.url}/blobs/manifest-of-${TAG}` },
            body: ''
          }
        }
      ]
      const { client, logs } = observedClient([proxy.host, blobStore.host], {
        username: USER,
        password
      })
      const finding = await checkDigest(plan(TAG), client)
      expect(finding).toMatchObject({ status: 'match', currentDigest: digests[`rocm/dev:${TAG}`] })
      const get = proxy.requests.find(r => r.method === 'GET')
      expect(get?.authorization).toBe(`Basic ${basicOf(USER, password)}`)
      expect(blobStore.requests).toHaveLength(1)
      expect(blobStore.requests[0].headers.authorization).toBeUndefined()
      expect(JSON.stringify(blobStore.requests)).not.toContain(basicOf(USER, password))
      expectNoLeak([password], logs, [finding])
    })
  })
})

describe('a registry with token auth from a token service of our own', () => {
  const password = makeSecret('token-password')
  let tokens: TokenServer
  let registry: TestRegistry
  let proxy: FaultProxy
  const plan = (repository: string, tag: string) =>
    planFor(proxy.host, repository, tag, digests[`${repository}:${tag}`])

  beforeAll(async () => {
    const issuer = makeTokenIssuer()
    tokens = await startTokenServer(issuer, { [USER]: password })
    registry = await startRegistry({
      token: {
        realm: tokens.realm,
        service: issuer.service,
        issuer: issuer.issuer,
        rootCertBundlePath: issuer.certPath
      }
    })
    const config = dockerConfigWith({ [registry.host]: { username: USER, password } })
    for (const ref of [
      'public/rocm:' + TAG,
      'public/rocm:second',
      'public/other:' + TAG,
      'private/rocm:' + TAG
    ])
      await copyImage(`${source.host}/${ref}`, `${registry.host}/${ref}`, config)
    proxy = await startFaultProxy(registry.host)
  })
  afterAll(async () => {
    await proxy.stop()
    await registry.stop()
    await tokens.stop()
  })
  beforeEach(() => {
    proxy.reset()
    tokens.requests.length = 0
  })

  it('pulls anonymously with a token cached per repository', async () => {
    const { client, logs, masked } = observedClient([proxy.host, tokens.host], {})
    const findings: DigestFinding[] = []
    const registryRequests: number[] = []
    const tokenRequests: number[] = []
    for (const [repository, tag] of [
      ['public/rocm', TAG],
      ['public/rocm', 'second'],
      ['public/other', TAG]
    ]) {
      const before = [proxy.requests.length, tokens.requests.length]
      findings.push(await checkDigest(plan(repository, tag), client))
      registryRequests.push(proxy.requests.length - before[0])
      tokenRequests.push(tokens.requests.length - before[1])
    }
    expect(findings.map(f => f.status)).toEqual(['match', 'match', 'match'])
    // First image: 401, token, HEAD; same repository: HEAD; new repository: token, HEAD.
    expect(registryRequests).toEqual([2, 1, 1])
    expect(tokenRequests).toEqual([1, 0, 1])
    expect(findings.map(f => f.requests)).toEqual([3, 1, 2])
    expect(tokens.requests.map(r => [r.scope, r.authorization])).toEqual([
      ['repository:public/rocm:pull', undefined],
      ['repository:public/other:pull', undefined]
    ])
    expect(masked).toHaveLength(2)
    expectNoLeak(masked, logs, findings)
  })

  it('sends the Bearer token to a tag list page on another origin named by Link: never', async () => {
    const elsewhere = await startRecordingServer(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"name":"private/rocm","tags":["from-elsewhere"]}')
    }))
    try {
      const { client, logs, masked } = observedClient([proxy.host, tokens.host, elsewhere.host], {
        username: USER,
        password
      })
      await checkDigest(plan('private/rocm', TAG), client)
      proxy.rules = [
        {
          when: (m, p) => m === 'GET' && p.includes('/tags/list'),
          action: {
            kind: 'status',
            status: 200,
            headers: { link: `<${elsewhere.url}/v2/private/rocm/tags/list?last=x>; rel="next"` },
            body: '{"name":"private/rocm","tags":["from-registry"]}'
          }
        }
      ]
      expect(await client.listTags(proxy.host, 'private/rocm')).toEqual([
        'from-registry',
        'from-elsewhere'
      ])
      const list = proxy.requests.find(r => r.path.includes('/tags/list'))
      expect(list?.authorization).toMatch(/^Bearer /)
      expect(elsewhere.requests).toHaveLength(1)
      expect(elsewhere.requests[0].headers.authorization).toBeUndefined()
      expectNoLeak(masked, logs, [])
    } finally {
      await elsewhere.stop()
    }
  })

  it('does not answer a challenge from a Link page on another origin with the credentials', async () => {
    // Its challenge names itself as the token realm.
    const elsewhere: RecordingServer = await startRecordingServer(() => ({
      status: 401,
      headers: {
        'www-authenticate': `Bearer realm="${elsewhere.url}/token",service="x"`
      },
      body: Buffer.alloc(0)
    }))
    try {
      const { client, logs, masked } = observedClient([proxy.host, tokens.host, elsewhere.host], {
        username: USER,
        password
      })
      await checkDigest(plan('private/rocm', TAG), client)
      const tokensBefore = tokens.requests.length
      proxy.rules = [
        {
          when: (m, p) => m === 'GET' && p.includes('/tags/list'),
          action: {
            kind: 'status',
            status: 200,
            headers: { link: `<${elsewhere.url}/v2/private/rocm/tags/list?last=x>; rel="next"` },
            body: '{"name":"private/rocm","tags":["from-registry"]}'
          }
        }
      ]
      await expect(client.listTags(proxy.host, 'private/rocm')).rejects.toMatchObject({
        code: 'REGISTRY_AUTH',
        message: expect.stringMatching(
          /asked for credentials; those of 127\.0\.0\.1:\d+ are sent to/
        )
      })
      expect(elsewhere.requests.map(r => r.headers.authorization)).toEqual([undefined])
      expect(tokens.requests.length).toBe(tokensBefore)
      expect(elsewhere.requests.map(r => r.path)).toEqual(['/v2/private/rocm/tags/list?last=x'])
      expectNoLeak(masked, logs, [])
    } finally {
      await elsewhere.stop()
    }
  })

  it('shares one token among concurrent first requests to a repository', async () => {
    const { client } = observedClient([proxy.host, tokens.host], {})
    const findings = await mapConcurrent([TAG, 'second'], 2, tag =>
      checkDigest(plan('public/rocm', tag), client)
    )
    expect(findings.map(f => f.status)).toEqual(['match', 'match'])
    expect(tokens.requests).toHaveLength(1)
    expect(proxy.requests.map(r => r.status).sort()).toEqual([200, 200, 401, 401])
  })

  it('fetches a token with the credentials for a private repository', async () => {
    const { client, logs, masked } = observedClient([proxy.host, tokens.host], {
      username: USER,
      password
    })
    const finding = await checkDigest(plan('private/rocm', TAG), client)
    expect(finding).toMatchObject({ status: 'match', requests: 3 })
    expect(tokens.requests).toHaveLength(1)
    expect(tokens.requests[0].authorization).toBe(`Basic ${basicOf(USER, password)}`)
    expect(masked).toEqual(expect.arrayContaining([password, basicOf(USER, password)]))
    expect(masked.some(secret => secret.startsWith('eyJ'))).toBe(true)
    expectNoLeak([...masked, basicOf(USER, password)], logs, [finding])
  })

  it('reports credentials the token service refuses, without retrying', async () => {
    const wrong = makeSecret('wrong-token-password')
    const { client, logs, masked } = observedClient([proxy.host, tokens.host], {
      username: USER,
      password: wrong
    })
    const finding = await checkDigest(plan('private/rocm', TAG), client)
    expect(finding.status).toBe('access-denied')
    expect(finding.cause).toMatch(
      /^REGISTRY_AUTH: token for repository:private\/rocm:pull from http:\/\/127\.0\.0\.1:\d+\/token: credentials were refused by the token service \(HTTP 401\)$/
    )
    expect(tokens.requests).toHaveLength(1)
    expect(proxy.requests).toHaveLength(1)
    expectNoLeak([...masked, wrong, basicOf(USER, wrong)], logs, [finding])
  })

  it('reports a private repository asked for without credentials', async () => {
    const { client } = observedClient([proxy.host, tokens.host], {})
    const finding = await checkDigest(plan('private/rocm', TAG), client)
    expect(finding.status).toBe('access-denied')
    expect(finding.cause).toMatch(
      /^REGISTRY_AUTH: 127\.0\.0\.1:\d+ requires credentials for repository:private\/rocm:pull and none are configured: HEAD .*HTTP 401/
    )
    expect(proxy.requests.map(r => r.status)).toEqual([401, 401])
  })

  it('sends no credentials to a token realm on plain HTTP that is not listed as insecure', async () => {
    const { client, logs } = observedClient([proxy.host], { username: USER, password })
    const finding = await checkDigest(plan('private/rocm', TAG), client)
    expect(finding.status).toBe('unreachable')
    expect(finding.cause).toMatch(
      /^REGISTRY_PROTOCOL: refusing http:\/\/127\.0\.0\.1:\d+: plain HTTP/
    )
    expect(tokens.requests).toHaveLength(0)
    expectNoLeak([password, basicOf(USER, password)], logs, [finding])
  })
})
