import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  basicAuthorization,
  parseChallenges,
  parseTokenResponse
} from '../../src/adapters/registry/auth.js'
import { apiRepositoryPath, registryApiHost } from '../../src/adapters/registry/client.js'
import { nextLink, parseIndexPlatforms } from '../../src/domain/manifest.js'
import { isDigest } from '../../src/domain/reference.js'
import {
  createCredentialStore,
  normalizeRegistryHost,
  parseDockerConfigAuths
} from '../../src/adapters/registry/credentials.js'
import { RegistryError } from '../../src/domain/errors.js'
import { errorForStatus } from '../../src/adapters/registry/errors.js'
import { backoffDelay, parseRetryAfter, withRetry, type RetryPolicy } from '../../src/lib/retry.js'
import { mapConcurrent } from '../../src/lib/concurrency.js'

describe('parseChallenges', () => {
  it.each([
    [
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:rocm/dev:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://ghcr.io/token',
            service: 'ghcr.io',
            scope: 'repository:rocm/dev:pull'
          }
        }
      ]
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'Basic realm="a, b", Bearer realm="https://auth.example/token" , error=insufficient_scope',
      [
        { scheme: 'basic', params: { realm: 'a, b' } },
        {
          scheme: 'bearer',
          params: { realm: 'https://auth.example/token', error: 'insufficient_scope' }
        }
      ]
    ],
    ['Bearer realm="q\\"uoted"', [{ scheme: 'bearer', params: { realm: 'q"uoted' } }]],
    ['', []]
  ])('reads %j', (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected)
  })

  it('reads several header values', () => {
    expect(parseChallenges(['Basic realm="x"', 'Bearer realm="y"']).map(c => c.scheme)).toEqual([
      'basic',
      'bearer'
    ])
  })
})

describe('parseTokenResponse', () => {
  it('takes token, else access_token, and the lifetime', () => {
    expect(parseTokenResponse('{"token":"t1","expires_in":300}')).toEqual({
      token: 't1',
      expiresInSeconds: 300
    })
    expect(parseTokenResponse('{"access_token":"t2"}')).toEqual({ token: 't2' })
  })
  it('refuses an answer without a token', () => {
    expect(() => parseTokenResponse('{"expires_in":3}')).toThrow(RegistryError)
    expect(() => parseTokenResponse('<html>')).toThrow(/not JSON|other than JSON/)
  })
})

describe('credentials', () => {
  it('normalises Docker config keys and Docker Hub aliases', () => {
    expect(normalizeRegistryHost('https://index.docker.io/v1/')).toBe('docker.io')
    expect(normalizeRegistryHost('registry-1.docker.io')).toBe('docker.io')
    expect(normalizeRegistryHost('https://GHCR.io')).toBe('ghcr.io')
    expect(normalizeRegistryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000')
  })

  it('reads auth and username/password entries and skips unreadable ones', () => {
    const auths = parseDockerConfigAuths({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hub:p:w').toString('base64') },
        'registry.example:5000': { username: 'u', password: 'p' },
        broken: { auth: Buffer.from('nocolon').toString('base64') },
        empty: {}
      }
    })
    expect([...auths.entries()]).toEqual([
      ['docker.io', { username: 'hub', password: 'p:w' }],
      ['registry.example:5000', { username: 'u', password: 'p' }]
    ])
  })

  it('prefers the Docker config entry, then the inputs, then the GitHub token for ghcr.io', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rp-cred-'))
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ auths: { 'ghcr.io': { username: 'cfg', password: 'cfg-pw' } } })
    )
    const withInputs = createCredentialStore({
      username: 'in',
      password: 'in-pw',
      githubToken: 'gh',
      dockerConfigDir: dir
    })
    expect(await withInputs.get('ghcr.io')).toEqual({ username: 'cfg', password: 'cfg-pw' })
    expect(await withInputs.get('quay.io')).toEqual({ username: 'in', password: 'in-pw' })
    const tokenOnly = createCredentialStore({
      githubToken: 'gh',
      dockerConfigDir: join(dir, 'none')
    })
    expect(await tokenOnly.get('ghcr.io')).toEqual({ username: 'x-access-token', password: 'gh' })
    expect(await tokenOnly.get('docker.io')).toBeUndefined()
  })

  it('does not quote a broken config file in its error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rp-cred-'))
    writeFileSync(join(dir, 'config.json'), '{"auths": {"x": {"auth": "s3cr3t-value"')
    expect(() => createCredentialStore({ dockerConfigDir: dir })).toThrow(/is not valid JSON$/)
    try {
      createCredentialStore({ dockerConfigDir: dir })
    } catch (error: unknown) {
      expect(String((error as Error).message)).not.toContain('s3cr3t')
    }
  })

  it('makes a Basic authorization value', () => {
    expect(basicAuthorization({ username: 'a', password: 'b' })).toBe('Basic YTpi')
  })
})

