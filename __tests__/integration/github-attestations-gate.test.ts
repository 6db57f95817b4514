/**
 * GitHub artifact attestations in the same gate as cosign signatures (issue
 * 13), through the whole pipeline (config → plan → registry → cosign →
 * decide): a `github:` signer's bundles are found as OCI referrers in a real
 * registry (referrers tag schema; the referrers API through the fault proxy's
 * stand-in) and through the loopback stand-in of GitHub's attestations API,
 * and verified by the real cosign 3.1.1 `verify-blob-attestation` against a
 * trusted root made by `cosign trusted-root create` for the loopback Sigstore
 * stand-ins, whose Fulcio writes the GitHub extensions of the token's claims.
 * Requests per image to the API and to the registry are counted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GitHubBundleVerifier } from '../../src/adapters/cosign/bundle-verifier.js'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import { loadConfig } from '../../src/adapters/fs/config-load.js'
import { GitHubAttestations } from '../../src/adapters/github/attestations.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { verifyImages } from '../../src/app/verify.js'
import type { Digest, ImageResult, RunResult } from '../../src/domain/types.js'
import { digestExistsAt, signatureEvidenceAt } from '../helpers/cosign-plans.js'
import { startKeylessBed, type KeylessBed } from '../helpers/cosign-keyless.js'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import {
  attestInRegistry,
  githubBundle,
  manifestBlob,
  RELEASE_CLAIMS
} from '../helpers/github-bundles.js'
import {
  startAttestationsStandin,
  type AttestationsStandin
} from '../helpers/github-attestations-standin.js'
import { generateKeyPair, pushImage, signImage, type KeyPair } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { reportSchemaErrors } from '../helpers/report-schema.js'
import { hermeticEnv, PROJECT_ROOT, runTool, toolPath } from '../helpers/tools.js'

const REPO = 'rocm/dev'
const NOW = new Date()
const NO_CREDENTIALS = createCredentialStore({ dockerConfigDir: '/nonexistent-rp-docker-config' })

let registry: TestRegistry
let referrersApi: FaultProxy
/** A counting proxy of the registry as it is (no referrers API). */
let tagsOnly: FaultProxy
let bed: KeylessBed
let api: AttestationsStandin
let key: KeyPair
let workspace: string
const digests: Record<string, Digest> = {}

const SIGNERS = `  signers:
    images-ci:
      github:
        repository: rocm/images
        signer_workflow: '^https://github\\.com/rocm/images/\\.github/workflows/release\\.yml@refs/tags/v'
        source_ref: '^refs/tags/v'
    images-tags:
      github:
        repository: rocm/images
        source_ref: '^refs/tags/v'
    images-retired:
      github:
        repository: rocm/images
      valid_until: 2020-12-31
    images-any:
      github:
        repository: rocm/images
        hosted_runners_only: false
    images-case:
      github:
        repository: ROCm/Images
    release-key:
      key_path: ci/keys/release.pub
`

interface Run {
  result: RunResult
  /** Requests to the attestations API stand-in during the run. */
  apiRequests: number
  /** Requests to the registry (counted by the fault proxy when `viaProxy`). */
  registryRequests: number
}

/** The policy (SIGNERS and `policyBody`) and a matrix of one row per image named, on `host`. */
function writeFiles(policyBody: string, images: string[], host: string): void {
  const policy = `policy:\n  mode: strict\n  require_signature: true\n  ignore_tlog: true\n  trusted_root: ci/trusted_root.json\n${SIGNERS}${policyBody}`
  writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy)
  const rows = images.flatMap((name, i) => [
    `    - version: "1.${i}"`,
    `      os: "${name}"`,
    `      repository: ${host}/${REPO}`,
    `      tag: "${name}"`,
    `      digest: "${digests[name]}"`,
    `      added: "${NOW.toISOString().slice(0, 10)}"`
  ])
  writeFileSync(
    join(workspace, 'ci', 'rocm_matrix.yml'),
    ['rocm:', '  images:', ...rows, ''].join('\n')
  )
}

