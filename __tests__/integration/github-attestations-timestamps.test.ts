/**
 * GitHub artifact attestations of private repositories: GitHub's own Sigstore
 * instance writes no transparency-log entry; its bundles carry an RFC 3161
 * signed timestamp instead. Made here as it makes them — the real cosign
 * 3.1.1 `attest-blob` with a signing config naming the loopback Fulcio
 * stand-in and the loopback TSA stand-in (DER RFC 3161), and no Rekor — and
 * verified through the whole pipeline against a trusted root made by `cosign
 * trusted-root create` with that Fulcio and TSA and no log, the bundle served
 * by the stand-in of GitHub's attestations API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
import {
  startAttestationsStandin,
  type AttestationsStandin
} from '../helpers/github-attestations-standin.js'
import {
  githubBundle,
  githubInstance,
  manifestBlob,
  RELEASE_CLAIMS,
  type GitHubInstance
} from '../helpers/github-bundles.js'
import { pushImage } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, runTool, toolPath } from '../helpers/tools.js'
import { startTsaStandin, timestampOf, type TsaStandin } from '../helpers/tsa-standin.js'

const REPO = 'rocm/private'
const HOUR_MS = 60 * 60 * 1000
const DAY_MS = 24 * HOUR_MS
const NO_CREDENTIALS = createCredentialStore({ dockerConfigDir: '/nonexistent-rp-docker-config' })

let registry: TestRegistry
let bed: KeylessBed
let api: AttestationsStandin
let tsa: TsaStandin
let untrustedTsa: TsaStandin
let instance: GitHubInstance
let workspace: string
const digests: Record<string, Digest> = {}
const bundles: Record<string, unknown> = {}
/** The genTime the TSA wrote into the `stamped` bundle. */
let genTime: Date
/** The genTime of the untrusted TSA's timestamp spliced into the `spliced` bundle. */
let forgedTime: Date
/** The genTime of the `padded` bundle's own timestamp. */
let paddedTime: Date

type Bundle = {
  verificationMaterial: {
    tlogEntries?: unknown[]
    timestampVerificationData?: { rfc3161Timestamps?: { signedTimestamp: string }[] }
  }
}

/** The policy (`trustedRoot` unless null) and one matrix row per image named. */
function writeFiles(signers: string, images: string[], trustedRoot: string | null, now: Date) {
  const root = trustedRoot === null ? '' : `  trusted_root: ${trustedRoot}\n`
  writeFileSync(
    join(workspace, 'ci', 'rocm_policy.yml'),
    `policy:\n  mode: strict\n  require_signature: true\n${root}  signers:\n${signers}  trusted_signers: [private-ci]\n`
  )
  const rows = images.flatMap((name, i) => [
    `    - version: "1.${i}"`,
    `      os: "${name}"`,
    `      repository: ${registry.host}/${REPO}`,
    `      tag: "${name}"`,
    `      digest: "${digests[name]}"`,
    `      added: "${now.toISOString().slice(0, 10)}"`
  ])
  writeFileSync(
    join(workspace, 'ci', 'rocm_matrix.yml'),
    ['rocm:', '  images:', ...rows, ''].join('\n')
  )
}

/** The `private-ci` github signer, with `window` lines (valid_from / valid_until) when given. */
function signer(window = ''): string {
  return `    private-ci:\n      github:\n        repository: rocm/images\n${window}`
}

