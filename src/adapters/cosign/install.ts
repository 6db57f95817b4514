/**
 * Installs cosign the way actions/setup-go installs Go: tool cache first, else
 * download the release asset for this platform, check its SHA-256 against a
 * pinned value, cache it and put it on PATH. An unpinned download is refused.
 */
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import { createHash } from 'node:crypto'
import { chmod, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ProvenanceError, type CosignInstallErrorCode } from '../../domain/errors.js'
import type { CosignVersion } from '../../domain/types.js'
import { normalizeCosignVersion, pinnedCosignSha256 } from './checksums.js'
import { minimalEnv, runProcess } from '../process.js'

export class CosignInstallError extends ProvenanceError<CosignInstallErrorCode> {
  constructor(code: CosignInstallErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'CosignInstallError'
  }
}

export interface InstallCosignOptions {
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
const VERSION_TIMEOUT_MS = 30_000

/** Node's platform/arch → cosign's asset name, for the six platforms cosign publishes. */
const ASSETS: Readonly<Record<string, string>> = {
  'linux/x64': 'cosign-linux-amd64',
  'linux/arm64': 'cosign-linux-arm64',
  'linux/arm': 'cosign-linux-arm',
  'darwin/x64': 'cosign-darwin-amd64',
  'darwin/arm64': 'cosign-darwin-arm64',
  'win32/x64': 'cosign-windows-amd64.exe'
}

/** The release asset for a platform, or a refusal naming the platform. */
export function cosignAssetName(platform: NodeJS.Platform, arch: string): string {
  const asset = ASSETS[`${platform}/${arch}`]
  if (!asset) {
    throw new CosignInstallError(
      'COSIGN_UNSUPPORTED_PLATFORM',
      `cosign is not published for ${platform}/${arch}; supported: ${Object.keys(ASSETS).join(', ')}. ` +
        'Install cosign yourself and pass its path as cosign-path.'
    )
  }
  return asset
}

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

/**
 * Lowercase hex SHA-256 of a file, read through one reused 1 MiB buffer: a
 * cosign binary is ~90 MB, and a stream's fresh chunk per read would raise
 * the process's peak memory by tens of MiB before the collector catches up.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(1024 * 1024)
  const file = await open(path, 'r')
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
    }
  } finally {
    await file.close()
  }
  return hash.digest('hex')
}

/** `cosign version --json`, for the report: run with a minimal environment and a time limit. */
export async function readCosignVersion(cosignPath: string): Promise<CosignVersion> {
  const fail = (message: string, cause?: unknown): never => {
    throw new CosignInstallError('COSIGN_VERSION_UNREADABLE', message, { cause })
  }
  const run = await runProcess(cosignPath, ['version', '--json'], {
    env: minimalEnv(process.env, { names: ['HOME'] }),
    timeoutMs: VERSION_TIMEOUT_MS,
    maxOutputBytes: 1024 * 1024
  })
  if (run.spawnError !== undefined || run.exitCode !== 0 || run.timedOut)
    fail(
      `\`${cosignPath} version --json\` failed`,
      new Error(
        run.spawnError ??
          (run.timedOut
            ? `no answer within ${VERSION_TIMEOUT_MS} ms`
            : `exit ${run.exitCode ?? run.signal}: ${run.stderr.trim().slice(0, 300)}`)
      )
    )
  let parsed: unknown
  try {
    parsed = JSON.parse(run.stdout)
  } catch (parseError: unknown) {
    return fail(`\`${cosignPath} version --json\` printed something that is not JSON`, parseError)
  }
  const fields = parsed as Record<string, unknown>
  if (typeof parsed !== 'object' || parsed === null || typeof fields.gitVersion !== 'string')
    return fail(`\`${cosignPath} version --json\` printed no gitVersion`)
  return {
    gitVersion: fields.gitVersion,
    ...(typeof fields.goVersion === 'string' ? { goVersion: fields.goVersion } : {}),
    ...(typeof fields.platform === 'string' ? { platform: fields.platform } : {}),
    path: cosignPath
  }
}
