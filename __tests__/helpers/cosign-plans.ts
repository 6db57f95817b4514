/**
 * Image plans for the cosign verifier's tests, and the two registry look-ups
 * src/cosign-tools.ts wires into it (signature evidence, digest existence), done here
 * with plain HTTP against the test registry.
 */
import {
  SLSA_PROVENANCE_V1,
  type Digest,
  type EffectivePolicy,
  type ImagePlan,
  type SignerExpectation
} from '../../src/domain/types.js'
import { CosignVerifier, type CosignVerifierOptions } from '../../src/adapters/cosign/verifier.js'
import { pushImage, signImage, type KeyPair } from './images.js'
import { hermeticEnv, toolPath } from './tools.js'

export function imagePlan(
  host: string,
  repositoryPath: string,
  digest: string,
  signer: SignerExpectation | undefined,
  policy: Partial<EffectivePolicy> = {}
): ImagePlan {
  const repository = `${host}/${repositoryPath}`
  return {
    row: {
      index: 0,
      version: '6.4.4',
      os: 'ubuntu-22.04',
      pin: { kind: 'pinned', digest: digest as Digest }
    },
    registry: host,
    repositoryPath,
    repository,
    tag: '6.4.4-ubuntu-22.04',
    reference: `${repository}:6.4.4-ubuntu-22.04`,
    ...(signer ? { signer } : {}),
    policy: {
      mode: 'strict',
      digestTtlDays: 30,
      requireSignature: true,
      attestMode: 'none',
      attestationType: SLSA_PROVENANCE_V1,
      ignoreTlog: true,
      sources: [],
      ...policy
    }
  }
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json'
].join(', ')

async function manifestExists(
  registryUrl: string,
  repositoryPath: string,
  reference: string
): Promise<boolean> {
  const response = await fetch(`${registryUrl}/v2/${repositoryPath}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_TYPES }
  })
  if (response.status === 200) return true
  if (response.status === 404) return false
  throw new Error(`HEAD ${reference}: ${response.status}`)
}

/** Whether `sha256-<hex>` (cosign 3 fallback tag) or `sha256-<hex>.sig` exists, asked of `registryUrl`. */
export function signatureEvidenceAt(registryUrl: string) {
  return async (plan: ImagePlan, digest: Digest): Promise<boolean> => {
    const tag = digest.replace(':', '-')
    return (
      (await manifestExists(registryUrl, plan.repositoryPath, tag)) ||
      (await manifestExists(registryUrl, plan.repositoryPath, `${tag}.sig`))
    )
  }
}

export function digestExistsAt(registryUrl: string) {
  return (plan: ImagePlan, digest: Digest): Promise<boolean> =>
    manifestExists(registryUrl, plan.repositoryPath, digest)
}

/**
 * A verifier against a test registry, with the registry look-ups wired in,
 * two attempts and short retry delays, so fault tests stay quick.
 */
export function testVerifier(
  registry: { host: string; url: string },
  workspace: string,
  options: Partial<CosignVerifierOptions> = {}
): CosignVerifier {
  return new CosignVerifier({
    cosignPath: toolPath('cosign'),
    workspace,
    insecureRegistries: [registry.host],
    env: hermeticEnv(),
    maxAttempts: 2,
    retryDelayMs: 20,
    signatureEvidence: signatureEvidenceAt(registry.url),
    digestExists: digestExistsAt(registry.url),
    ...options
  })
}

/** Pushes a fresh image to `repositoryPath` and signs it with `key`. */
export async function signedImage(
  registry: { host: string },
  repositoryPath: string,
  key: KeyPair,
  options: { legacy?: boolean } = {}
): Promise<Digest> {
  const digest = (await pushImage(registry.host, repositoryPath, 'work')) as Digest
  await signImage(`${registry.host}/${repositoryPath}@${digest}`, key, options)
  return digest
}
