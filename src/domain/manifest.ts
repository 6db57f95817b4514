/**
 * Pure facts of the distribution and OCI image specs the registry client and
 * the digest check share: media types, digests, index platforms, `Link` paging.
 */
import { isDigest } from './reference.js'
import type { Digest } from './types.js'

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
/** Every manifest type we read, indexes first: without them a registry may convert or refuse. */
export const MANIFEST_ACCEPT = [
  OCI_INDEX,
  DOCKER_MANIFEST_LIST,
  OCI_MANIFEST,
  DOCKER_MANIFEST
].join(', ')

/** The empty descriptor's media type (OCI image spec 1.1), an artifact's config when it has none. */
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json'
/** Artifact type of a Sigstore bundle stored as an OCI 1.1 referrer (cosign 3, GitHub attestations). */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST
}

export interface PlatformManifest {
  digest: Digest
  /** `os/arch[/variant]` */
  platform: string
}

/** `os/arch[/variant]` of an index entry's `platform`, if it names one. */
export function formatPlatform(platform: unknown): string | undefined {
  if (typeof platform !== 'object' || platform === null) return undefined
  const { os, architecture, variant } = platform as Record<string, unknown>
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined
  return [os, architecture, typeof variant === 'string' && variant ? variant : undefined]
    .filter(Boolean)
    .join('/')
}

/** The child manifests an index lists, with their platforms. */
export function parseIndexPlatforms(json: unknown): PlatformManifest[] {
  const manifests = (json as { manifests?: unknown } | null)?.manifests
  if (!Array.isArray(manifests)) return []
  const found: PlatformManifest[] = []
  for (const entry of manifests) {
    const { digest, platform } = (entry ?? {}) as Record<string, unknown>
    const name = formatPlatform(platform)
    if (typeof digest === 'string' && isDigest(digest) && name)
      found.push({ digest, platform: name })
  }
  return found
}

/** A manifest that refers to another through its `subject` (OCI image spec 1.1). */
export interface ReferrerDescriptor {
  digest: Digest
  mediaType: string
  /** The referrer's `artifactType` (or its config's media type), e.g. a Sigstore bundle. */
  artifactType?: string
  annotations?: Record<string, string>
  /** How it was listed: the referrers API, or the referrers tag schema's index (`sha256-<hex>`). */
  via?: 'referrers-api' | 'referrers-tag'
}

/**
 * The referrers tag schema (OCI distribution spec 1.1, "referrers tag schema"):
 * where a registry has no referrers API, the referrers of `sha256:<hex>` are
 * listed in an index under the tag `sha256-<hex>`.
 */
export function referrersTag(digest: Digest): string {
  return digest.replace(':', '-')
}

/**
 * The artifact type a manifest declares (OCI image spec 1.1): its
 * `artifactType`, else its config's media type unless that is the empty one.
 */
export function declaredArtifactType(manifest: unknown): string | undefined {
  const { artifactType, config } = (manifest ?? {}) as Record<string, unknown>
  if (typeof artifactType === 'string' && artifactType !== '') return artifactType
  const configType = (config as { mediaType?: unknown } | undefined)?.mediaType
  return typeof configType === 'string' && configType !== OCI_EMPTY ? configType : undefined
}

/** The descriptors of a referrers index (the API's answer or the tag schema's index). */
export function parseReferrers(json: unknown): ReferrerDescriptor[] {
  const manifests = (json as { manifests?: unknown } | null)?.manifests
  if (!Array.isArray(manifests)) return []
  const found: ReferrerDescriptor[] = []
  for (const entry of manifests) {
    const { digest, mediaType, artifactType, annotations } = (entry ?? {}) as Record<
      string,
      unknown
    >
    if (typeof digest !== 'string' || !isDigest(digest)) continue
    const descriptor: ReferrerDescriptor = {
      digest,
      mediaType: typeof mediaType === 'string' ? mediaType : ''
    }
    if (typeof artifactType === 'string') descriptor.artifactType = artifactType
    if (typeof annotations === 'object' && annotations !== null)
      descriptor.annotations = Object.fromEntries(
        Object.entries(annotations).filter(
          (pair): pair is [string, string] => typeof pair[1] === 'string'
        )
      )
    found.push(descriptor)
  }
  return found
}

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined
  for (const part of link.split(',')) {
    const match = /<([^>]*)>\s*;(.*)$/.exec(part.trim())
    if (match && /(?:^|;)\s*rel="?next"?\s*(?:;|$)/.test(match[2])) return match[1]
  }
  return undefined
}

export interface ManifestInfo {
  digest: Digest
  mediaType: string
  /** The index's child manifests, for an index. */
  platforms?: PlatformManifest[]
}

/** Collects the requests made on behalf of one caller (one image's check). */
export interface RequestCounter {
  requests: number
}
