/**
 * Wires the cosign verifier to the registry client: before cosign's "no
 * signatures found" is believed, the registry is asked whether the digest
 * exists at all, and whether signature artifacts exist for it: cosign 2's
 * `sha256-<hex>.sig` tag, or cosign 3's Sigstore bundles as OCI referrers
 * (through the referrers API, else the `sha256-<hex>` tag schema). A registry
 * that cannot answer makes the check throw, which the verifier reports as
 * could-not-complete, never as unsigned.
 */
import { CosignVerifier, type CosignVerifierOptions } from './verifier.js'
import { GitHubBundleVerifier } from './bundle-verifier.js'
import type { GitHubAttestations } from '../github/attestations.js'
import { readCosignVersion } from './binary.js'
import type { CosignTools } from '../../app/ports.js'
import type { CredentialStore } from '../registry/credentials.js'
import type { RegistryClient } from '../registry/client.js'
import { referrersTag, SIGSTORE_BUNDLE_ARTIFACT_TYPE } from '../../domain/manifest.js'
import type { Digest, ImagePlan } from '../../domain/types.js'

interface CosignToolsOptions {
  cosignPath: string
  workspace: string
  insecureRegistries: string[]
  credentials: CredentialStore
  registry: Pick<RegistryClient, 'manifestExists' | 'listReferrers' | 'readArtifactLayer'> &
    Partial<Pick<RegistryClient, 'clearance'>>
  env?: NodeJS.ProcessEnv
  /** Grouping of `cosign verify` calls (batch.ts; default: none). */
  batch?: CosignVerifierOptions['batch']
  /** GitHub's attestations API, one client per run (issue 13); absent: registry referrers only. */
  attestations?: Pick<GitHubAttestations, 'listBundles' | 'anonymous'>
}

export async function createCosignTools(options: CosignToolsOptions): Promise<CosignTools> {
  const version = await readCosignVersion(options.cosignPath)
  const { registry } = options
  const signatureEvidence = async (plan: ImagePlan, digest: Digest): Promise<boolean> => {
    const { registry: host, repositoryPath } = plan
    // cosign 2: the `sha256-<hex>.sig` tag; cosign 3: Sigstore bundles as
    // referrers (the referrers API, else the `sha256-<hex>` tag schema index).
    if (await registry.manifestExists(host, repositoryPath, `${referrersTag(digest)}.sig`))
      return true
    const referrers = await registry.listReferrers(host, repositoryPath, digest)
    return referrers.some(r => r.artifactType === SIGSTORE_BUNDLE_ARTIFACT_TYPE)
  }
  const digestExists = (plan: ImagePlan, digest: Digest): Promise<boolean> =>
    registry.manifestExists(plan.registry, plan.repositoryPath, digest)
  const verifier = new CosignVerifier({
    cosignPath: options.cosignPath,
    workspace: options.workspace,
    insecureRegistries: options.insecureRegistries,
    credentials: options.credentials,
    signatureEvidence,
    digestExists,
    env: options.env,
    github: new GitHubBundleVerifier({
      cosignPath: options.cosignPath,
      workspace: options.workspace,
      registry,
      attestations: options.attestations,
      env: options.env
    }),
    ...(options.batch !== undefined && { batch: options.batch })
  })
  // cosign's own registry requests wait out a registry's Retry-After too.
  const clearance = (plan: ImagePlan): Promise<void> =>
    options.registry.clearance?.(plan.registry) ?? Promise.resolve()
  return {
    verifier: {
      verifySignature: async (plan, digest, now) => {
        await clearance(plan)
        return verifier.verifySignature(plan, digest, now)
      },
      verifyAttestation: async (plan, digest) => {
        await clearance(plan)
        return verifier.verifyAttestation(plan, digest)
      },
      verifyRequirement: async (plan, requirement, digest, now) => {
        await clearance(plan)
        return verifier.verifyRequirement(plan, requirement, digest, now)
      }
    },
    version
  }
}
