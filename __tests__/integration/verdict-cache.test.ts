/**
 * The verification cache across runs: the real pipeline, registry and cosign,
 * and the real @actions/cache client against a loopback stand-in of GitHub's
 * cache service (__tests__/helpers/cache-standin.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAdapters } from '../../src/adapters/create.js'
import { sha256File } from '../../src/adapters/cosign/binary.js'
import { cosignIdentity, createActionsVerdictCache } from '../../src/adapters/github/cache.js'
import type { CachedVerdict, CosignTools } from '../../src/app/ports.js'
import { verifyImages } from '../../src/app/verify.js'
import type { RunResult } from '../../src/domain/types.js'
import { buildReport } from '../../src/render/report.js'
import { renderJobSummary } from '../../src/render/summary.js'
import { startCacheStandin, type CacheStandin } from '../helpers/cache-standin.js'
import { generateKeyPair, pushImage, signImage, type KeyPair } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { reportSchemaErrors } from '../helpers/report-schema.js'
import { runBundledAction } from '../helpers/action-runner.js'
import { toolPath } from '../helpers/tools.js'
import { STRICT_POLICY, workspaceWith } from '../helpers/workspace.js'

const HOUR_MS = 60 * 60 * 1000
const KEY_PATH = 'ci/keys/release.pub'

describe('the verification cache through the real @actions/cache client', () => {
  let registry: TestRegistry
  let standin: CacheStandin
  let key: KeyPair
  let otherKey: KeyPair
  let workspace: string
  let cacheDirectory: string
  const savedEnv: Record<string, string | undefined> = {}

  beforeAll(async () => {
    ;[registry, standin, key, otherKey] = await Promise.all([
      startRegistry(),
      startCacheStandin(),
      generateKeyPair('release'),
      generateKeyPair('other')
    ])
    const digests: string[] = []
    for (const tag of ['6.4.4-ubuntu-22.04', '6.4.3-ubuntu-22.04']) {
      const digest = await pushImage(registry.host, 'rocm/dev', tag)
      await signImage(`${registry.host}/rocm/dev@${digest}`, key)
      digests.push(digest)
    }
    workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [
        { tag: '6.4.4-ubuntu-22.04', digest: digests[0], keyPath: KEY_PATH },
        { tag: '6.4.3-ubuntu-22.04', digest: digests[1], keyPath: KEY_PATH }
      ],
      key
    )
    cacheDirectory = join(mkdtempSync(join(tmpdir(), 'rp-cache-')), 'verdicts')
    const env = { ...standin.env(), RUNNER_TEMP: mkdtempSync(join(tmpdir(), 'rp-runner-temp-')) }
    for (const [name, value] of Object.entries(env)) {
      savedEnv[name] = process.env[name]
      process.env[name] = value
    }
  }, 120_000)
  afterAll(async () => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    await Promise.all([registry.stop(), standin.stop()])
  })
  beforeEach(() => {
    standin.refusing = false
    copyFileSync(key.publicKey, join(workspace, KEY_PATH))
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), STRICT_POLICY)
  })

  function verdictCache() {
    return createActionsVerdictCache({
      workspace,
      directory: cacheDirectory,
      cosignIdentity: () => cosignIdentity({ cosignPath: toolPath('cosign') }, sha256File)
    })
  }

  /** One run as the action makes it; counts cosign's preparation and every verifier call. */
  async function runOnce(
    options: { now?: Date; withCache?: boolean } = {}
  ): Promise<{ result: RunResult; cosignCalls: number; prepared: number }> {
    const adapters = createAdapters({
      workspace,
      insecureRegistries: [registry.host],
      resolveCosignPath: () => Promise.resolve(toolPath('cosign'))
    })
    let cosignCalls = 0
    let prepared = 0
    const prepareCosign = async (): Promise<CosignTools> => {
      prepared += 1
      const tools = await adapters.prepareCosign()
      const real = tools.verifier
      return {
        ...tools,
        verifier: {
          verifySignature: (...args) => {
            cosignCalls += 1
            return real.verifySignature(...args)
          },
          verifyAttestation: (...args) => {
            cosignCalls += 1
            return real.verifyAttestation(...args)
          },
          verifyRequirement: (...args) => {
            cosignCalls += 1
            return real.verifyRequirement(...args)
          }
        }
      }
    }
    const result = await verifyImages(
      {
        workspace,
        policyPath: 'ci/rocm_policy.yml',
        matrixPath: 'ci/rocm_matrix.yml',
        images: [],
        concurrency: 4,
        now: options.now ?? new Date(),
        cache: true
      },
      {
        ...adapters,
        prepareCosign,
        ...(options.withCache !== false && { verdictCache: verdictCache() })
      }
    )
    return { result, cosignCalls, prepared }
  }

  const verdicts = (result: RunResult) =>
    result.images.map(({ findings, decision }) => ({
      reference: findings.plan.reference,
      signature: findings.signature.outcome,
      keyFingerprint: findings.signature.keyFingerprint,
      trust: decision.trustStatus,
      code: decision.code,
      path: decision.path
    }))

  let cold: RunResult

  it('when the cache is empty: verifies with cosign and saves the positive results', async () => {
    const { result, cosignCalls } = await runOnce()
    cold = result
    expect(result.exitCode).toBe(0)
    expect(cosignCalls).toBe(2)
    expect(result.cache).toEqual({ status: 'used', hits: 0, saved: 2 })
    expect(result.images.every(image => image.findings.cache === undefined)).toBe(true)
    expect(standin.calls).toEqual([
      'GetCacheEntryDownloadURL',
      'CreateCacheEntry',
      'FinalizeCacheEntryUpload'
    ])
    expect([...standin.entries.values()].filter(e => e.finalized)).toHaveLength(1)
  }, 120_000)

  it('when the cache holds the results: no cosign at all, the same verdicts, marked as cached', async () => {
    standin.calls.length = 0
    const { result, cosignCalls, prepared } = await runOnce()
    expect(prepared).toBe(0)
    expect(cosignCalls).toBe(0)
    expect(verdicts(result)).toEqual(verdicts(cold))
    expect(result.cache).toEqual({ status: 'used', hits: 2, saved: 0 })
    // Nothing new: nothing saved.
    expect(standin.calls).toEqual(['GetCacheEntryDownloadURL'])
    const report = buildReport(result, { actionVersion: '4.0.0', policyPath: 'p', matrixPath: 'm' })
    expect(reportSchemaErrors(report)).toEqual([])
    for (const image of report.images) {
      expect(image.cache).toEqual({ status: 'hit', judgedAt: expect.any(String) })
      const judgedAt = Date.parse(image.cache?.status === 'hit' ? image.cache.judgedAt : '')
      expect(judgedAt).toBeLessThanOrEqual(Date.parse(cold.finishedAt))
    }
    expect(renderJobSummary(result)).toContain('verification cache: 2 results reused, 0 saved')
  }, 120_000)

  it('when the key file changes: the entry does not match and cosign judges the new key', async () => {
    copyFileSync(otherKey.publicKey, join(workspace, KEY_PATH))
    const { result, cosignCalls } = await runOnce()
    expect(cosignCalls).toBe(2)
    expect(result.cache?.hits).toBe(0)
    expect(result.images.map(image => image.findings.signature.outcome)).toEqual([
      'invalid',
      'invalid'
    ])
    expect(result.exitCode).toBe(3)
  }, 120_000)

  it('when the policy changes: the entry does not match and cosign verifies again', async () => {
    writeFileSync(
      join(workspace, 'ci', 'rocm_policy.yml'),
      STRICT_POLICY.replace('digest_ttl: 7', 'digest_ttl: 8')
    )
    const { result, cosignCalls } = await runOnce()
    expect(cosignCalls).toBe(2)
    expect(result.cache).toMatchObject({ status: 'used', hits: 0, saved: 2 })
    expect(result.exitCode).toBe(0)
  }, 120_000)

  it('when the entry is older than cache_ttl: it is ignored, reported, and cosign verifies again', async () => {
    const { result, cosignCalls } = await runOnce({ now: new Date(Date.now() + 25 * HOUR_MS) })
    expect(cosignCalls).toBe(2)
    expect(result.cache?.hits).toBe(0)
    for (const image of result.images) {
      expect(image.findings.cache).toEqual({
        status: 'ignored',
        reason: expect.stringContaining('older than cache_ttl (24 h)')
      })
    }
    expect(result.exitCode).toBe(0)
  }, 120_000)

  it('when an entry is corrupted: it is ignored, reported, and that image is verified afresh', async () => {
    // A cold run under today's clock first, then one entry's bytes changed
    // behind its checksum and saved as the newest service entry.
    await runOnce()
    const cache = verdictCache()
    const restored = await cache.restore()
    expect(restored.ok).toBe(true)
    const entries = (restored.ok ? restored.entries : []) as CachedVerdict[]
    expect(entries.length).toBeGreaterThanOrEqual(2)
    const tampered = entries.map((entry, index) =>
      index === 0 ? { ...entry, signature: { ...entry.signature, count: 7 } } : entry
    )
    expect(await cache.save(tampered)).toEqual({ ok: true })

    const { result, cosignCalls } = await runOnce()
    const ignored = result.images.filter(image => image.findings.cache?.status === 'ignored')
    const hits = result.images.filter(image => image.findings.cache?.status === 'hit')
    expect(ignored).toHaveLength(1)
    expect(hits).toHaveLength(1)
    expect(ignored[0].findings.cache).toEqual({
      status: 'ignored',
      reason: 'the cached entry is corrupted (checksum mismatch)'
    })
    expect(ignored[0].findings.signature.count).toBe(1)
    expect(cosignCalls).toBe(1)
    expect(result.exitCode).toBe(0)
    expect(renderJobSummary(result)).toContain('cache: entry not used')
  }, 120_000)

  it('when the service refuses: the run verifies everything, gives the same verdicts, and does not fail', async () => {
    standin.refusing = true
    const { result, cosignCalls } = await runOnce()
    expect(cosignCalls).toBe(2)
    expect(verdicts(result)).toEqual(verdicts(cold))
    expect(result.cache).toMatchObject({ status: 'used', hits: 0, saved: 0 })
    expect(result.cache?.note).toContain('were not saved')
  }, 120_000)

  it('when there is no cache service (the command line): verifies uncached and says so once', async () => {
    const { result, cosignCalls } = await runOnce({ withCache: false })
    expect(cosignCalls).toBe(2)
    expect(result.cache).toEqual({
      status: 'unavailable',
      note: 'no cache service here; every image was verified by cosign',
      hits: 0,
      saved: 0
    })
    expect(renderJobSummary(result).match(/no cache service/g)).toHaveLength(1)
  }, 120_000)

  it('the bundled action: a second run on the same runner reuses every result, says so, and passes', async () => {
    const fresh = workspaceWith(
      registry,
      STRICT_POLICY,
      [
        {
          tag: '6.4.4-ubuntu-22.04',
          digest:
            cold.images[0].findings.plan.row.pin.kind === 'pinned'
              ? cold.images[0].findings.plan.row.pin.digest
              : '',
          keyPath: KEY_PATH
        }
      ],
      key
    )
    standin.entries.clear()
    // One runner: RUNNER_TEMP stays, as the cache's path must.
    const env = { ...standin.env(), RUNNER_TEMP: mkdtempSync(join(tmpdir(), 'rp-runner-temp-')) }
    const inputs = {
      'insecure-registries': registry.host,
      'cosign-path': toolPath('cosign'),
      'upload-artifact': 'false'
    }
    const first = await runBundledAction(fresh, inputs, env)
    expect(first.outputs['exit-code']).toBe('0')
    expect(first.summary).toContain('verification cache: 0 results reused, 1 saved')
    const second = await runBundledAction(fresh, inputs, env)
    expect(second.outputs['exit-code']).toBe('0')
    expect(second.outputs['trust-status']).toBe('valid')
    expect(second.summary).toContain('verification cache: 1 result reused, 0 saved')
    const report = JSON.parse(readFileSync(join(fresh, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.images[0].cache).toEqual({ status: 'hit', judgedAt: expect.any(String) })
    expect(report.run.cosignVersion).toBeUndefined()

    // Without a cache service the action verifies and says why, once; the step passes.
    const uncached = await runBundledAction(fresh, inputs)
    expect(uncached.outputs['exit-code']).toBe('0')
    expect(
      uncached.summary.match(/verification cache unavailable: .*no cache service on this runner/g)
    ).toHaveLength(1)
  }, 120_000)
})
