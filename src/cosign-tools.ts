/**
 * Wires the cosign verifier to the registry client: before cosign's "no
 * signatures found" is believed, the registry is asked whether the digest
 * exists at all, and whether signature artifacts exist for it (cosign 3's
 * `sha256-<hex>` bundle tag or cosign 2's `sha256-<hex>.sig` tag).
 */
import { CosignVerifier } from './cosign/verifier.js'
import { readCosignVersion } from './cosign/install.js'
import type { CosignTools } from './pipeline.js'
import type { CredentialStore } from './registry/credentials.js'
import type { RegistryClient } from './registry/client.js'
import type { Digest, ImagePlan } from './types.js'

export interface CosignToolsOptions {
  cosignPath: string
  workspace: string
  insecureRegistries: string[]
  credentials: CredentialStore
  registry: Pick<RegistryClient, 'manifestExists'>
  env?: NodeJS.ProcessEnv
}

/** The tags under which cosign stores signatures of `digest` when a registry has no referrers API. */
export function signatureTags(digest: Digest): string[] {
  const fallback = digest.replace(':', '-')
  return [fallback, `${fallback}.sig`]
}

export async function createCosignTools(options: CosignToolsOptions): Promise<CosignTools> {
  const version = await readCosignVersion(options.cosignPath)
  const signatureEvidence = async (
    plan: ImagePlan,
    digest: Digest
  ): Promise<boolean | undefined> => {
    try {
      for (const tag of signatureTags(digest)) {
        if (await options.registry.manifestExists(plan.registry, plan.repositoryPath, tag))
          return true
      }
      return false
    } catch {
      return undefined
    }
  }
  const digestExists = async (plan: ImagePlan, digest: Digest): Promise<boolean | undefined> => {
    try {
      return await options.registry.manifestExists(plan.registry, plan.repositoryPath, digest)
    } catch {
      return undefined
    }
  }
  const verifier = new CosignVerifier({
    cosignPath: options.cosignPath,
    workspace: options.workspace,
    insecureRegistries: options.insecureRegistries,
    credentials: options.credentials,
    signatureEvidence,
    digestExists,
    env: options.env
  })
  return { verifier, version }
}
