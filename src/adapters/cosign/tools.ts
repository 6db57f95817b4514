/**
 * Wires the cosign verifier to the registry client: before cosign's "no
 * signatures found" is believed, the registry is asked whether the digest
 * exists at all, and whether signature artifacts exist for it (cosign 3's
 * `sha256-<hex>` bundle tag or cosign 2's `sha256-<hex>.sig` tag).
 */
import { CosignVerifier } from './verifier.js'
import { readCosignVersion } from './install.js'
import type { CosignTools } from '../../app/ports.js'
import type { CredentialStore } from '../registry/credentials.js'
import type { RegistryClient } from '../registry/client.js'
import type { Digest, ImagePlan } from '../../domain/types.js'

export interface CosignToolsOptions {
  cosignPath: string
  workspace: string
  insecureRegistries: string[]
  credentials: CredentialStore
  registry: Pick<RegistryClient, 'manifestExists'> & Partial<Pick<RegistryClient, 'clearance'>>
  env?: NodeJS.ProcessEnv
}

/** The tags under which cosign stores signatures of `digest` when a registry has no referrers API. */
export function signatureTags(digest: Digest): string[] {
  const fallback = digest.replace(':', '-')
  return [fallback, `${fallback}.sig`]
}

export async function createCosignTools(options: CosignToolsOptions): Promise<CosignTools> {
  const version = await readCosignVersion(options.cosignPath)
  // Whether any of these exist in the image's repository; undefined when the registry cannot say.
  const anyExists = async (plan: ImagePlan, references: string[]): Promise<boolean | undefined> => {
    try {
      for (const reference of references) {
        if (await options.registry.manifestExists(plan.registry, plan.repositoryPath, reference))
          return true
      }
      return false
    } catch {
      return undefined
    }
  }
  const signatureEvidence = (plan: ImagePlan, digest: Digest) =>
    anyExists(plan, signatureTags(digest))
  const digestExists = (plan: ImagePlan, digest: Digest) => anyExists(plan, [digest])
  const verifier = new CosignVerifier({
    cosignPath: options.cosignPath,
    workspace: options.workspace,
    insecureRegistries: options.insecureRegistries,
    credentials: options.credentials,
    signatureEvidence,
    digestExists,
    env: options.env
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
      }
    },
    version
  }
}
