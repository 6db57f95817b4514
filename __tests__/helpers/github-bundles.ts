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
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeylessBed } from './cosign-keyless.js'
import { slsaPredicate } from './images.js'
import { hermeticEnv, mustRun, toolPath } from './tools.js'

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

/**
 * A GitHub-style Sigstore bundle (v0.3, DSSE, in-toto statement whose subject
 * is the blob's SHA-256) of `type` (cosign's `--type`), as JSON.
 */
export async function githubBundle(
  bed: KeylessBed,
  blobPath: string,
  claims: GitHubClaims = RELEASE_CLAIMS,
  type = 'slsaprovenance1'
): Promise<unknown> {
  const out = join(mkdtempSync(join(tmpdir(), 'rp-gh-bundle-')), 'bundle.json')
  await mustRun(
    toolPath('cosign'),
    [
      'attest-blob',
      '--yes',
      '--identity-token',
      token(claims),
      '--signing-config',
      join(bed.dir, 'signing_config.json'),
      '--trusted-root',
      bed.trustedRootPath,
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