describe('retry', () => {
  const policy: RetryPolicy = {
    maxAttempts: 3,
    baseDelayMs: 100,
    maxDelayMs: 150,
    maxRetryAfterMs: 1000
  }

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000)
    expect(parseRetryAfter('soon', 0)).toBeUndefined()
    expect(parseRetryAfter(undefined, 0)).toBeUndefined()
  })

  it('jitters under a doubling, capped ceiling', () => {
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99)
    expect(backoffDelay(2, policy, () => 0.999)).toBe(149)
    expect(backoffDelay(3, policy, () => 0.5)).toBe(75)
    expect(backoffDelay(1, policy, () => 0)).toBe(0)
  })

  it('retries what is retryable, waits as told, and stops at maxAttempts', async () => {
    const waits: number[] = []
    let calls = 0
    const failing = withRetry(
      async () => {
        calls++
        throw new RegistryError('REGISTRY_RATE_LIMITED', 'slow down', {
          retryable: true,
          retryAfterMs: 700
        })
      },
      policy,
      {
        classify: e => ({
          retryable: (e as RegistryError).retryable,
          retryAfterMs: (e as RegistryError).retryAfterMs
        }),
        sleep: async ms => {
          waits.push(ms)
        }
      }
    )
    await expect(failing).rejects.toThrow('slow down')
    expect(calls).toBe(3)
    expect(waits).toEqual([700, 700])
  })

  it('gives up at once on a final error or a Retry-After beyond the cap', async () => {
    for (const error of [
      new RegistryError('REGISTRY_NOT_FOUND', 'gone'),
      new RegistryError('REGISTRY_RATE_LIMITED', 'later', { retryable: true, retryAfterMs: 5000 })
    ]) {
      let calls = 0
      await expect(
        withRetry(
          async () => {
            calls++
            throw error
          },
          policy,
          {
            classify: e => ({
              retryable: (e as RegistryError).retryable,
              retryAfterMs: (e as RegistryError).retryAfterMs
            }),
            sleep: async () => undefined
          }
        )
      ).rejects.toBe(error)
      expect(calls).toBe(1)
    }
  })
})

describe('errorForStatus', () => {
  it.each([
    [401, 'REGISTRY_AUTH', false],
    [403, 'REGISTRY_AUTH', false],
    [404, 'REGISTRY_NOT_FOUND', false],
    [429, 'REGISTRY_RATE_LIMITED', true],
    [502, 'REGISTRY_UNREACHABLE', true],
    [400, 'REGISTRY_PROTOCOL', false]
  ])('maps %i to %s (retryable: %s)', (status, code, retryable) => {
    const error = errorForStatus('HEAD x', {
      status,
      body: '{"errors":[{"code":"SOME_CODE","message":"said so"}]}'
    })
    expect(error.code).toBe(code)
    expect(error.retryable).toBe(retryable)
    expect(error.message).toBe(`HEAD x: HTTP ${status} (SOME_CODE: said so)`)
  })
})

describe('distribution API details', () => {
  it('maps Docker Hub to its API host and official images to library/', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io')
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io')
    expect(apiRepositoryPath('docker.io', 'ubuntu')).toBe('library/ubuntu')
    expect(apiRepositoryPath('docker.io', 'rocm/dev')).toBe('rocm/dev')
    expect(apiRepositoryPath('ghcr.io', 'ubuntu')).toBe('ubuntu')
  })

  it('follows rel="next" only', () => {
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"')).toBe('/v2/a/tags/list?n=2&last=b')
    expect(nextLink('<https://x/prev>; rel="prev", <https://x/next>; rel=next')).toBe(
      'https://x/next'
    )
    expect(nextLink('</x>; rel="prev"')).toBeUndefined()
    expect(nextLink(undefined)).toBeUndefined()
  })

  it('lists the platforms of an index', () => {
    const amd = `sha256:${'a'.repeat(64)}`
    const arm = `sha256:${'b'.repeat(64)}`
    expect(
      parseIndexPlatforms({
        manifests: [
          { digest: amd, platform: { os: 'linux', architecture: 'amd64' } },
          { digest: arm, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
          { digest: 'sha256:short', platform: { os: 'linux', architecture: 'ppc64le' } },
          { digest: amd }
        ]
      })
    ).toEqual([
      { digest: amd, platform: 'linux/amd64' },
      { digest: arm, platform: 'linux/arm64/v8' }
    ])
    expect(isDigest(amd)).toBe(true)
    expect(isDigest('sha256:TODO')).toBe(false)
  })
})

describe('mapConcurrent', () => {
  it('keeps the order and never runs more than the limit at once', async () => {
    let running = 0
    let peak = 0
    const results = await mapConcurrent([30, 5, 20, 1, 10], 2, async (ms, index) => {
      running++
      peak = Math.max(peak, running)
      await new Promise(resolve => setTimeout(resolve, ms))
      running--
      return `${index}:${ms}`
    })
    expect(results).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10'])
    expect(peak).toBe(2)
  })

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = []
    await expect(
      mapConcurrent([1, 2, 3, 4], 1, async item => {
        started.push(item)
        if (item === 2) throw new Error('boom')
        return item
      })
    ).rejects.toThrow('boom')
    expect(started).toEqual([1, 2])
  })

  it('refuses a limit below one', async () => {
    await expect(mapConcurrent([1], 0, async x => x)).rejects.toThrow(RangeError)
  })
})
