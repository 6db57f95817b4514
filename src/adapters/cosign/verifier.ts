/**
 * The adapter that runs the real cosign for one image: builds the argument
 * array (always `repository@digest`, after `--`), runs it through the one
 * process runner (time limit that kills the process group, minimal
 * environment), retries transient faults with the shared backoff (lib/retry,
 * full jitter), hands credentials over through a private DOCKER_CONFIG, and
 * turns what cosign said into a finding with classify.ts and output.ts.
 */
import { minimalEnv, runProcess } from '../process.js'
import { DEFAULT_RETRY_POLICY, withRetry } from '../../lib/retry.js'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import type {
  AttestationFinding,
  Digest,
  ImagePlan,
  SignatureFinding,
  SignerExpectation
} from '../../domain/types.js'
import {
  classifyCosignExit,
  type AttestationFailure,
  type CosignCommand,
  type CosignExit,
  type SignatureFailure
} from './classify.js'
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from '../../domain/reference.js'
import { checkKeyWindow, publicKeyFingerprint, sameFingerprint } from './key.js'
import {
  pickBundleSigner,
  readBundleSigners,
  summarizeAttestationOutput,
  summarizeVerifyOutput,
  type BundleSigner
} from './output.js'

export interface RegistryCredentials {
  username: string
  password: string
}

export interface CosignVerifierOptions {
  cosignPath: string
  /** Key and trusted-root paths in plans are relative to this folder. */
  workspace: string
  /** Registry hosts (`host[:port]`) cosign may reach over plain HTTP. */
  insecureRegistries: string[]
  /** The registry's credentials; a failing source (a credential helper) leaves them out. */
  credentials?: {
    get(host: string): RegistryCredentials | undefined | Promise<RegistryCredentials | undefined>
  }
  /** Time limit of one cosign call; the process is killed after it (default 120 s). */
  timeoutMs?: number
  /** cosign calls per check, first one included, when the outcome is transient (default 3). */
  maxAttempts?: number
  /** Ceiling of the first retry's jittered wait; doubled for each further one (default 1000 ms). */
  retryDelayMs?: number
  /** Whether signature artifacts (`sha256-<hex>`, `sha256-<hex>.sig` tags) exist for the digest. */
  signatureEvidence?: (plan: ImagePlan, digest: Digest) => Promise<boolean | undefined>
  /** Whether the digest exists in the repository; consulted before believing "no signatures found". */
  digestExists?: (plan: ImagePlan, digest: Digest) => Promise<boolean | undefined>
  /**
   * Where cosign's environment is taken from (default: this process's). Only
   * `PATH`, proxy, TLS, temp and locale settings and `COSIGN_*`/`SIGSTORE_*`/
   * `TUF_*` settings pass (not `COSIGN_PASSWORD`, `SIGSTORE_ID_TOKEN`); never the
   * action's inputs. HOME and TUF_ROOT are replaced.
   */
  env?: NodeJS.ProcessEnv
}

const DEFAULT_TIMEOUT_MS = 120_000
const DEFAULT_MAX_ATTEMPTS = 3
const DEFAULT_RETRY_DELAY_MS = 1_000
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024
/** What cosign may read from the environment besides the basics `minimalEnv` passes. */
const COSIGN_ENV = {
  names: ['DOCKER_CONFIG', 'HOME'],
  prefixes: ['COSIGN_', 'SIGSTORE_', 'TUF_'],
  secret: ['COSIGN_PASSWORD', 'SIGSTORE_ID_TOKEN', 'COSIGN_KEY']
}

/** A transient check result, thrown so that `withRetry` tries again. */
class TransientRun {
  constructor(readonly run: CheckedRun & { succeeded: false }) {}
}

interface CosignRun extends CosignExit {
  stdout: string
}

/** A check after its retries: cosign's output when it succeeded, else the classified failure. */
type CheckedRun =
  | { succeeded: true; stdout: string; attempts: number }
  | {
      succeeded: false
      outcome: SignatureFailure | AttestationFailure
      message: string
      attempts: number
    }

/** The reference cosign verifies: never a tag. */
export function digestReference(plan: ImagePlan, digest: Digest): string {
  return `${plan.repository}@${digest}`
}

