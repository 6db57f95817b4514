/**
 * Registry-aware scheduling, read from a loopback proxy's request log in front
 * of a real registry: a 429 with Retry-After holds every request to that
 * registry, not only the one that was told, and `registry_concurrency` bounds
 * the requests in flight. The claims are about the order of requests in the
 * proxy's log, not about how fast anything ran.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { mapConcurrent } from '../../src/lib/concurrency.js'
import { startFaultProxy, type FaultProxy, type RecordedRequest } from '../helpers/fault-proxy.js'
import { pushImage } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'

const NO_CREDENTIALS = createCredentialStore({ dockerConfigDir: '/nonexistent-rp-docker-config' })
const TAGS = ['6.0.0', '6.1.0', '6.2.0', '6.3.0', '6.4.0', '6.4.1'].map(v => `${v}-ubuntu-22.04`)
const RETRY_AFTER_S = 1

describe('registry-aware scheduling through a throttling proxy', () => {
  let registry: TestRegistry
  let proxy: FaultProxy

  beforeAll(async () => {
    registry = await startRegistry()
    for (const tag of TAGS) await pushImage(registry.host, 'rocm/dev', tag)
    proxy = await startFaultProxy(registry.host)
  }, 120_000)
  afterAll(async () => {
    await proxy.stop()
    await registry.stop()
  })
  beforeEach(() => proxy.reset())

  function client(registryConcurrency: number): RegistryClient {
    return new RegistryClient({
      credentials: NO_CREDENTIALS,
      insecureRegistries: [proxy.host],
      timeoutMs: 5_000,
      retry: { baseDelayMs: 20 },
      registryConcurrency
    })
  }
  const manifestRequests = (): RecordedRequest[] =>
    proxy.requests.filter(request => request.path.includes('/manifests/'))

  it('when one request is told 429 with Retry-After, every later request waits it out', async () => {
    proxy.rules = [
      {
        when: (method, path) => method === 'HEAD' && path.includes('/manifests/'),
        action: { kind: 'status', status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) } },
        times: 1
      },
      // Each answer takes a while, so that requests queue behind the limit.
      { when: (_m, path) => path.includes('/manifests/'), action: { kind: 'delay', ms: 100 } }
    ]
    // One slot: no other request is already on its way when the 429 is answered,
    // so each request after it is one the back-off could hold.
    const registryClient = client(1)
    const digests = await mapConcurrent(TAGS, TAGS.length, tag =>
      registryClient.resolveTag(proxy.host, 'rocm/dev', tag)
    )
    expect(digests.every(d => d.digest.startsWith('sha256:'))).toBe(true)

    const log = manifestRequests()
    const told = log.filter(request => request.status === 429)
    expect(told).toHaveLength(1)
    const toldAt = told[0].finishedAt ?? 0
    // Every other worker's request and the retry reached the proxy after the
    // 429 was answered, and none of them within the Retry-After.
    const later = log.filter(request => (request.receivedAt ?? 0) > toldAt)
    expect(later).toHaveLength(TAGS.length)
    for (const request of later) {
      expect((request.receivedAt ?? 0) - toldAt).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 5)
    }
    expect(log).toHaveLength(TAGS.length + 1)

    expect(registryClient.throttles()).toEqual([
      {
        registry: proxy.host,
        responses: 1,
        firstAt: expect.any(String),
        waitedMs: RETRY_AFTER_S * 1000
      }
    ])
  }, 60_000)

  it('never has more than registry_concurrency requests in flight to one registry', async () => {
    proxy.rules = [
      { when: (_m, path) => path.includes('/manifests/'), action: { kind: 'delay', ms: 50 } }
    ]
    const registryClient = client(2)
    await mapConcurrent(TAGS, TAGS.length, tag =>
      registryClient.resolveTag(proxy.host, 'rocm/dev', tag)
    )
    const log = manifestRequests()
    expect(log).toHaveLength(TAGS.length)
    // The most requests whose [received, finished] intervals overlap at once.
    const events = log.flatMap(request => [
      { at: request.receivedAt ?? 0, step: 1 },
      { at: request.finishedAt ?? 0, step: -1 }
    ])
    events.sort((a, b) => a.at - b.at || a.step - b.step)
    let inFlight = 0
    let most = 0
    for (const event of events) {
      inFlight += event.step
      most = Math.max(most, inFlight)
    }
    expect(most).toBe(2)
    expect(registryClient.throttles()).toEqual([])
  }, 60_000)
})
