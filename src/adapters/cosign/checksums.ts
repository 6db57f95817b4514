/**
 * The cosign release the action installs by default, and the SHA-256 of each
 * of its platform binaries, pinned here so a download is checked against
 * values that came with the action, never with the download.
 *
 * To regenerate for a new version (as sigstore/cosign-installer does):
 *   curl -sSfL https://github.com/sigstore/cosign/releases/download/<version>/cosign_checksums.txt \
 *     | grep -E ' cosign-(linux-(amd64|arm64|arm)|darwin-(amd64|arm64)|windows-amd64\.exe)$'
 * and cross-check each line against the release's signed checksums
 * (`cosign verify-blob` of cosign_checksums.txt) before pasting the values below.
 */

export const DEFAULT_COSIGN_VERSION = 'v3.0.6'

/** Where release assets live: `<base>/<version>/<asset>`. Configurable for GHES and mirrors. */
export const DEFAULT_COSIGN_RELEASE_URL = 'https://github.com/sigstore/cosign/releases/download'

/** version → asset name → lowercase hex SHA-256. */
export const COSIGN_SHA256: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'v3.0.6': {
    'cosign-linux-amd64': 'c956e5dfcac53d52bcf058360d579472f0c1d2d9b69f55209e256fe7783f4c74',
    'cosign-linux-arm64': 'bedac92e8c3729864e13d4a17048007cfafa79d5deca993a43a90ffe018ef2b8',
    'cosign-linux-arm': '67bd25d32daff5664caf51208c95defcb2ad7ac1296f394fa677bb8bacee62f5',
    'cosign-darwin-amd64': '4c3e7af8372d3ca3296e62fa56f23fcbb5721cc6ac1827900d398f110d7cd280',
    'cosign-darwin-arm64': '5fadd012ae6381a6a29ff86a7d39aa873878852f1073fc90b15995961ecfb084',
    'cosign-windows-amd64.exe': '9b85a88ebff2d9dd30ff4984a6f61f2cedc232dd87d81fa7f2ff3c0ed96c241c'
  }
}

/** The pinned SHA-256 of one release asset, if this action knows it. */
export function pinnedCosignSha256(version: string, asset: string): string | undefined {
  return COSIGN_SHA256[normalizeCosignVersion(version)]?.[asset]
}

/** `3.0.6` and `v3.0.6` name the same release; release tags carry the `v`. */
export function normalizeCosignVersion(version: string): string {
  const trimmed = version.trim()
  return /^\d/.test(trimmed) ? `v${trimmed}` : trimmed
}