/** The pipeline on one row per image named, at the run's time `now`. */
async function run(
  images: string[],
  options: { window?: string; trustedRoot?: string | null; now?: Date } = {}
): Promise<RunResult> {
  const now = options.now ?? new Date()
  writeFiles(
    signer(options.window),
    images,
    options.trustedRoot === undefined ? 'ci/github_trusted_root.json' : options.trustedRoot,
    now
  )
  const registryClient = new RegistryClient({
    credentials: NO_CREDENTIALS,
    insecureRegistries: [registry.host],
    retry: { baseDelayMs: 5, maxDelayMs: 20 }
  })
  const verifier = new CosignVerifier({
    cosignPath: toolPath('cosign'),
    workspace,
    insecureRegistries: [registry.host],
    env: hermeticEnv(),
    maxAttempts: 1,
    signatureEvidence: signatureEvidenceAt(registry.url),
    digestExists: digestExistsAt(registry.url),
    github: new GitHubBundleVerifier({
      cosignPath: toolPath('cosign'),
      workspace,
      registry: registryClient,
      attestations: new GitHubAttestations({ apiUrl: api.url }),
      env: hermeticEnv()
    })
  })
  return verifyImages(
    {
      workspace,
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      images: [],
      concurrency: 1,
      now
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
}

function byName(result: RunResult, name: string): ImageResult {
  const found = result.images.find(i => i.findings.plan.row.os === name)
  if (!found) throw new Error(`no image ${name}: ${JSON.stringify(result.configIssues)}`)
  return found
}

function privateCi(image: ImageResult) {
  const found = image.findings.signature.signers?.find(s => s.name === 'private-ci')
  if (!found) throw new Error('no signer private-ci')
  return found
}

/** Serves `bundle` from the API stand-in as rocm/images' attestation of `name`'s digest. */
function serve(name: string, bundle: unknown): void {
  bundles[name] = bundle
  api.stored.push({
    repository: 'rocm/images',
    digest: digests[name],
    bundle,
    predicateType: 'https://slsa.dev/provenance/v1'
  })
}

beforeAll(async () => {
  ;[registry, bed, api] = await Promise.all([
    startRegistry(),
    startKeylessBed(),
    startAttestationsStandin()
  ])
  workspace = mkdtempSync(join(tmpdir(), 'rp-gh-tsa-'))
  mkdirSync(join(workspace, 'ci'), { recursive: true })
  tsa = await startTsaStandin(workspace, 'github-tsa')
  untrustedTsa = await startTsaStandin(workspace, 'untrusted-tsa')
  instance = await githubInstance(bed, tsa, [untrustedTsa])
  copyFileSync(instance.trustedRootPath, join(workspace, 'ci', 'github_trusted_root.json'))
  for (const name of ['stamped', 'stripped', 'untrusted', 'no-root', 'spliced', 'padded'])
    digests[name] = (await pushImage(registry.host, REPO, name)) as Digest
  const bundleOf = async (name: string, by: TsaStandin) =>
    githubBundle(
      bed,
      await manifestBlob(registry.url, REPO, digests[name]),
      RELEASE_CLAIMS,
      'slsaprovenance1',
      {
        instance,
        tsa: by
      }
    )
  serve('stamped', await bundleOf('stamped', tsa))
  genTime = tsa.requests[tsa.requests.length - 1].genTime
  // The same kind of bundle with its timestamp taken out: nothing says when it was signed.
  const stripped = structuredClone((await bundleOf('stripped', tsa)) as Bundle)
  delete stripped.verificationMaterial.timestampVerificationData
  serve('stripped', stripped)
  serve('untrusted', await bundleOf('untrusted', untrustedTsa))
  serve('no-root', await bundleOf('no-root', tsa))
  // A timestamp of an untrusted TSA whose clock says 20 days ago (the
  // attacker's), written first under the JSON name, and the bundle's own
  // verified one second under the protobuf field name (`signed_timestamp`),
  // which cosign (protojson) reads as the same field.
  const spliced = structuredClone((await bundleOf('spliced', tsa)) as Bundle)
  untrustedTsa.setClockOffset(-20 * DAY_MS)
  const forged = await timestampOf(untrustedTsa, Buffer.from('anything'))
  untrustedTsa.setClockOffset(0)
  forgedTime = untrustedTsa.requests[untrustedTsa.requests.length - 1].genTime
  const own = spliced.verificationMaterial.timestampVerificationData!.rfc3161Timestamps![0]
  spliced.verificationMaterial.timestampVerificationData = {
    rfc3161Timestamps: [
      { signedTimestamp: forged },
      { signed_timestamp: own.signedTimestamp } as unknown as { signedTimestamp: string }
    ]
  }
  serve('spliced', spliced)
  // Its own timestamp and, after it, one of an untrusted TSA (nothing signs
  // the list: anyone who can push a referrer can add one).
  const padded = structuredClone((await bundleOf('padded', tsa)) as Bundle)
  paddedTime = tsa.requests[tsa.requests.length - 1].genTime
  padded.verificationMaterial.timestampVerificationData!.rfc3161Timestamps!.push({
    signedTimestamp: await timestampOf(untrustedTsa, Buffer.from('anything'))
  })
  serve('padded', padded)
}, 300_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), bed?.stop(), api?.stop(), tsa?.stop(), untrustedTsa?.stop()])
  rmSync(workspace, { recursive: true, force: true })
})

