/**
 * OCI 1.1 referrers: the registry client lists a digest's referrers through
 * the referrers API or, where a registry has none, the referrers tag schema;
 * and the cosign wiring asks them before it believes "no signatures found".
 * Real cosign 3.1.1 and a real registry (CNCF Distribution 2.8, which has no
 * referrers API); the API itself is served by the fault proxy's stand-in of a
 * registry that has it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCosignTools } from '../../src/adapters/cosign/tools.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { SIGSTORE_BUNDLE_ARTIFACT_TYPE } from '../../src/domain/manifest.js'
import type { Digest } from '../../src/domain/types.js'
import { imagePlan, signedImage } from '../helpers/cosign-plans.js'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { generateKeyPair, pushImage, type KeyPair } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, toolPath } from '../helpers/tools.js'

const REPO = 'rocm/dev'
const NO_CREDENTIALS = createCredentialStore({ dockerConfigDir: '/nonexistent-rp-docker-config' })

let registry: TestRegistry
let referrersApi: FaultProxy
let key: KeyPair
let workspace: string
let signed: Digest
let unsigned: Digest

function client(host: string): RegistryClient {
  return new RegistryClient({
    credentials: NO_CREDENTIALS,
    insecureRegistries: [host],
    retry: { baseDelayMs: 5, maxDelayMs: 20 }
  })
}

beforeAll(async () => {
  registry = await startRegistry()
  referrersApi = await startFaultProxy(registry.host, [], { referrersApi: true })
  key = await generateKeyPair('referrers')
  workspace = mkdtempSync(join(tmpdir(), 'rp-referrers-'))
  mkdirSync(join(workspace, 'keys'))
  copyFileSync(key.publicKey, join(workspace, 'keys', 'k.pub'))
  signed = await signedImage(registry, REPO, key)
  unsigned = (await pushImage(registry.host, REPO, 'unsigned')) as Digest
})

afterAll(async () => {
  await referrersApi.stop()
  await registry.stop()
  rmSync(workspace, { recursive: true, force: true })
})

describe('listReferrers', () => {
  it('reads the referrers tag schema where the registry has no referrers API', async () => {
    const found = await client(registry.host).listReferrers(registry.host, REPO, signed)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE })
    expect(found[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(await client(registry.host).listReferrers(registry.host, REPO, unsigned)).toEqual([])
  })

  it('asks the referrers API where the registry has one, and filters by artifact type', async () => {
    referrersApi.reset()
    const viaApi = client(referrersApi.host)
    const found = await viaApi.listReferrers(referrersApi.host, REPO, signed, {
      artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE
    })
    expect(found.map(d => d.artifactType)).toEqual([SIGSTORE_BUNDLE_ARTIFACT_TYPE])
    const paths = referrersApi.requests.map(r => `${r.method} ${r.path} ${r.status}`)
    expect(paths).toContain(
      `GET /v2/${REPO}/referrers/${signed}?artifactType=${encodeURIComponent(SIGSTORE_BUNDLE_ARTIFACT_TYPE)} 200`
    )
    // The API answered: the tag schema was not consulted.
    expect(paths.some(p => p.includes(`/manifests/${signed.replace(':', '-')}`))).toBe(false)
    expect(
      await viaApi.listReferrers(referrersApi.host, REPO, signed, { artifactType: 'x/other' })
    ).toEqual([])
  })

  it('retries a throttled referrers listing instead of taking it for none', async () => {
    referrersApi.reset()
    referrersApi.rules = [
      {
        when: (_method, path) => path.includes('/referrers/'),
        action: { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
        times: 1
      }
    ]
    const found = await client(referrersApi.host).listReferrers(referrersApi.host, REPO, signed)
    expect(found).toHaveLength(1)
    expect(
      referrersApi.requests.filter(r => r.path.includes('/referrers/')).map(r => r.status)
    ).toEqual([429, 200])
  })
})

describe('cosign behind a registry with the referrers API', () => {
  async function verify(host: string, digest: Digest) {
    const registryClient = client(host)
    const tools = await createCosignTools({
      cosignPath: toolPath('cosign'),
      workspace,
      insecureRegistries: [host],
      credentials: NO_CREDENTIALS,
      registry: registryClient,
      env: hermeticEnv()
    })
    const plan = imagePlan(host, REPO, digest, { kind: 'key', keyPath: 'keys/k.pub' })
    return tools.verifier.verifySignature(plan, digest, new Date())
  }

  it('verifies a cosign 3 signature found through the referrers API', async () => {
    referrersApi.reset()
    const finding = await verify(referrersApi.host, signed)
    expect(finding.outcome).toBe('verified')
  })

  it('never calls a signed image unsigned because one referrers listing was throttled', async () => {
    referrersApi.reset()
    referrersApi.rules = [
      {
        when: (_method, path) => path.includes('/referrers/'),
        action: { kind: 'status', status: 429, headers: { 'retry-after': '0' } },
        times: 1
      }
    ]
    const finding = await verify(referrersApi.host, signed)
    // cosign's own listing was throttled and it said "no signatures found";
    // the registry still lists a bundle, so the check is run again and verifies.
    expect(finding.outcome).toBe('verified')
    expect(
      referrersApi.requests.filter(r => r.path.includes('/referrers/')).map(r => r.status)
    ).toContain(429)
  })

  it('still calls an image with no referrers and no signature tags unsigned', async () => {
    referrersApi.reset()
    const finding = await verify(referrersApi.host, unsigned)
    expect(finding.outcome).toBe('unsigned')
  })
})
