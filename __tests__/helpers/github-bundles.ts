/**
 * GitHub artifact attestations as `actions/attest-build-provenance` makes
 * them, through the loopback Sigstore stand-ins (cosign-keyless.ts): an
 * unsigned OIDC token with GitHub's claims, which the @sigstore/mock Fulcio
 * turns into the certificate's GitHub extensions (`repository` → Source
 * Repository URI, `ref` → Source Repository Ref, `job_workflow_ref` → Build
 * Signer URI, `runner_environment` → Runner Environment; the SAN is `sub`, set
 * as real Fulcio sets it for GitHub tokens). The real cosign 3.1.1 signs:
 * `attest-blob` for a bundle file (what the API serves), `attest` for a bundle
 * pushed to the registry as an OCI referrer (what `push-to-registry` does).
 * GitHub's own instance (private repositories) writes no transparency-log
 * entry but takes an RFC 3161 timestamp: `githubInstance` makes its trust
 * material with the loopback TSA stand-in (tsa-standin.ts).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeylessBed } from './cosign-keyless.js'
import { slsaPredicate } from './images.js'
import { hermeticEnv, mustRun, toolPath } from './tools.js'
import type { TsaStandin } from './tsa-standin.js'

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json'
].join(', ')

export interface GitHubClaims {
  repository: string
  /** `.github/workflows/<file>` of the workflow that signed (in `repository` unless `workflowRepository`). */
  workflow: string
  ref: string
  runnerEnvironment: 'github-hosted' | 'self-hosted'
  /** The repository of a reusable workflow that signed, when not `repository`. */
  workflowRepository?: string
}

export const RELEASE_CLAIMS: GitHubClaims = {
  repository: 'rocm/images',
  workflow: '.github/workflows/release.yml',
  ref: 'refs/tags/v6.4.4',
  runnerEnvironment: 'github-hosted'
}

const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function token(claims: GitHubClaims): string {
  const now = Math.floor(Date.now() / 1000)
  const jobWorkflowRef = `${claims.workflowRepository ?? claims.repository}/${claims.workflow}@${claims.ref}`
  const [owner] = claims.repository.split('/')
  const body = {
    iss: GITHUB_ISSUER,
    sub: `https://github.com/${jobWorkflowRef}`,
    aud: 'sigstore',
    iat: now,
    exp: now + 600,
    repository: claims.repository,
    repository_owner: owner,
    repository_id: '1',
    repository_owner_id: '2',
    repository_visibility: 'public',
    ref: claims.ref,
    sha: 'a'.repeat(40),
    workflow: 'release',
    workflow_ref: `${claims.repository}/${claims.workflow}@${claims.ref}`,
    event_name: 'push',
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: 'b'.repeat(40),
    runner_environment: claims.runnerEnvironment,
    run_id: '3',
    run_attempt: '1'
  }
  const dir = mkdtempSync(join(tmpdir(), 'rp-gh-token-'))
  const path = join(dir, 't.jwt')
  writeFileSync(path, `${b64({ alg: 'none', typ: 'JWT' })}.${b64(body)}.`)
  return path
}

function predicateFile(predicate: object): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rp-gh-pred-')), 'predicate.json')
  writeFileSync(path, JSON.stringify(predicate))
  return path
}

/** The manifest bytes of `digest` (their SHA-256 is the digest): the blob an attestation names. */
export async function manifestBlob(
  registryUrl: string,
  repositoryPath: string,
  digest: string
): Promise<string> {
  const response = await fetch(`${registryUrl}/v2/${repositoryPath}/manifests/${digest}`, {
    headers: { accept: MANIFEST_TYPES }
  })
  if (!response.ok) throw new Error(`GET manifest ${digest}: ${response.status}`)
  const path = join(mkdtempSync(join(tmpdir(), 'rp-gh-blob-')), 'manifest.json')
  writeFileSync(path, Buffer.from(await response.arrayBuffer()))
  return path
}

/** Trust material of a Sigstore instance like GitHub's own: Fulcio and a TSA, no Rekor. */
export interface GitHubInstance {
  /** Fulcio (the bed's) and the trusted TSA; no transparency log, no CT log. */
  trustedRootPath: string
  /** Fulcio and `tsa` of each signing config; no Rekor, so cosign logs nothing. */
  signingConfigs: Map<TsaStandin, string>
  /** The trusted root cosign checks what it made against while signing (every TSA, the CT log). */
  signingTrustedRootPath: string
}

/**
 * The trust material of a GitHub-like instance, made by the real `cosign
 * trusted-root create` and `signing-config create`: Fulcio is the bed's
 * stand-in, `trusted` the TSA its trusted root lists (GitHub's lists six
 * Fulcio CAs and six TSAs, and no transparency log); `others` are TSAs that
 * sign too but are not trusted. The bed's Fulcio embeds SCTs; the trusted
 * root lists no CT log, as no log is known in GitHub's.
 */