describe('a bundle of GitHub’s own instance (no log entry, a signed timestamp)', () => {
  it('is made as GitHub makes it: no transparency-log entry, one RFC 3161 timestamp', () => {
    const material = (bundles.stamped as Bundle).verificationMaterial
    expect(material.tlogEntries ?? []).toEqual([])
    expect(material.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1)
  })

  it('verifies against its trusted root: valid, signed at the timestamp’s genTime', async () => {
    const result = await run(['stamped'])
    const found = byName(result, 'stamped')
    expect(found.decision.trustStatus).toBe('valid')
    expect(privateCi(found)).toMatchObject({
      kind: 'github',
      result: 'verified',
      counted: true,
      source: 'API',
      signedAt: genTime.toISOString(),
      signingTime: genTime.toISOString(),
      signingTimeSource: 'tsa'
    })
  })

  it('with its timestamp stripped (no log entry, no timestamp): invalid', async () => {
    const result = await run(['stripped'])
    const found = byName(result, 'stripped')
    expect(found.decision.trustStatus).toBe('invalid')
    expect(privateCi(found)).toMatchObject({ result: 'invalid', counted: false })
    expect(privateCi(found).message).toContain(
      'neither a transparency-log entry nor a signed timestamp'
    )
  })

  it('with its timestamp stripped, cosign with the timestamp flags refuses it too', async () => {
    // The refusal above is the action's own; cosign, asked as for a stamped
    // bundle, does not accept it either (it requires one verified timestamp).
    const path = join(workspace, 'stripped.json')
    writeFileSync(path, JSON.stringify(bundles.stripped))
    const plan = byName(await run(['stripped']), 'stripped').findings.plan
    const github = plan.signers?.find(named => named.kind === 'github')
    if (github?.kind !== 'github') throw new Error('no github signer in the plan')
    const args = GitHubBundleVerifier.arguments(
      plan,
      github,
      digests.stripped,
      'slsaprovenance1',
      path,
      workspace,
      ['--use-signed-timestamps', '--insecure-ignore-tlog', '--insecure-ignore-sct']
    )
    const cosign = await runTool(toolPath('cosign'), args, { env: hermeticEnv() })
    expect(cosign.code).toBe(1)
    expect(cosign.stderr).toContain('threshold not met for verified signed timestamps: 0 < 1')
  })

  it('timestamped by a TSA the trusted root does not list: invalid', async () => {
    const result = await run(['untrusted'])
    const found = byName(result, 'untrusted')
    expect(found.decision.trustStatus).toBe('invalid')
    expect(privateCi(found).result).toBe('invalid')
    expect(privateCi(found).message).toMatch(/verified signed timestamps: 0 < 1/)
  })

  it('without trusted_root (Sigstore’s public-good instance, which logs everything): invalid', async () => {
    const result = await run(['no-root'], { trustedRoot: null })
    const found = byName(result, 'no-root')
    expect(found.decision.trustStatus).toBe('invalid')
    expect(privateCi(found).message).toContain('verifies only against trusted_root')
  })

  it('a validity window is judged at the timestamp’s time, not the run’s', async () => {
    const later = new Date(genTime.getTime() + 2 * HOUR_MS)
    const before = new Date(genTime.getTime() - HOUR_MS).toISOString()
    const between = new Date(genTime.getTime() + HOUR_MS).toISOString()
    // valid_until before the timestamp: expired at the time it was signed.
    const retired = await run(['stamped'], { window: `      valid_until: ${before}\n`, now: later })
    expect(byName(retired, 'stamped').decision.trustStatus).toBe('expired')
    expect(privateCi(byName(retired, 'stamped'))).toMatchObject({
      result: 'expired',
      counted: false,
      signingTime: genTime.toISOString(),
      signingTimeSource: 'tsa'
    })
    // valid_until after the timestamp but before the run: it was valid when signed.
    const signedInTime = await run(['stamped'], {
      window: `      valid_until: ${between}\n`,
      now: later
    })
    expect(byName(signedInTime, 'stamped').decision.trustStatus).toBe('valid')
    // valid_from after the timestamp but before the run: not yet valid when signed.
    const early = await run(['stamped'], { window: `      valid_from: ${between}\n`, now: later })
    expect(privateCi(byName(early, 'stamped')).result).toBe('not-yet-valid')
  })

  it('a timestamp cosign did not verify is never the signing time, whatever the JSON names its field', async () => {
    // cosign (protojson) reads `signed_timestamp` as `signedTimestamp`: it
    // verifies the bundle's own timestamp and tolerates the untrusted one.
    // Read as the only timestamp, the forged genTime (20 days ago) would put
    // the signature inside a valid_until that ended 10 days ago.
    const retired = new Date(Date.now() - 10 * DAY_MS).toISOString()
    const result = await run(['spliced'], { window: `      valid_until: ${retired}\n` })
    const found = byName(result, 'spliced')
    expect(privateCi(found).signingTime).not.toBe(forgedTime.toISOString())
    expect(found.decision.trustStatus).not.toBe('valid')
  })

  it('a timestamp added to a bundle does not move its signing time to the run’s', async () => {
    // valid_from after the bundle's own timestamp: not yet valid when signed,
    // whatever other timestamps are added (the run's time would be inside).
    const later = new Date(paddedTime.getTime() + 2 * HOUR_MS)
    const between = new Date(paddedTime.getTime() + HOUR_MS).toISOString()
    const result = await run(['padded'], { window: `      valid_from: ${between}\n`, now: later })
    expect(privateCi(byName(result, 'padded'))).toMatchObject({
      result: 'not-yet-valid',
      signingTime: paddedTime.toISOString(),
      signingTimeSource: 'tsa'
    })
    // Without a window: valid, signed at its own timestamp's time.
    const plain = await run(['padded'])
    expect(byName(plain, 'padded').decision.trustStatus).toBe('valid')
    expect(privateCi(byName(plain, 'padded')).signingTime).toBe(paddedTime.toISOString())
  })
})
