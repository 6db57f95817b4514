import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { startRegistry, freePort, type TestRegistry } from '../helpers/registry.js'
import { pushImage, pushIndex } from '../helpers/images.js'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { ABSENT_DIGEST, planFor } from '../helpers/registry-plans.js'
import {
  MAX_TAGS,
  RegistryClient,
  type RegistryClientOptions
} from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { RegistryError } from '../../src/domain/errors.js'
import { checkDigest } from '../../src/domain/drift.js'
import { mapConcurrent } from '../../src/lib/concurrency.js'

const TAG = '6.4.4-ubuntu-22.04'
const NO_CREDENTIALS = createCredentialStore({ dockerConfigDir: '/nonexistent-rp-docker-config' })
const isManifest = (tag: string) => (method: string, path: string) =>
  path.includes(`/manifests/${tag}`) && (method === 'HEAD' || method === 'GET')

describe('the registry client against a real anonymous registry', () => {
  let registry: TestRegistry
  let proxy: FaultProxy
  let image: string
  let older: string
  let index: { index: string; manifests: Record<string, string> }
  let logs: string[]

  function client(options: Partial<RegistryClientOptions> = {}): RegistryClient {
    return new RegistryClient({
      credentials: NO_CREDENTIALS,
      insecureRegistries: [proxy.host],
      timeoutMs: 2_000,
      retry: { baseDelayMs: 20 },
      log: message => logs.push(message),
      ...options
    })
  }
  const plan = (repositoryPath: string, tag: string, pin: string | undefined) =>
    planFor(proxy.host, repositoryPath, tag, pin)

  beforeAll(async () => {
    registry = await startRegistry()
    older = await pushImage(registry.host, 'rocm/dev', 'older')
    image = await pushImage(registry.host, 'rocm/dev', TAG)
    index = await pushIndex(registry.host, 'rocm/multi', TAG, ['linux/amd64', 'linux/arm64'])
    proxy = await startFaultProxy(registry.host)
  })
  afterAll(async () => {
    await proxy.stop()
    await registry.stop()
  })
  beforeEach(() => {
    proxy.reset()
    logs = []
  })

  describe('when the tag still points at the pin', () => {
    it('finds a match with one HEAD', async () => {
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding).toEqual({
        status: 'match',
        pinnedDigest: image,
        currentDigest: image,
        currentMediaType: expect.stringMatching(/manifest/),
        pinnedKind: 'manifest',
        pinnedExists: true,
        requests: 1
      })
      expect(proxy.requests.map(r => r.method)).toEqual(['HEAD'])
    })

    it('asks once for identical references, however many rows name them', async () => {
      const shared = client()
      const findings = await mapConcurrent([1, 2, 3], 3, () =>
        checkDigest(plan('rocm/dev', TAG, image), shared)
      )
      expect(findings.map(f => f.status)).toEqual(['match', 'match', 'match'])
      expect(proxy.requests).toHaveLength(1)
      expect(shared.requestCount).toBe(1)
      expect(findings.map(f => f.requests).sort()).toEqual([0, 0, 1])
    })
  })

  describe('when the tag has moved', () => {
    it('reports drift with both digests and that the pin still exists', async () => {
      const finding = await checkDigest(plan('rocm/dev', TAG, older), client())
      expect(finding).toMatchObject({
        status: 'drift',
        pinnedDigest: older,
        currentDigest: image,
        pinnedExists: true,
        pinnedKind: 'manifest',
        requests: 2
      })
      expect(proxy.requests.map(r => `${r.method} ${r.path.split('/').pop()}`)).toEqual([
        `HEAD ${TAG}`,
        `HEAD ${older}`
      ])
    })

    it('works with only resolveTag and manifestExists, leaving the pin unclassified', async () => {
      const c = client()
      const finding = await checkDigest(plan('rocm/dev', TAG, older), {
        resolveTag: c.resolveTag.bind(c),
        manifestExists: c.manifestExists.bind(c)
      })
      expect(finding).toMatchObject({ status: 'drift', pinnedExists: true, requests: 2 })
      expect(finding.pinnedKind).toBeUndefined()
    })

    it('says when the pinned digest is gone from the repository', async () => {
      const finding = await checkDigest(plan('rocm/dev', TAG, ABSENT_DIGEST), client())
      expect(finding).toMatchObject({ status: 'drift', currentDigest: image, pinnedExists: false })
      expect(finding.pinnedKind).toBeUndefined()
    })
  })

  it('reports tag-missing on 404, without retrying, and still checks the pin', async () => {
    const finding = await checkDigest(plan('rocm/dev', 'no-such-tag', image), client())
    expect(finding).toEqual({
      status: 'tag-missing',
      pinnedDigest: image,
      pinnedExists: true,
      pinnedKind: 'manifest',
      requests: 2
    })
    expect(proxy.requests.filter(r => r.path.endsWith('/no-such-tag'))).toHaveLength(1)
  })

  it('reads what a not-pinned row would be pinned to', async () => {
    const finding = await checkDigest(plan('rocm/dev', TAG, 'sha256:TODO_pin_me'), client())
    expect(finding).toMatchObject({ status: 'not-pinned', currentDigest: image, requests: 1 })
    expect(finding.pinnedDigest).toBeUndefined()
  })

  describe('with a multi-arch index', () => {
    it('matches a pin of the index itself', async () => {
      const finding = await checkDigest(plan('rocm/multi', TAG, index.index), client())
      expect(finding).toMatchObject({
        status: 'match',
        currentDigest: index.index,
        currentMediaType: 'application/vnd.oci.image.index.v1+json',
        pinnedKind: 'index',
        requests: 2
      })
      expect(proxy.requests.map(r => r.method)).toEqual(['HEAD', 'GET'])
    })

    it('matches a pin of one platform manifest and names the platform', async () => {
      const arm = index.manifests['linux/arm64']
      const finding = await checkDigest(plan('rocm/multi', TAG, arm), client())
      expect(finding).toMatchObject({
        status: 'match',
        pinnedDigest: arm,
        currentDigest: index.index,
        pinnedKind: 'platform-manifest',
        pinnedPlatform: 'linux/arm64',
        pinnedExists: true
      })
    })

    it('lists the platforms of the index', async () => {
      const info = await client().resolveTag(proxy.host, 'rocm/multi', TAG)
      expect(info.platforms).toEqual([
        { digest: index.manifests['linux/amd64'], platform: 'linux/amd64' },
        { digest: index.manifests['linux/arm64'], platform: 'linux/arm64' }
      ])
    })

    it('reports drift when the pin is an index the tag no longer points at', async () => {
      const finding = await checkDigest(plan('rocm/multi', TAG, image), client())
      expect(finding).toMatchObject({
        status: 'drift',
        currentDigest: index.index,
        pinnedExists: false
      })
    })
  })

  describe('when the registry omits Docker-Content-Digest', () => {
    it('falls back to GET and computes the digest from the body', async () => {
      proxy.rules = [
        {
          when: (m, p) => m === 'HEAD' && p.endsWith(`/${TAG}`),
          action: { kind: 'drop-headers', headers: ['docker-content-digest'] }
        }
      ]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding).toMatchObject({ status: 'match', currentDigest: image, requests: 2 })
      expect(proxy.requests.map(r => r.method)).toEqual(['HEAD', 'GET'])
    })

    it('refuses a body whose digest is not the one claimed', async () => {
      proxy.rules = [
        {
          when: (m, p) => m === 'HEAD' && p.endsWith(`/${TAG}`),
          action: { kind: 'drop-headers', headers: ['docker-content-digest'] }
        },
        {
          when: (m, p) => m === 'GET' && p.endsWith(`/${TAG}`),
          action: {
            kind: 'status',
            status: 200,
            headers: {
              'content-type': 'application/vnd.oci.image.manifest.v1+json',
              'docker-content-digest': image
            },
            body: '{"schemaVersion":2,"tampered":true}'
          }
        }
      ]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding.status).toBe('unreachable')
      expect(finding.cause).toMatch(
        /^REGISTRY_PROTOCOL: .*the manifest's digest is sha256:[0-9a-f]{64}, not the sha256:/
      )
      expect(finding.currentDigest).toBeUndefined()
    })
  })

  describe('with faults injected at the proxy', () => {
    it('retries a 503 and then succeeds', async () => {
      proxy.rules = [{ when: isManifest(TAG), action: { kind: 'status', status: 503 }, times: 1 }]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding).toMatchObject({ status: 'match', requests: 2 })
      expect(proxy.requests.map(r => r.status)).toEqual([503, 200])
      expect(logs.join('\n')).toMatch(
        /REGISTRY_UNREACHABLE: HEAD .* HTTP 503; retrying in \d+ ms \(attempt 2 of 4\)/
      )
    })

    it('waits as long as a 429 Retry-After says', async () => {
      proxy.rules = [
        {
          when: isManifest(TAG),
          action: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
          times: 1
        }
      ]
      const started = Date.now()
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding.status).toBe('match')
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
      expect(logs.join('\n')).toMatch(/REGISTRY_RATE_LIMITED: .*retrying in 1000 ms/)
    })

    it('retries a reset connection', async () => {
      proxy.rules = [{ when: isManifest(TAG), action: { kind: 'reset' }, times: 1 }]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding).toMatchObject({ status: 'match', requests: 2 })
      expect(logs.join('\n')).toMatch(/REGISTRY_UNREACHABLE: HEAD .*(ECONNRESET|socket hang up)/)
    })

    it('gives up on a response slower than the timeout after every attempt', async () => {
      proxy.rules = [{ when: isManifest(TAG), action: { kind: 'delay', ms: 3_000 } }]
      const started = Date.now()
      const finding = await checkDigest(
        plan('rocm/dev', TAG, image),
        client({ timeoutMs: 250, maxAttempts: 2 })
      )
      expect(Date.now() - started).toBeLessThan(2_000)
      expect(finding).toMatchObject({ status: 'unreachable', pinnedDigest: image, requests: 2 })
      expect(finding.cause).toMatch(
        /^REGISTRY_TIMEOUT: HEAD http:\/\/127\.0\.0\.1:\d+\/v2\/rocm\/dev\/manifests\/6\.4\.4-ubuntu-22\.04: no complete answer within 250 ms$/
      )
    })

    it('recovers when only the first answer is slow', async () => {
      proxy.rules = [{ when: isManifest(TAG), action: { kind: 'delay', ms: 1_000 }, times: 1 }]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client({ timeoutMs: 250 }))
      expect(finding).toMatchObject({ status: 'match', requests: 2 })
    })

    it('stops after maxAttempts when the 503s go on', async () => {
      proxy.rules = [{ when: isManifest(TAG), action: { kind: 'status', status: 503 } }]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client({ maxAttempts: 3 }))
      expect(finding).toMatchObject({ status: 'unreachable', requests: 3 })
      expect(finding.cause).toMatch(/^REGISTRY_UNREACHABLE: .*HTTP 503/)
    })

    it('does not retry a 401 and reports it as an authentication problem', async () => {
      proxy.rules = [
        {
          when: isManifest(TAG),
          action: {
            kind: 'status',
            status: 401,
            body: '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
          }
        }
      ]
      const finding = await checkDigest(plan('rocm/dev', TAG, image), client())
      expect(finding.status).toBe('access-denied')
      expect(finding.cause).toMatch(/^REGISTRY_AUTH: /)
      expect(proxy.requests).toHaveLength(1)
    })
  })

  it('reports a registry nobody listens on as unreachable', async () => {
    const closed = `127.0.0.1:${await freePort()}`
    const finding = await checkDigest(
      planFor(closed, 'rocm/dev', TAG, image),
      client({ insecureRegistries: [closed], maxAttempts: 2 })
    )
    expect(finding).toMatchObject({ status: 'unreachable', requests: 2 })
    expect(finding.cause).toMatch(
      /^REGISTRY_UNREACHABLE: HEAD http:\/\/127\.0\.0\.1:\d+\/.*ECONNREFUSED/
    )
  })

  it('speaks HTTPS to a registry not listed as insecure', async () => {
    const finding = await checkDigest(
      plan('rocm/dev', TAG, image),
      client({ insecureRegistries: [], maxAttempts: 1 })
    )
    expect(finding.status).toBe('unreachable')
    expect(finding.cause).toMatch(/^REGISTRY_UNREACHABLE: HEAD https:\/\/127\.0\.0\.1:/)
    expect(finding.cause).toContain(
      'the registry answered in plain HTTP: if it is meant to, list it in insecure-registries'
    )
    // One line: the decision path keeps a cause's first line only (OpenSSL ends in a break).
    expect(finding.cause).not.toContain('\n')
    expect(proxy.requests).toHaveLength(0)
  })

  it('lists tags across Link pages', async () => {
    // Distribution 2.8 does not paginate tag lists: the proxy serves a first page with a Link.
    proxy.rules = [
      {
        when: (m, p) => m === 'GET' && p.includes('/rocm/dev/tags/list') && !p.includes('last='),
        action: {
          kind: 'status',
          status: 200,
          headers: { link: '</v2/rocm/dev/tags/list?n=2&last=from-page-1>; rel="next"' },
          body: '{"name":"rocm/dev","tags":["from-page-1"]}'
        }
      }
    ]
    const tags = await client({ tagsPageSize: 2 }).listTags(proxy.host, 'rocm/dev')
    expect(tags).toEqual(['from-page-1', ...['6.4.4-ubuntu-22.04', 'older'].sort()])
    expect(proxy.requests.map(r => r.path)).toEqual([
      '/v2/rocm/dev/tags/list?n=2',
      '/v2/rocm/dev/tags/list?n=2&last=from-page-1'
    ])
  })

  it('fetches a tag list page that names itself as next once, and keeps each tag once', async () => {
    proxy.rules = [
      {
        when: (m, p) => m === 'GET' && p.includes('/rocm/dev/tags/list'),
        action: {
          kind: 'status',
          status: 200,
          headers: { link: '</v2/rocm/dev/tags/list?n=2>; rel="next"' },
          body: '{"name":"rocm/dev","tags":["a","b","a","b"]}'
        }
      }
    ]
    const tags = await client({ tagsPageSize: 2 }).listTags(proxy.host, 'rocm/dev')
    expect(tags).toEqual(['a', 'b'])
    expect(proxy.requests.map(r => r.path)).toEqual(['/v2/rocm/dev/tags/list?n=2'])
  })

  it('refuses a tag list longer than MAX_TAGS distinct tags instead of holding it all', async () => {
    const tags = Array.from({ length: MAX_TAGS + 1 }, (_, i) => `t${i}`)
    proxy.rules = [
      {
        when: (m, p) => m === 'GET' && p.includes('/rocm/dev/tags/list'),
        action: {
          kind: 'status',
          status: 200,
          body: JSON.stringify({ name: 'rocm/dev', tags: ['x'.repeat(300), ...tags] })
        }
      }
    ]
    await expect(client().listTags(proxy.host, 'rocm/dev')).rejects.toMatchObject({
      code: 'REGISTRY_PROTOCOL',
      message: expect.stringMatching(/lists more than 100000 tags; not reading further$/)
    })
  })

  it('stops at a tag list page already fetched (a loop of two pages)', async () => {
    proxy.rules = [
      {
        when: (m, p) => m === 'GET' && p.includes('/rocm/dev/tags/list') && !p.includes('last='),
        action: {
          kind: 'status',
          status: 200,
          headers: { link: '</v2/rocm/dev/tags/list?n=2&last=a>; rel="next"' },
          body: '{"name":"rocm/dev","tags":["a"]}'
        }
      },
      {
        when: (m, p) => m === 'GET' && p.includes('last=a'),
        action: {
          kind: 'status',
          status: 200,
          headers: { link: '</v2/rocm/dev/tags/list?n=2>; rel="next"' },
          body: '{"name":"rocm/dev","tags":["b"]}'
        }
      }
    ]
    const tags = await client({ tagsPageSize: 2 }).listTags(proxy.host, 'rocm/dev')
    expect(tags).toEqual(['a', 'b'])
    expect(proxy.requests).toHaveLength(2)
  })

  it('answers manifestExists with false on 404 and throws on other trouble', async () => {
    const c = client({ maxAttempts: 1 })
    expect(await c.manifestExists(proxy.host, 'rocm/dev', image)).toBe(true)
    expect(await c.manifestExists(proxy.host, 'rocm/dev', ABSENT_DIGEST)).toBe(false)
    proxy.rules = [{ when: () => true, action: { kind: 'status', status: 500 } }]
    await expect(c.manifestExists(proxy.host, 'rocm/dev', older)).rejects.toBeInstanceOf(
      RegistryError
    )
  })
})

describe('the registry client against a server that trickles its headers', () => {
  it('times out and closes the connection, so nothing keeps the process alive', async () => {
    let closed!: () => void
    const connectionClosed = new Promise<void>(resolve => (closed = resolve))
    const timers: NodeJS.Timeout[] = []
    const server = createNetServer(socket => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n')
        timers.push(setInterval(() => socket.write('X'), 50))
      })
      socket.on('error', () => undefined)
      socket.on('close', () => closed())
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      const trickle = new RegistryClient({
        credentials: NO_CREDENTIALS,
        insecureRegistries: [host],
        timeoutMs: 300,
        maxAttempts: 1
      })
      await expect(trickle.inspectManifest(host, 'rocm/dev', TAG)).rejects.toMatchObject({
        code: 'REGISTRY_TIMEOUT'
      })
      await connectionClosed
      trickle.close()
    } finally {
      for (const timer of timers) clearInterval(timer)
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  })
})
