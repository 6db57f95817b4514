/**
 * One Sigstore bundle (v0.3, as cosign 3 stores signatures and GitHub
 * attestations): readers of its verification material, and the one way a
 * single bundle is verified — the real `cosign verify-blob-attestation
 * --bundle <file> --new-bundle-format --digest <hex> --digestAlg sha256 --type
 * <predicate type>`, in a private cosign state folder through the process
 * runner. Shared by the GitHub signer (bundle-verifier.ts) and the cosign 3
 * signing-time check (verifier.ts).
 */
import { createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { VerifiedStatement } from '../../domain/attestations.js'
import type { Digest } from '../../domain/types.js'
import { runProcess } from '../process.js'
import { withCosignState } from './state.js'

const DEFAULT_TIMEOUT_MS = 120_000
/** The DSSE payload type of an in-toto statement. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'

/** What cosign's failure means: not this signer's (`invalid`) or not finished. */
const UNFINISHED =
  /dial tcp|connection refused|no such host|i\/o timeout|TLS handshake|context deadline exceeded|updating local metadata|tuf:/i

type JsonObject = Record<string, unknown>

function valueAt(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined
    current = (current as JsonObject)[key]
  }
  return current
}

/** The Fulcio certificate of a bundle (v0.3 `certificate`, or v0.1/0.2 chain's leaf), DER. */
export function bundleCertificate(bundle: unknown): Buffer | undefined {
  const raw =
    valueAt(bundle, 'verificationMaterial', 'certificate', 'rawBytes') ??
    (
      valueAt(bundle, 'verificationMaterial', 'x509CertificateChain', 'certificates') as
        { rawBytes?: unknown }[] | undefined
    )?.[0]?.rawBytes
  return typeof raw === 'string' ? Buffer.from(raw, 'base64') : undefined
}

/** The first transparency-log entry of a bundle, when it has one. */
function firstTlogEntry(bundle: unknown): unknown {
  const entries = valueAt(bundle, 'verificationMaterial', 'tlogEntries')
  return Array.isArray(entries) ? entries[0] : undefined
}

/** RFC 3339 of the first transparency log entry's integrated time, when there is one. */
export function bundleIntegratedTime(bundle: unknown): string | undefined {
  const time = Number(valueAt(firstTlogEntry(bundle), 'integratedTime') ?? NaN)
  return Number.isSafeInteger(time) && time > 0 ? new Date(time * 1000).toISOString() : undefined
}

/** The first transparency log entry's index (a decimal string in bundle JSON), when there is one. */
export function bundleLogIndex(bundle: unknown): number | undefined {
  const index = Number(valueAt(firstTlogEntry(bundle), 'logIndex') ?? NaN)
  return Number.isSafeInteger(index) && index >= 0 ? index : undefined
}

/**
 * `sha256:<hex>` of a key-signed bundle's `publicKey.hint` (cosign writes the
 * base64 of the SHA-256 of the DER public key), when it is one.
 */
export function bundleKeyHint(bundle: unknown): string | undefined {
  const hint = valueAt(bundle, 'verificationMaterial', 'publicKey', 'hint')
  if (typeof hint !== 'string') return undefined
  const bytes = Buffer.from(hint, 'base64')
  return bytes.length === 32 ? `sha256:${bytes.toString('hex')}` : undefined
}

/**
 * The arguments of `cosign verify-blob-attestation` for one bundle file of a
 * statement about `digest` of `predicateType` (a URI): `signerArgs` name the
 * key or certificate identity, `timeArgs` how the signing time is verified,
 * `trustedRoot` an absolute path.
 */
export function verifyBundleArguments(options: {
  bundlePath: string
  digest: Digest
  predicateType: string
  signerArgs: readonly string[]
  timeArgs?: readonly string[]
  trustedRoot?: string
}): string[] {
  const args = [
    'verify-blob-attestation',
    '--bundle',
    options.bundlePath,
    '--new-bundle-format',
    '--digest',
    options.digest.slice('sha256:'.length),
    '--digestAlg',
    'sha256',
    '--type',
    options.predicateType,
    ...options.signerArgs,
    ...(options.timeArgs ?? [])
  ]
  if (options.trustedRoot) args.push('--trusted-root', options.trustedRoot)
  return args
}

/** What verifying one bundle came to: cosign said `Verified OK`, refused it, or did not finish. */
export type BundleVerification =
  { result: 'ok' } | { result: 'invalid' | 'could-not-complete'; message: string }

/**
 * Verifies one bundle (its JSON text) with the real cosign: written to a 0600
 * file in a fresh cosign state folder, `args(bundlePath)` run once (no retry)
 * with the time limit. Exit 0 is `ok`; a network or TUF failure, a timeout or
 * a cosign that cannot run is `could-not-complete`; any other refusal is
 * `invalid`, with cosign's last `Error:` line.
 */
export function verifyBundle(options: {
  cosignPath: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  json: string
  args: (bundlePath: string) => string[]
}): Promise<BundleVerification> {
  return withCosignState(options.env ?? process.env, 'rp-bundle-', async (state, env) => {
    const bundlePath = join(state, 'bundle.json')
    await writeFile(bundlePath, options.json, { mode: 0o600 })
    const run = await runProcess(options.cosignPath, options.args(bundlePath), {
      env,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxOutputBytes: 1024 * 1024
    })
    if (run.spawnError !== undefined)
      return {
        result: 'could-not-complete',
        message: `cannot run ${options.cosignPath}: ${run.spawnError}`
      }
    if (run.timedOut || run.exitCode === null)
      return {
        result: 'could-not-complete',
        message: 'cosign verify-blob-attestation was killed'
      }
    if (run.exitCode === 0) return { result: 'ok' }
    const message = lastError(run.stderr)
    return { result: UNFINISHED.test(run.stderr) ? 'could-not-complete' : 'invalid', message }
  })
}

/** cosign's last `Error:` line, without the prefix (else its last line). */
function lastError(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean)
  const error = [...lines].reverse().find(line => line.startsWith('Error:'))
  return (error ?? lines.at(-1) ?? 'cosign verify-blob-attestation failed').replace(
    /^Error:\s*/,
    ''
  )
}

/**
 * The in-toto statement of a DSSE envelope (parsed JSON): its payload bytes'
 * SHA-256 and the parsed statement; or why it is none (no payload, another
 * payload type, a payload that is not JSON).
 */
export function envelopeStatement(envelope: unknown): VerifiedStatement | string {
  const payload = valueAt(envelope, 'payload')
  if (typeof payload !== 'string' || payload === '') return 'an envelope has no payload'
  const payloadType = valueAt(envelope, 'payloadType')
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    return `an envelope has payload type ${typeof payloadType === 'string' ? payloadType : '(none)'}`
  const decoded = Buffer.from(payload, 'base64')
  try {
    return {
      digest: `sha256:${createHash('sha256').update(decoded).digest('hex')}`,
      statement: JSON.parse(decoded.toString('utf8')) as unknown
    }
  } catch {
    return 'an envelope payload is not a JSON in-toto statement'
  }
}
