/** ImagePlan values for the registry tests: only the fields the digest check reads matter. */
import type { Digest, ImagePlan } from '../../src/domain/types.js'

export function planFor(
  registry: string,
  repositoryPath: string,
  tag: string,
  pin: string | undefined
): ImagePlan {
  const repository = `${registry}/${repositoryPath}`
  return {
    row: {
      index: 0,
      version: '6.4.4',
      os: 'ubuntu-22.04',
      pin:
        pin && /^sha256:[0-9a-f]{64}$/.test(pin)
          ? { kind: 'pinned', digest: pin as Digest }
          : { kind: 'not-pinned', raw: pin ?? '' }
    },
    registry,
    repositoryPath,
    repository,
    tag,
    reference: `${repository}:${tag}`,
    policy: {
      mode: 'strict',
      digestTtlDays: 30,
      requireSignature: false,
      attestMode: 'none',
      attestationType: 'https://slsa.dev/provenance/v1',
      ignoreTlog: false,
      sources: []
    }
  }
}

/** A digest no registry holds. */
export const ABSENT_DIGEST = `sha256:${'0'.repeat(64)}` as Digest