/** The arguments of one `cosign verify` / `verify-attestation` call, reference last after `--`. */
export function cosignArguments(
  command: CosignCommand,
  plan: ImagePlan,
  digest: Digest,
  context: { workspace: string; insecureRegistries: string[]; legacyFormat?: boolean }
): string[] {
  const signer = plan.signer
  if (!signer) throw new Error('cosignArguments needs a plan with a signer')
  const args: string[] = [command]
  if (command === 'verify-attestation') args.push('--type', plan.policy.attestationType)
  if (signer.kind === 'key') {
    args.push('--key', resolve(context.workspace, signer.keyPath))
  } else {
    args.push('--certificate-identity-regexp', signer.identity)
    args.push(
      signer.issuerIsRegexp ? '--certificate-oidc-issuer-regexp' : '--certificate-oidc-issuer',
      signer.issuer
    )
  }
  if (plan.policy.trustedRoot) {
    args.push('--trusted-root', resolve(context.workspace, plan.policy.trustedRoot))
  }
  if (plan.policy.ignoreTlog) args.push('--insecure-ignore-tlog')
  if (context.insecureRegistries.includes(plan.registry)) {
    args.push('--allow-http-registry', '--allow-insecure-registry')
  }
  if (context.legacyFormat) args.push('--new-bundle-format=false')
  args.push('--output', 'json', '--', digestReference(plan, digest))
  return args
}

function expectedSigner(plan: ImagePlan): string | undefined {
  if (!plan.signer) return undefined
  return plan.signer.kind === 'key' ? plan.signer.keyPath : plan.signer.identity
}

type KeyFingerprint = { fingerprint: string } | { problem: string }

/** The SHA-256 fingerprint of a PEM public key file, or why it has none. */
async function readKeyFingerprint(keyFile: string, keyPath: string): Promise<KeyFingerprint> {
  let pem: string
  try {
    pem = await readFile(keyFile, 'utf8')
  } catch (error: unknown) {
    const reason = (error as { code?: string }).code ?? 'unreadable'
    return { problem: `cannot read key_path ${keyPath}: ${reason}` }
  }
  try {
    return { fingerprint: publicKeyFingerprint(pem) }
  } catch {
    return { problem: `key_path ${keyPath} is not a PEM public key` }
  }
}

export class CosignVerifier {
  private readonly options: CosignVerifierOptions

  /** Key fingerprints by key path: many rows share a key, read and hash it once. */
  private readonly fingerprints = new Map<string, Promise<KeyFingerprint>>()

  constructor(options: CosignVerifierOptions) {
    this.options = options
  }

  private fingerprintOf(keyPath: string): Promise<KeyFingerprint> {
    let fingerprint = this.fingerprints.get(keyPath)
    if (!fingerprint) {
      fingerprint = readKeyFingerprint(resolve(this.options.workspace, keyPath), keyPath)
      this.fingerprints.set(keyPath, fingerprint)
    }
    return fingerprint
  }

  /** Checks the image's signature by the plan's signer. */
  async verifySignature(plan: ImagePlan, digest: Digest, now: Date): Promise<SignatureFinding> {
    const tlogChecked = !plan.policy.ignoreTlog
    const base = { count: 0, tlogChecked, expected: expectedSigner(plan) }
    const signer = plan.signer
    if (!signer) {
      return {
        ...base,
        outcome: 'skipped',
        message: 'no signer expected (no key_path or identity)'
      }
    }
    let keyFingerprint: string | undefined
    if (signer.kind === 'key') {
      const key = await this.fingerprintOf(signer.keyPath)
      if ('problem' in key) return { ...base, outcome: 'tool-error', message: key.problem }
      keyFingerprint = key.fingerprint
      if (signer.keyFingerprint && !sameFingerprint(keyFingerprint, signer.keyFingerprint)) {
        return {
          ...base,
          keyFingerprint,
          outcome: 'invalid',
          message:
            `key_path ${signer.keyPath} has fingerprint ${keyFingerprint} (SHA-256 of the DER public key), ` +
            `but key_fingerprint expects ${signer.keyFingerprint}`
        }
      }
    }
    const keyed = keyFingerprint ? { keyFingerprint } : {}

    const run = await this.runChecked('verify', plan, digest)
    let attempts = run.attempts
    let result: SignatureFinding
    if (run.succeeded) {
      const summary = summarizeVerifyOutput(run.stdout, digest)
      result = { ...base, ...keyed, ...summary, attempts }
    } else {
      result = {
        ...base,
        ...keyed,
        outcome: run.outcome as SignatureFailure,
        message: run.message,
        attempts
      }
    }

    // A signature by the expected signer in cosign 2's format is not looked at
    // when cosign 3 bundles by others exist; give it its own look.
    if (result.outcome === 'invalid' && !run.succeeded) {
      const legacy = await this.runCosign(
        cosignArguments('verify', plan, digest, { ...this.argumentContext(), legacyFormat: true }),
        'verify',
        plan
      )
      attempts += 1
      result.attempts = attempts
      if (legacy.exitCode === 0) {
        const summary = summarizeVerifyOutput(legacy.stdout, digest)
        if (summary.outcome === 'verified') result = { ...base, ...keyed, ...summary, attempts }
      }
    }

    if (
      result.outcome === 'verified' &&
      signer.kind === 'keyless' &&
      result.identity === undefined
    ) {
      const bundleSigner = await this.readBundleSigner(plan, digest, signer)
      attempts += 1
      result = { ...result, ...bundleSigner, attempts }
    }

    if (result.outcome === 'verified' && signer.kind === 'key') {
      // A signing time vouched for by the transparency log decides; without
      // one (no log entry checked), the key must be valid now.
      const signedAt = result.tlogChecked && result.signedAt ? new Date(result.signedAt) : undefined
      const window = signedAt
        ? checkKeyWindow(signer, signedAt, 'signed at')
        : checkKeyWindow(signer, now)
      if (window.status === 'expired')
        return { ...result, outcome: 'expired', message: window.message }
      if (window.status === 'bad-date')
        return { ...result, outcome: 'tool-error', message: window.message }
    }
    return result
  }

