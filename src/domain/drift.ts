/**
 * The digest check of one image: does the tag still point at the pinned
 * digest? Registry trouble is a finding (`unreachable`, with its cause),
 * never an exception.
 */
import { RegistryError, describeRegistryError } from './errors.js'
import { isIndexMediaType, type ManifestInfo, type RequestCounter } from './manifest.js'
import type { Digest, DigestFinding, ImagePlan } from './types.js'

type PinnedFacts = Pick<DigestFinding, 'pinnedExists' | 'pinnedKind' | 'cause'>

/**
 * What the check needs of a registry (the port the registry adapter fills).
 * With `inspectManifest` a pin the tag no longer points at is also classified
 * as index or manifest. Every method throws RegistryError for trouble.
 */
export interface DigestSource {
  resolveTag(
    registry: string,
    repositoryPath: string,
    tag: string,
    counter?: RequestCounter
  ): Promise<ManifestInfo>
  manifestExists(
    registry: string,
    repositoryPath: string,
    digestOrTag: string,
    counter?: RequestCounter
  ): Promise<boolean>
  inspectManifest?(
    registry: string,
    repositoryPath: string,
    digest: Digest,
    counter?: RequestCounter
  ): Promise<ManifestInfo | undefined>
}

export async function checkDigest(plan: ImagePlan, client: DigestSource): Promise<DigestFinding> {
  const counter: RequestCounter = { requests: 0 }
  const pinned = plan.row.pin.kind === 'pinned' ? plan.row.pin.digest : undefined
  let current: ManifestInfo
  try {
    current = await client.resolveTag(plan.registry, plan.repositoryPath, plan.tag, counter)
  } catch (error: unknown) {
    if (!(error instanceof RegistryError)) throw error
    if (!pinned)
      return {
        status: 'not-pinned',
        cause: describeRegistryError(error),
        requests: counter.requests
      }
    if (error.code === 'REGISTRY_NOT_FOUND') {
      const facts = await inspectPinned(plan, client, pinned, counter)
      return { status: 'tag-missing', pinnedDigest: pinned, ...facts, requests: counter.requests }
    }
    return {
      status: error.code === 'REGISTRY_AUTH' ? 'access-denied' : 'unreachable',
      pinnedDigest: pinned,
      cause: describeRegistryError(error),
      requests: counter.requests
    }
  }
  const now = {
    currentDigest: current.digest,
    currentMediaType: current.mediaType
  }
  if (!pinned) return { status: 'not-pinned', ...now, requests: counter.requests }
  if (current.digest === pinned)
    return {
      status: 'match',
      pinnedDigest: pinned,
      ...now,
      pinnedKind: isIndexMediaType(current.mediaType) ? 'index' : 'manifest',
      pinnedExists: true,
      requests: counter.requests
    }
  const platform = current.platforms?.find(p => p.digest === pinned)
  if (platform)
    return {
      status: 'match',
      pinnedDigest: pinned,
      ...now,
      pinnedKind: 'platform-manifest',
      pinnedPlatform: platform.platform,
      pinnedExists: true,
      requests: counter.requests
    }
  const facts = await inspectPinned(plan, client, pinned, counter)
  return { status: 'drift', pinnedDigest: pinned, ...now, ...facts, requests: counter.requests }
}

/** Whether the pinned digest still exists, and whether it is an index; trouble becomes the cause. */
async function inspectPinned(
  plan: ImagePlan,
  client: DigestSource,
  pinned: Digest,
  counter: RequestCounter
): Promise<PinnedFacts> {
  const { registry, repositoryPath } = plan
  try {
    if (!client.inspectManifest)
      return {
        pinnedExists: await client.manifestExists(registry, repositoryPath, pinned, counter)
      }
    const manifest = await client.inspectManifest(registry, repositoryPath, pinned, counter)
    if (!manifest) return { pinnedExists: false }
    return {
      pinnedExists: true,
      pinnedKind: isIndexMediaType(manifest.mediaType) ? 'index' : 'manifest'
    }
  } catch (error: unknown) {
    if (!(error instanceof RegistryError)) throw error
    return { cause: `could not check the pinned digest: ${describeRegistryError(error)}` }
  }
}
