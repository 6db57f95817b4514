/**
 * Installs cosign the way actions/setup-go installs Go: tool cache first, else
 * download the release asset for this platform, check its SHA-256 against a
 * pinned value, cache it and put it on PATH. An unpinned download is refused.
 */
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import { chmod, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { normalizeCosignVersion, pinnedCosignSha256 } from './checksums.js'
import { cosignAssetName, CosignInstallError, sha256File } from './binary.js'

interface InstallCosignOptions {
  /** Release tag, e.g. `v3.0.6` (a leading `v` is added when missing). */
  version: string
  /** Expected SHA-256 (hex, optionally `sha256:`-prefixed); required for unpinned versions. */
  sha256?: string
  /** Base of the release downloads: `<releaseUrl>/<version>/cosign-<os>-<arch>`. */
  releaseUrl: string
  platform?: NodeJS.Platform
  arch?: string
}

const TOOL_NAME = 'cosign'

/** Returns the path of the cosign binary, and adds its folder to PATH. */
export async function installCosign(options: InstallCosignOptions): Promise<string> {
  const version = normalizeCosignVersion(options.version)
  const platform = options.platform ?? process.platform
  const arch = options.arch ?? process.arch
  const asset = cosignAssetName(platform, arch)
  const expected = expectedSha256(version, asset, options.sha256)
  const binaryName = platform === 'win32' ? 'cosign.exe' : 'cosign'
  const where = `cosign ${version} (${platform}/${arch})`

  const cachedDir = tc.find(TOOL_NAME, version, arch)
  if (cachedDir) {
    const cachedPath = join(cachedDir, binaryName)
    if ((await sha256File(cachedPath).catch(() => undefined)) === expected) {
      core.info(`Using cached ${where} from ${cachedDir}`)
      core.addPath(cachedDir)
      return cachedPath
    }
    core.warning(
      `Cached ${where} at ${cachedDir} does not match the expected SHA-256; downloading again`
    )
  }

  const url = `${options.releaseUrl.replace(/\/+$/, '')}/${version}/${asset}`
  core.info(`Downloading ${where} from ${url}`)
  let downloaded: string
  try {
    downloaded = await tc.downloadTool(url)
  } catch (error: unknown) {
    throw new CosignInstallError(
      'COSIGN_DOWNLOAD_FAILED',
      `could not download ${where} from ${url}`,
      { cause: error }
    )
  }
  const actual = await sha256File(downloaded)
  if (actual !== expected) {
    await rm(downloaded, { force: true })
    throw new CosignInstallError(
      'COSIGN_CHECKSUM_MISMATCH',
      `SHA-256 mismatch for ${where} downloaded from ${url}: expected ${expected}, got ${actual}. ` +
        'The download was discarded.'
    )
  }
  await chmod(downloaded, 0o755)
  const toolDir = await tc.cacheFile(downloaded, binaryName, TOOL_NAME, version, arch)
  const toolPath = join(toolDir, binaryName)
  await chmod(toolPath, 0o755)
  await rm(downloaded, { force: true })
  core.addPath(toolDir)
  return toolPath
}

/** The given checksum, else the pinned one; a version with neither is refused. */
function expectedSha256(version: string, asset: string, given: string | undefined): string {
  if (given !== undefined && given.trim() !== '') {
    const hex = given
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, '')
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      throw new CosignInstallError(
        'COSIGN_BAD_SHA256',
        `cosign-sha256 must be 64 hex characters (optionally prefixed with sha256:), got "${given}"`
      )
    }
    return hex
  }
  const pinned = pinnedCosignSha256(version, asset)
  if (!pinned) {
    throw new CosignInstallError(
      'COSIGN_UNPINNED_VERSION',
      `no pinned SHA-256 for ${asset} of cosign ${version}: give cosign-sha256 for this version ` +
        '(from its cosign_checksums.txt), or use the default version, or cosign-path'
    )
  }
  return pinned
}