/** The pipeline on one row per image named; `viaProxy`: the registry with the referrers API. */
async function run(
  policyBody: string,
  images: string[],
  options: { viaProxy?: boolean | 'tags'; budgetMs?: number } = {}
): Promise<Run> {
  const proxy = options.viaProxy === 'tags' ? tagsOnly : referrersApi
  const host = options.viaProxy ? proxy.host : registry.host
  writeFiles(policyBody, images, host)
  const registryClient = new RegistryClient({
    credentials: NO_CREDENTIALS,
    insecureRegistries: [host],
    retry: { baseDelayMs: 5, maxDelayMs: 20 }
  })
  const attestations = new GitHubAttestations({
    apiUrl: api.url,
    rateLimitBudgetMs: options.budgetMs ?? 30_000
  })
  const verifier = new CosignVerifier({
    cosignPath: toolPath('cosign'),
    workspace,
    insecureRegistries: [host],
    env: hermeticEnv(),
    maxAttempts: 1,
    signatureEvidence: signatureEvidenceAt(registry.url),
    digestExists: digestExistsAt(registry.url),
    github: new GitHubBundleVerifier({
      cosignPath: toolPath('cosign'),
      workspace,
      registry: registryClient,
      attestations,
      env: hermeticEnv()
    })
  })
  const apiBefore = api.requests.length
  const proxyBefore = proxy.requests.length
  const result = await verifyImages(
    {
      workspace,
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      images: [],
      concurrency: 1,
      now: NOW
    },
    {
      loadConfig,
      registry: registryClient,
      prepareCosign: async () => ({
        verifier,
        version: { gitVersion: 'test', path: toolPath('cosign') }
      })
    }
  )
  return {
    result,
    apiRequests: api.requests.length - apiBefore,
    registryRequests: proxy.requests.length - proxyBefore
  }
}

function byName(result: RunResult, name: string): ImageResult {
  const found = result.images.find(i => i.findings.plan.row.os === name)
  if (!found) throw new Error(`no image ${name}: ${JSON.stringify(result.configIssues)}`)
  return found
}

function signer(image: ImageResult, name: string) {
  const found = image.findings.signature.signers?.find(s => s.name === name)
  if (!found) throw new Error(`no signer ${name}`)
  return found
}

async function image(name: string): Promise<string> {
  digests[name] = (await pushImage(registry.host, REPO, name)) as Digest
  return `${registry.host}/${REPO}@${digests[name]}`
}

/** A bundle made for `ofImage`'s digest, stored in the API stand-in under `forImage`'s digest. */
async function inApi(
  forImage: string,
  claims = RELEASE_CLAIMS,
  options: { ofImage?: string; type?: string; repository?: string } = {}
): Promise<void> {
  const blob = await manifestBlob(registry.url, REPO, digests[options.ofImage ?? forImage])
  const bundle = await githubBundle(bed, blob, claims, options.type)
  // Labelled SLSA v1 whatever it is: the API's label is a filter, not evidence.
  api.stored.push({
    repository: options.repository ?? 'rocm/images',
    digest: digests[forImage],
    bundle,
    predicateType: 'https://slsa.dev/provenance/v1'
  })
}