  /** Checks the image's attestation of the policy's type, when attest_mode asks for it. */
  async verifyAttestation(plan: ImagePlan, digest: Digest): Promise<AttestationFinding> {
    const mode = plan.policy.attestMode
    const type = plan.policy.attestationType
    const base = { mode, predicateType: type }
    if (mode === 'none') return { ...base, outcome: 'skipped', message: 'attest_mode is none' }
    if (!plan.signer) {
      return {
        ...base,
        outcome: 'skipped',
        message: 'no signer expected, so no attestation can be verified'
      }
    }
    const run = await this.runChecked('verify-attestation', plan, digest)
    if (!run.succeeded) {
      return {
        ...base,
        outcome: run.outcome as AttestationFailure,
        message: run.message,
        attempts: run.attempts
      }
    }
    const summary = summarizeAttestationOutput(run.stdout, digest, type)
    return { ...base, ...summary, mode, attempts: run.attempts }
  }

  /**
   * Who signed the verified cosign 3 bundle: `cosign verify` does not say, so
   * the bundles are downloaded and the one the expectation accepts is read.
   * Best effort: a failure leaves the details out and the outcome as it is.
   */
  private async readBundleSigner(
    plan: ImagePlan,
    digest: Digest,
    signer: SignerExpectation & { kind: 'keyless' }
  ): Promise<BundleSigner> {
    const args = ['download', 'signature']
    if (this.options.insecureRegistries.includes(plan.registry)) {
      args.push('--allow-http-registry', '--allow-insecure-registry')
    }
    args.push('--', digestReference(plan, digest))
    const run = await this.runCosign(args, 'verify', plan)
    if (run.exitCode !== 0) return {}
    return pickBundleSigner(readBundleSigners(run.stdout), signer) ?? {}
  }

  private argumentContext(): { workspace: string; insecureRegistries: string[] } {
    return {
      workspace: this.options.workspace,
      insecureRegistries: this.options.insecureRegistries
    }
  }