export async function githubInstance(
  bed: KeylessBed,
  trusted: TsaStandin,
  others: TsaStandin[] = []
): Promise<GitHubInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-gh-instance-'))
  const bedRoot = JSON.parse(readFileSync(bed.trustedRootPath, 'utf8')) as {
    certificateAuthorities: { uri: string }[]
  }
  const fulcioUrl = bedRoot.certificateAuthorities[0].uri
  const start = new Date(Date.now() - 29 * 24 * 60 * 60 * 1000)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
  const fulcio = `--fulcio=url=${fulcioUrl},certificate-chain=${join(bed.dir, 'fulcio-root.pem')},start-time=${start}`
  const tsaFlag = (tsa: TsaStandin) =>
    `--tsa=url=${tsa.url},certificate-chain=${tsa.chainPath},start-time=${start}`
  const cosign = toolPath('cosign')
  const env = hermeticEnv()
  const trustedRootPath = join(dir, 'github_trusted_root.json')
  await mustRun(
    cosign,
    ['trusted-root', 'create', fulcio, tsaFlag(trusted), '--out', trustedRootPath],
    { env }
  )
  const signingTrustedRootPath = join(dir, 'signing_trusted_root.json')
  await mustRun(
    cosign,
    [
      'trusted-root',
      'create',
      fulcio,
      `--ctfe=url=${fulcioUrl},public-key=${join(bed.dir, 'ctfe.pub')},start-time=${start}`,
      ...[trusted, ...others].map(tsaFlag),
      '--out',
      signingTrustedRootPath
    ],
    { env }
  )
  const signingConfigs = new Map<TsaStandin, string>()
  for (const [n, tsa] of [trusted, ...others].entries()) {
    const path = join(dir, `signing_config_${n}.json`)
    await mustRun(
      cosign,
      [
        'signing-config',
        'create',
        `--fulcio=url=${fulcioUrl},api-version=1,start-time=${start},operator=test`,
        `--tsa=url=${tsa.url},api-version=1,start-time=${start},operator=test`,
        '--tsa-config=ANY',
        '--out',
        path
      ],
      { env }
    )
    signingConfigs.set(tsa, path)
  }
  return { trustedRootPath, signingConfigs, signingTrustedRootPath }
}

/**
 * A GitHub-style Sigstore bundle (v0.3, DSSE, in-toto statement whose subject
 * is the blob's SHA-256) of `type` (cosign's `--type`), as JSON. With
 * `instance` and `tsa`: as GitHub's own instance makes it, timestamped by
 * `tsa` and logged nowhere (no `tlogEntries`).
 */
export async function githubBundle(
  bed: KeylessBed,
  blobPath: string,
  claims: GitHubClaims = RELEASE_CLAIMS,
  type = 'slsaprovenance1',
  via?: { instance: GitHubInstance; tsa: TsaStandin }
): Promise<unknown> {
  const out = join(mkdtempSync(join(tmpdir(), 'rp-gh-bundle-')), 'bundle.json')
  const signingConfig = via
    ? via.instance.signingConfigs.get(via.tsa)
    : join(bed.dir, 'signing_config.json')
  if (signingConfig === undefined) throw new Error('githubBundle: the TSA is not the instance’s')
  await mustRun(
    toolPath('cosign'),
    [
      'attest-blob',
      '--yes',
      '--identity-token',
      token(claims),
      '--signing-config',
      signingConfig,
      '--trusted-root',
      via?.instance.signingTrustedRootPath ?? bed.trustedRootPath,
      '--type',
      type,
      '--predicate',
      predicateFile(slsaPredicate()),
      '--bundle',
      out,
      '--new-bundle-format',
      blobPath
    ],
    { env: hermeticEnv() }
  )
  return JSON.parse(readFileSync(out, 'utf8')) as unknown
}

/**
 * Attests `ref@digest` in the registry with GitHub claims: the bundle is
 * pushed as an OCI referrer of the digest (artifact type
 * `application/vnd.dev.sigstore.bundle.v0.3+json`, the referrers tag schema
 * on a registry without the referrers API), as `push-to-registry: true` does.
 */
export async function attestInRegistry(
  bed: KeylessBed,
  refAtDigest: string,
  claims: GitHubClaims = RELEASE_CLAIMS
): Promise<void> {
  await mustRun(
    toolPath('cosign'),
    [
      'attest',
      '--yes',
      '--identity-token',
      token(claims),
      '--signing-config',
      join(bed.dir, 'signing_config.json'),
      '--trusted-root',
      bed.trustedRootPath,
      '--allow-http-registry',
      '--allow-insecure-registry',
      '--new-bundle-format',
      '--type',
      'slsaprovenance1',
      '--predicate',
      predicateFile(slsaPredicate()),
      refAtDigest
    ],
    { env: hermeticEnv() }
  )
}