beforeAll(async () => {
  ;[registry, bed, api, key] = await Promise.all([
    startRegistry(),
    startKeylessBed(),
    startAttestationsStandin(),
    generateKeyPair('release')
  ])
  referrersApi = await startFaultProxy(registry.host, [], { referrersApi: true })
  tagsOnly = await startFaultProxy(registry.host, [])
  workspace = mkdtempSync(join(tmpdir(), 'rp-gh-gate-'))
  mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
  copyFileSync(bed.trustedRootPath, join(workspace, 'ci', 'trusted_root.json'))
  copyFileSync(key.publicKey, join(workspace, 'ci', 'keys', 'release.pub'))
  for (const name of [
    'registry',
    'api-only',
    'wrong-repo',
    'wrong-workflow',
    'self-hosted',
    'other-subject',
    'other-type',
    'throttled',
    'key-and-github',
    'branch-build',
    'nothing',
    'junk-first',
    'org-neighbour',
    'deep-junk-first',
    'crowded-registry',
    'key-only',
    'many-signatures'
  ])
    await image(name)
  await attestInRegistry(bed, `${registry.host}/${REPO}@${digests.registry}`)
  await inApi('api-only')
  await inApi('throttled')
  // rocm/images' reusable release workflow, called from another repository.
  await inApi('wrong-repo', {
    ...RELEASE_CLAIMS,
    repository: 'evil/images',
    workflowRepository: 'rocm/images'
  })
  await inApi('wrong-workflow', { ...RELEASE_CLAIMS, workflow: '.github/workflows/nightly.yml' })
  await inApi('self-hosted', { ...RELEASE_CLAIMS, runnerEnvironment: 'self-hosted' })
  await inApi('other-subject', RELEASE_CLAIMS, { ofImage: 'api-only' })
  await inApi('other-type', RELEASE_CLAIMS, { type: 'https://slsa.dev/provenance/v0.2' })
  await inApi('key-and-github')
  await inApi('branch-build', { ...RELEASE_CLAIMS, ref: 'refs/heads/main' })
  // Another repository of the same owner attested this image: the owner's bulk
  // listing returns its bundle, which is not rocm/images' attestation.
  await inApi(
    'org-neighbour',
    { ...RELEASE_CLAIMS, repository: 'rocm/other' },
    { repository: 'rocm/other' }
  )
  // An entry nested too deep to serialize again, listed before the valid bundle.
  api.stored.push({
    repository: 'rocm/images',
    digest: digests['deep-junk-first'],
    bundle: undefined,
    bundleJson: `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    predicateType: 'https://slsa.dev/provenance/v1'
  })
  await inApi('deep-junk-first')
  // Sixteen bundle referrers shaped as GitHub attestations (a DSSE envelope of
  // SLSA v1, a certificate) that cosign refuses, and the valid bundle in the API.
  const slsaStatement = Buffer.from(
    JSON.stringify({ predicateType: 'https://slsa.dev/provenance/v1' })
  ).toString('base64')
  await pushBundleReferrersFirst(
    digests['crowded-registry'],
    Array.from({ length: 16 }, (_, n) =>
      Buffer.from(
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          verificationMaterial: { certificate: { rawBytes: Buffer.from([n]).toString('base64') } },
          dsseEnvelope: {
            payload: slsaStatement,
            payloadType: 'application/vnd.in-toto+json',
            signatures: []
          }
        })
      )
    )
  )
  await inApi('crowded-registry')
  await signImage(`${registry.host}/${REPO}@${digests['key-and-github']}`, key)
  // Re-signed many times: seventeen signature referrers in front of the attestation.
  await attestInRegistry(bed, `${registry.host}/${REPO}@${digests['many-signatures']}`)
  await pushBundleReferrersFirst(
    digests['many-signatures'],
    Array.from({ length: 17 }, (_, n) =>
      Buffer.from(
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
          verificationMaterial: { publicKey: { hint: String(n) } },
          messageSignature: { signature: Buffer.from([n]).toString('base64') }
        })
      )
    )
  )
  // A cosign 3 key signature: a Sigstore bundle referrer, but no GitHub attestation.
  await signImage(`${registry.host}/${REPO}@${digests['key-only']}`, key)
  await attestInRegistry(bed, `${registry.host}/${REPO}@${digests['junk-first']}`)
  await pushJunkReferrerFirst(digests['junk-first'])
}, 300_000)

/**
 * Puts a bundle referrer whose layer is larger than any bundle is read
 * (17 MiB) in front of the digest's referrers tag index, as anyone who may
 * push to the repository could.
 */
async function pushJunkReferrerFirst(subject: Digest): Promise<void> {
  await pushBundleReferrersFirst(subject, [Buffer.alloc(17 * 1024 * 1024, 0x20)])
}

/** Bundle referrers of `subject`, one per layer given, put in front of its referrers tag index. */
async function pushBundleReferrersFirst(subject: Digest, layers: Buffer[]): Promise<void> {
  const base = `${registry.url}/v2/${REPO}`
  const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  const upload = async (bytes: Buffer): Promise<string> => {
    const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST' })
    const at = new URL(started.headers.get('location') ?? '', registry.url)
    at.searchParams.set('digest', sha(bytes))
    await fetch(at, { method: 'PUT', body: bytes })
    return sha(bytes)
  }
  const config = Buffer.from('{}')
  const image = await fetch(`${base}/manifests/${subject}`, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' }
  })
  const imageBytes = Buffer.from(await image.arrayBuffer())
  const tag = `${base}/manifests/${subject.replace(':', '-')}`
  const listed = await fetch(tag, {
    headers: { accept: 'application/vnd.oci.image.index.v1+json' }
  })
  const index = (
    listed.ok
      ? await listed.json()
      : { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }
  ) as { manifests: object[] }
  for (const layer of layers) {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: {
          mediaType: 'application/vnd.oci.empty.v1+json',
          digest: await upload(config),
          size: config.length
        },
        layers: [
          {
            mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
            digest: await upload(layer),
            size: layer.length
          }
        ],
        subject: {
          mediaType: image.headers.get('content-type'),
          digest: subject,
          size: imageBytes.length
        }
      })
    )
    await fetch(`${base}/manifests/${sha(manifest)}`, {
      method: 'PUT',
      body: manifest,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }
    })
    index.manifests.unshift({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha(manifest),
      size: manifest.length,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json'
    })
  }
  await fetch(tag, {
    method: 'PUT',
    body: JSON.stringify(index),
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }
  })
}

afterAll(async () => {
  await Promise.all([
    registry?.stop(),
    bed?.stop(),
    api?.stop(),
    referrersApi?.stop(),
    tagsOnly?.stop()
  ])
  rmSync(workspace, { recursive: true, force: true })
})

describe('a github signer in trusted_signers', () => {
  it('is valid from a bundle referrer in the registry (tag schema), without asking the API', async () => {
    const { result, apiRequests } = await run('  trusted_signers: [images-ci]\n', ['registry'])
    const found = byName(result, 'registry')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci')).toMatchObject({
      kind: 'github',
      result: 'verified',
      counted: true,
      source: 'referrers tag',
      identity: 'https://github.com/rocm/images/.github/workflows/release.yml@refs/tags/v6.4.4',
      issuer: 'https://token.actions.githubusercontent.com'
    })
    expect(found.decision.path.join('\n')).toContain(
      'signer images-ci (github): verified (bundle from the referrers tag)'
    )
    expect(apiRequests).toBe(0)
  })

  it('is valid from the referrers API where the registry has one', async () => {
    const { result, apiRequests, registryRequests } = await run(
      '  trusted_signers: [images-ci]\n',
      ['registry'],
      { viaProxy: true }
    )
    const found = byName(result, 'registry')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci').source).toBe('registry referrer')
    expect(apiRequests).toBe(0)
    expect(registryRequests).toBe(4)
  })

  it('is valid from GitHub’s attestations API when the registry holds no bundle', async () => {
    const { result, apiRequests } = await run('  trusted_signers: [images-ci]\n', ['api-only'])
    const found = byName(result, 'api-only')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci')).toMatchObject({ result: 'verified', source: 'API' })
    // The Rekor entry cosign verified, for the summary's LOG column and the report.
    expect(signer(found, 'images-ci').rekorLogIndex).toEqual(expect.any(Number))
    expect(found.findings.signature.rekorLogIndex).toBe(signer(found, 'images-ci').rekorLogIndex)
    expect(apiRequests).toBe(1)
  })

  it.each([
    [
      'wrong-repo',
      /Source Repository URI is https:\/\/github\.com\/evil\/images, not https:\/\/github\.com\/rocm\/images/
    ],
    ['wrong-workflow', /expected SAN value to match regex/],
    ['self-hosted', /self-hosted runner; hosted_runners_only/],
    ['other-subject', /artifact digest does not match any digest in statement/],
    ['other-type', /predicate|type/i]
  ])('%s: a bundle that is not this signer’s is invalid', async (name, reason) => {
    const { result } = await run('  trusted_signers: [images-ci]\n', [name])
    const found = byName(result, name)
    expect(found.decision.trustStatus).toBe('invalid')
    expect(found.decision.code).toBe(3)
    const finding = signer(found, 'images-ci')
    expect(finding).toMatchObject({ kind: 'github', result: 'invalid', counted: false })
    expect(finding.message).toMatch(reason)
    expect(finding.message).toContain('API bundle')
  })

  it('source_ref: a build of a branch is not a build of a tag', async () => {
    const { result } = await run('  trusted_signers: [images-tags]\n', ['branch-build', 'api-only'])
    const branch = byName(result, 'branch-build')
    expect(branch.decision.trustStatus).toBe('invalid')
    expect(signer(branch, 'images-tags').message).toContain(
      'Source Repository Ref refs/heads/main does not match source_ref "^refs/tags/v"'
    )
    expect(byName(result, 'api-only').decision.trustStatus).toBe('valid')
  })

  it('requests per image: registry and API, each source', async () => {
    const viaRegistry = await run('  trusted_signers: [images-ci]\n', ['registry'], {
      viaProxy: true
    })
    const viaApi = await run('  trusted_signers: [images-ci]\n', ['api-only'], { viaProxy: true })
    // Registry with the referrers API: the digest check (HEAD), the referrers
    // listing, the referrer's manifest, the bundle blob; the API is not asked.
    expect([viaRegistry.registryRequests, viaRegistry.apiRequests]).toEqual([4, 0])
    // No bundle in the registry: the digest check and an empty listing, then one API page.
    expect([viaApi.registryRequests, viaApi.apiRequests]).toEqual([2, 1])
    // Registry without the referrers API (tag schema): the listing's 404, the
    // tag's HEAD and index, the referrer manifest's artifact type (cosign 3.1
    // writes the empty type in the index), then the manifest and blob again.
    const viaTags = await run('  trusted_signers: [images-ci]\n', ['registry'], {
      viaProxy: 'tags'
    })
    expect(byName(viaTags.result, 'registry').decision.trustStatus).toBe('valid')
    expect([viaTags.registryRequests, viaTags.apiRequests]).toEqual([7, 0])
  })

  it('a validity window is judged at the bundle’s transparency log time', async () => {
    const { result } = await run('  trusted_signers: [images-retired]\n', ['api-only'])
    const found = byName(result, 'api-only')
    expect(found.decision.trustStatus).toBe('expired')
    expect(signer(found, 'images-retired')).toMatchObject({
      result: 'expired',
      signingTimeSource: 'tlog',
      counted: false
    })
  })

  it('hosted_runners_only: false accepts a self-hosted runner’s attestation', async () => {
    const { result } = await run('  trusted_signers: [images-any]\n', ['self-hosted'])
    expect(byName(result, 'self-hosted').decision.trustStatus).toBe('valid')
  })

  it('a junk referrer in front of the valid bundle hides nothing', async () => {
    const { result } = await run('  trusted_signers: [images-ci]\n', ['junk-first'])
    const found = byName(result, 'junk-first')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci')).toMatchObject({ result: 'verified', counted: true })
  })

  it('repository is compared without case, as GitHub compares names', async () => {
    const { result } = await run('  trusted_signers: [images-case]\n', ['api-only', 'registry'])
    expect(signer(byName(result, 'api-only'), 'images-case')).toMatchObject({
      result: 'verified',
      source: 'API'
    })
    expect(signer(byName(result, 'registry'), 'images-case').result).toBe('verified')
  })

  it('an API entry nested too deep to serialize hides not the valid bundle after it', async () => {
    const { result } = await run('  trusted_signers: [images-ci]\n', ['deep-junk-first'])
    const found = byName(result, 'deep-junk-first')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci')).toMatchObject({ result: 'verified', source: 'API' })
  })

  it('sixteen bundles in the registry that fail leave the API its own turn', async () => {
    const { result } = await run('  trusted_signers: [images-ci]\n', ['crowded-registry'])
    const found = byName(result, 'crowded-registry')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci')).toMatchObject({ result: 'verified', source: 'API' })
  })

  it('a cosign key signature in the registry is not a GitHub attestation: unsigned, not invalid', async () => {
    const { result } = await run('  trusted_signers: [images-ci]\n', ['key-only'])
    const found = byName(result, 'key-only')
    expect(found.decision.trustStatus).toBe('unsigned')
    const finding = signer(found, 'images-ci')
    expect(finding.result).toBe('absent')
    expect(finding.message).toContain('1 bundle referrer(s) of other kinds passed over')
  })

  it('seventeen signature referrers in front of the attestation hide it not', async () => {
    const { result } = await run('  trusted_signers: [images-ci]\n', ['many-signatures'])
    const found = byName(result, 'many-signatures')
    expect(found.decision.trustStatus).toBe('valid')
    expect(signer(found, 'images-ci')).toMatchObject({
      result: 'verified',
      source: 'referrers tag'
    })
  })

  it('no bundle anywhere: unsigned', async () => {
    const { result } = await run('  trusted_signers: [images-ci]\n', ['nothing'])
    const found = byName(result, 'nothing')
    expect(found.findings.signature.outcome).toBe('unsigned')
    expect(signer(found, 'images-ci').result).toBe('absent')
    // Asked without a token: GitHub hides a private repository's attestations behind a 404.
    expect(signer(found, 'images-ci').message).toContain(
      "GitHub's API was asked without a token, so only public repositories' attestations are seen"
    )
  })

  it('with a cosign key signature meets threshold 2 (two distinct signers)', async () => {
    const { result } = await run('  trusted_signers: [release-key, images-ci]\n  threshold: 2\n', [
      'key-and-github',
      'api-only'
    ])
    const both = byName(result, 'key-and-github')
    expect(both.decision.trustStatus).toBe('valid')
    expect(both.findings.signature.threshold).toEqual({ required: 2, counted: 2, met: true })
    const one = byName(result, 'api-only')
    expect(one.decision.trustStatus).toBe('invalid')
    expect(one.findings.signature.threshold).toEqual({ required: 2, counted: 1, met: false })
  })
})

describe('GitHub API rate limits', () => {
  it('a 429 then 200: waits the retry-after and verifies', async () => {
    api.failures.push({
      status: 429,
      headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' },
      times: 1
    })
    const { result, apiRequests } = await run('  trusted_signers: [images-ci]\n', ['throttled'])
    expect(byName(result, 'throttled').decision.trustStatus).toBe('valid')
    expect(apiRequests).toBe(2)
  })

  it('a 429 past the run’s budget: could not complete (unknown), never unsigned', async () => {
    const reset = Math.floor(Date.now() / 1000) + 3600
    api.failures.push({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      times: 5
    })
    const { result } = await run('  trusted_signers: [images-ci]\n', ['throttled'], {
      budgetMs: 2_000
    })
    api.failures.length = 0
    const found = byName(result, 'throttled')
    expect(found.decision.trustStatus).toBe('unknown')
    expect(found.findings.signature.outcome).toBe('transient')
    const finding = signer(found, 'images-ci')
    expect(finding.result).toBe('could-not-complete')
    expect(finding.message).toContain('GitHub attestations API')
    expect(finding.message).toContain("past this run's 2 s budget")
    expect(finding.message).toContain(new Date(reset * 1000).toISOString().slice(0, 16))
  })
})

describe('a github signer in an attestation requirement', () => {
  it('its statement is checked against `where`', async () => {
    const body =
      '  trusted_signers: [images-ci]\n  attest_mode: enforce\n  attestations:\n    - type: https://slsa.dev/provenance/v1\n      signers: [images-ci]\n      where:\n        predicate.runDetails.builder.id: "^https://github\\\\.com/rocm/"\n'
    const { result } = await run(body, ['api-only'])
    const found = byName(result, 'api-only')
    expect(found.findings.requirements?.[0]).toMatchObject({ result: 'met', signedBy: 'images-ci' })
    expect(found.decision.trustStatus).toBe('valid')
  })
})

describe('the command line (dist/cli.js), wired as shipped', () => {
  /** `rocm-provenance verify` on the workspace's files, GITHUB_API_URL at the stand-in. */
  async function verifyWithCli() {
    const cli = await runTool(
      process.execPath,
      [
        join(PROJECT_ROOT, 'dist', 'cli.js'),
        'verify',
        '--insecure-registry',
        registry.host,
        '--cosign-path',
        toolPath('cosign')
      ],
      { cwd: workspace, env: hermeticEnv({ GITHUB_API_URL: api.url }), timeoutMs: 180_000 }
    )
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    return { cli, report }
  }

  it('finds the bundle through GITHUB_API_URL and reports the signer as kind github', async () => {
    await run('  trusted_signers: [images-ci]\n', ['api-only']) // writes the two files
    const before = api.requests.length
    const { cli, report } = await verifyWithCli()
    expect(cli.code).toBe(0)
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.images[0].signers[0]).toMatchObject({
      name: 'images-ci',
      kind: 'github',
      result: 'verified',
      counted: true
    })
    expect(api.requests.length - before).toBe(1)
  })

  it('lists the digests of one owner with one bulk request, keeping the signer’s repository’s bundles', async () => {
    const images = ['api-only', 'throttled', 'key-and-github', 'org-neighbour']
    writeFiles('  trusted_signers: [images-ci]\n', images, registry.host)
    const before = api.requests.length
    const { cli, report } = await verifyWithCli()
    const asked = api.requests.slice(before)
    expect(asked.map(r => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /orgs/rocm/attestations/bulk-list'
    ])
    expect(JSON.parse(asked[0].body ?? '').subject_digests).toHaveLength(4)
    expect(reportSchemaErrors(report)).toEqual([])
    const status = Object.fromEntries(
      report.images.map((i: { row: { os: string }; trustStatus: string }) => [
        i.row.os,
        i.trustStatus
      ])
    )
    expect(status).toEqual({
      'api-only': 'valid',
      throttled: 'valid',
      'key-and-github': 'valid',
      // rocm/other's bundle is not listed as rocm/images' (as the repository's
      // own listing would not list it): no attestation, not a wrong one.
      'org-neighbour': 'unsigned'
    })
    expect(cli.code).toBe(3)
  })
})