  /**
   * Runs one check with retries. Transient faults are retried; "no signatures
   * found" is believed only when the digest exists and no signature artifacts
   * do — otherwise it is retried too, and ends as `transient` or `not-found`.
   */
  private async runChecked(
    command: CosignCommand,
    plan: ImagePlan,
    digest: Digest
  ): Promise<CheckedRun> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
    const args = cosignArguments(command, plan, digest, this.argumentContext())
    const baseDelayMs = this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS
    let attempts = 0
    const once = async (attempt: number): Promise<CheckedRun> => {
      attempts = attempt
      const run = await this.runCosign(args, command, plan)
      if (run.exitCode === 0) return { succeeded: true, stdout: run.stdout, attempts: attempt }
      const classified = classifyCosignExit(run)
      let outcome: SignatureFailure | AttestationFailure = classified.outcome
      let message = classified.message
      if (classified.needsConfirmation) {
        const confirmed = await this.confirmNothingThere(plan, digest)
        if (confirmed !== 'nothing-there') {
          outcome = confirmed === 'digest-missing' ? 'not-found' : 'transient'
          message =
            confirmed === 'digest-missing'
              ? `${digest} does not exist in ${plan.repository} (cosign said: ${message})`
              : `cosign said "${message}", but ${confirmed}`
        }
      }
      const failed = { succeeded: false as const, outcome, message, attempts: attempt }
      if (outcome === 'transient') throw new TransientRun(failed)
      return failed
    }
    let result: CheckedRun
    try {
      result = await withRetry(
        once,
        {
          ...DEFAULT_RETRY_POLICY,
          maxAttempts,
          baseDelayMs,
          maxDelayMs: Math.max(baseDelayMs, DEFAULT_RETRY_POLICY.maxDelayMs)
        },
        { classify: error => ({ retryable: error instanceof TransientRun }) }
      )
    } catch (error: unknown) {
      if (!(error instanceof TransientRun)) throw error
      result = error.run
    }
    if (!result.succeeded && attempts > 1)
      return { ...result, message: `${result.message} (after ${attempts} attempts)` }
    return result
  }

  private async confirmNothingThere(
    plan: ImagePlan,
    digest: Digest
  ): Promise<'nothing-there' | 'digest-missing' | string> {
    try {
      if ((await this.options.digestExists?.(plan, digest)) === false) return 'digest-missing'
    } catch {
      return 'the registry could not confirm the digest exists'
    }
    try {
      if ((await this.options.signatureEvidence?.(plan, digest)) === true) {
        return 'signature artifacts exist in the registry (a fetch may have failed)'
      }
    } catch {
      return 'the registry could not be asked whether signature artifacts exist'
    }
    return 'nothing-there'
  }

  /**
   * One cosign process, killed when it runs past the time limit, in a private
   * folder (0700) for its HOME, TUF_ROOT and, when this registry has
   * credentials, a DOCKER_CONFIG holding only them (0600); removed afterwards.
   */
  private async runCosign(
    args: string[],
    command: CosignCommand,
    plan: ImagePlan
  ): Promise<CosignRun> {
    const base = this.options.env ?? process.env
    const root = base.RUNNER_TEMP && isAbsolute(base.RUNNER_TEMP) ? base.RUNNER_TEMP : tmpdir()
    const state = await mkdtemp(join(root, 'rp-cosign-'))
    try {
      const env = minimalEnv(base, COSIGN_ENV)
      env.HOME = join(state, 'home')
      env.TUF_ROOT = join(state, 'tuf')
      // Without credentials of ours, keep the docker login the runner may have done.
      const dockerConfig =
        base.DOCKER_CONFIG ?? (base.HOME ? join(base.HOME, '.docker') : undefined)
      if (dockerConfig !== undefined) env.DOCKER_CONFIG = dockerConfig
      await Promise.all([mkdir(env.HOME), mkdir(env.TUF_ROOT)])
      const credentials = await Promise.resolve(this.options.credentials?.get(plan.registry)).catch(
        () => undefined
      )
      if (credentials)
        env.DOCKER_CONFIG = await writeDockerConfig(state, plan.registry, credentials)
      const run = await runProcess(this.options.cosignPath, args, {
        env,
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxOutputBytes: MAX_OUTPUT_BYTES
      })
      if (run.spawnError !== undefined)
        return {
          command,
          exitCode: 127,
          stdout: '',
          stderr: `Error: cannot run ${this.options.cosignPath}: ${run.spawnError}`
        }
      return {
        command,
        exitCode: run.exitCode,
        signal: run.signal,
        timedOut: run.timedOut,
        stdout: run.stdout,
        stderr: run.stderr
      }
    } finally {
      await rm(state, { recursive: true, force: true })
    }
  }
}

/** The `config.json` that gives cosign this registry's credentials and nothing else. */
export function dockerConfigFor(
  registry: string,
  credentials: RegistryCredentials
): { auths: Record<string, { auth: string }> } {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')
  const key = registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry
  return { auths: { [key]: { auth } } }
}

/** A DOCKER_CONFIG folder (0700) holding only this registry's credentials (0600). */
async function writeDockerConfig(
  parent: string,
  registry: string,
  credentials: RegistryCredentials
): Promise<string> {
  const dir = join(parent, 'docker-config')
  await mkdir(dir, { mode: 0o700 })
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify(dockerConfigFor(registry, credentials)),
    {
      mode: 0o600
    }
  )
  return dir
}
