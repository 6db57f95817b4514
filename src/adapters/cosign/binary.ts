/**
 * What the action and the command line need of a cosign binary without
 * installing one (so the CLI bundle carries no tool cache): the release asset
 * of a platform, a file's SHA-256, `cosign version --json`, and the install
 * error those share with install.ts.
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { ProvenanceError, type CosignInstallErrorCode } from '../../domain/errors.js'
import type { CosignVersion } from '../../domain/types.js'
import { minimalEnv, runProcess } from '../process.js'

export class CosignInstallError extends ProvenanceError<CosignInstallErrorCode> {
  constructor(code: CosignInstallErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'CosignInstallError'
  }
}

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
  if (run.spawnError !== undefined && /ENOENT/.test(run.spawnError))
    fail(
      `cosign is not found at \`${cosignPath}\`: install cosign or give its path (--cosign-path; the action installs it itself)`,
      new Error(run.spawnError)
    )
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
