/**
 * The adapter that runs the real cosign for one image: builds the argument
 * array (always `repository@digest`, after `--`), runs it through the one
 * process runner (time limit that kills the process group, minimal
 * environment), retries transient faults with the shared backoff (lib/retry,
 * full jitter), hands credentials over through a private DOCKER_CONFIG, and
 * turns what cosign said into a finding with classify.ts and output.ts.
 */
import { runProcess } from '../process.js'
import { withCosignState } from './state.js'
import type { GitHubSignerVerifier } from '../../app/ports.js'
import { DEFAULT_RETRY_POLICY, withRetry } from '../../lib/retry.js'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { judgeRequirement, type SignerAttestationRun } from '../../domain/attestations.js'
import {
  checkKeyWindow,
  combineSigners,
  countDistinctSigners,
  expectedSignerText,
  sameFingerprint,
  signerResultOf,
  signingTimeOf
} from '../../domain/signers.js'
import {
  UNNAMED_SIGNER,
  type AttestationFinding,
  type Digest,
  type ImagePlan,
  type NamedSigner,
  type PlannedRequirement,
  type RequirementFinding,
  type SignatureFinding,
  type SignerExpectation,
  type SignerFinding,
  type SignerResult
} from '../../domain/types.js'
import {
  classifyCosignExit,
  type AttestationFailure,
  type CosignCommand,
  type CosignExit,
  type SignatureFailure
} from './classify.js'
import { DOCKER_HUB, DOCKER_HUB_AUTH_KEY } from '../../domain/reference.js'
import { gitHubSigningTime } from '../../domain/github-signer.js'
import { publicKeyFingerprint } from './key.js'
import { CosignBatcher, type BatchOptions } from './batch.js'
import {
  readVerifiedStatements,
  pickBundleSigner,
  readSignatureBundles,
  summarizeAttestationOutput,
  summarizeVerifyOutput
} from './output.js'
import { verifyBundle, verifyBundleArguments } from './sigstore-bundle.js'
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  signatureBundleCandidates
} from '../../domain/cosign-bundles.js'

interface RegistryCredentials {
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
  /**
   * Grouping of `cosign verify` calls that differ only in the reference
   * (batch.ts); absent or `false`: one call per image and signer.
   */
  batch?: BatchOptions | false
  /** GitHub artifact attestation signers (`github:` in policy `signers`), issue 13. */
  github?: GitHubSignerVerifier
}

const DEFAULT_TIMEOUT_MS = 120_000
const DEFAULT_MAX_ATTEMPTS = 3
const DEFAULT_RETRY_DELAY_MS = 1_000
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024

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
function digestReference(plan: ImagePlan, digest: Digest): string {
  return `${plan.repository}@${digest}`
}

/** The arguments of one `cosign verify` / `verify-attestation` call, reference last after `--`. */
export function cosignArguments(
  command: CosignCommand,
  plan: ImagePlan,
  digest: Digest,
  context: {
    workspace: string
    insecureRegistries: string[]
    legacyFormat?: boolean
    /** The signer to verify against (default: the row's own signer). */
    signer?: SignerExpectation
    /** The attestation's predicate type (default: the policy's `attestation_type`). */
    type?: string
    /** Whether to pass --insecure-ignore-tlog (default: the policy's `ignore_tlog`). */
    ignoreTlog?: boolean
  }
): string[] {
  const signer = context.signer ?? plan.signer
  if (!signer) throw new Error('cosignArguments needs a plan with a signer')
  const args: string[] = [command]
  if (command === 'verify-attestation')
    args.push('--type', context.type ?? plan.policy.attestationType)
  args.push(...signerArguments(signer, context.workspace))
  if (plan.policy.trustedRoot) {
    args.push('--trusted-root', resolve(context.workspace, plan.policy.trustedRoot))
  }
  if (context.ignoreTlog ?? plan.policy.ignoreTlog) args.push('--insecure-ignore-tlog')
  if (context.insecureRegistries.includes(plan.registry)) {
    args.push('--allow-http-registry', '--allow-insecure-registry')
  }
  if (context.legacyFormat) args.push('--new-bundle-format=false')
  args.push('--output', 'json', '--', digestReference(plan, digest))
  return args
}

/** How cosign is told the signer: `--key <path>`, or the certificate identity and issuer. */
function signerArguments(signer: SignerExpectation, workspace: string): string[] {
  if (signer.kind === 'key') return ['--key', resolve(workspace, signer.keyPath)]
  return [
    '--certificate-identity-regexp',
    signer.identity,
    signer.issuerIsRegexp ? '--certificate-oidc-issuer-regexp' : '--certificate-oidc-issuer',
    signer.issuer
  ]
}

/**
 * The stored bundles of the images one `verifySignature` looks at, each
 * downloaded once (`cosign download signature`) however many signers read it;
 * `fresh` is true for the caller that started the download (it counts the call).
 */
type StoredBundles = (
  plan: ImagePlan,
  digest: Digest
) => { run: Promise<CosignRun>; fresh: boolean }

/** How one signer is checked: against which expectation, with or without the log. */
interface SignerCheck {
  signer: SignerExpectation
  ignoreTlog: boolean
}

/**
 * How a signer is checked under the trust model `signers`: `ignore_tlog`
 * applies to key signers only; named keyless signers always need a log entry
 * or a signed timestamp (issue 18). The row's own signer keeps 4.0's rule.
 */
function checkOf(plan: ImagePlan, signer: CosignSigner): SignerCheck {
  const keylessNamed = signer.kind === 'keyless' && signer.name !== UNNAMED_SIGNER
  return { signer, ignoreTlog: !keylessNamed && plan.policy.ignoreTlog }
}

/** A signer cosign checks by itself (a key or a keyless identity). */
type CosignSigner = Exclude<NamedSigner, { kind: 'github' }>

/** A single signer's check and the window judgement that went with it. */
interface SignerVerification {
  finding: SignatureFinding
  /** The window's verdict when the signature verified: `valid`, `expired` or `not-yet-valid`. */
  window?: 'valid' | 'expired' | 'not-yet-valid'
  signingTime?: { at: Date; source: 'tlog' | 'tsa' | 'run' }
}

/** One signer's finding for the report and the threshold count. */
function signerFinding(
  name: string,
  kind: SignerFinding['kind'],
  verification: SignerVerification & { source?: string }
): SignerFinding {
  const { finding, window, signingTime } = verification
  let result: SignerResult = signerResultOf(finding.outcome)
  if (window === 'expired' || window === 'not-yet-valid') result = window
  return {
    name,
    kind,
    result,
    counted: false,
    outcome: finding.outcome,
    ...(signingTime && {
      signingTime: signingTime.at.toISOString(),
      signingTimeSource: signingTime.source
    }),
    ...(finding.identity !== undefined && { identity: finding.identity }),
    ...(finding.issuer !== undefined && { issuer: finding.issuer }),
    ...(finding.keyFingerprint !== undefined && { keyFingerprint: finding.keyFingerprint }),
    ...(finding.rekorLogIndex !== undefined && { rekorLogIndex: finding.rekorLogIndex }),
    ...(finding.signedAt !== undefined && { signedAt: finding.signedAt }),
    ...(finding.detailsUnverified && { detailsUnverified: true }),
    ...(finding.message !== undefined && { message: finding.message }),
    ...(finding.attempts !== undefined && { attempts: finding.attempts }),
    ...(verification.source !== undefined && { source: verification.source })
  }
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

  /** Gathers signature checks that share signer and flags into one cosign call. */
  private readonly batcher: CosignBatcher<CosignRun> | undefined

  constructor(options: CosignVerifierOptions) {
    this.options = options
    if (options.batch) this.batcher = new CosignBatcher<CosignRun>(options.batch)
  }

  private fingerprintOf(keyPath: string): Promise<KeyFingerprint> {
    let fingerprint = this.fingerprints.get(keyPath)
    if (!fingerprint) {
      fingerprint = readKeyFingerprint(resolve(this.options.workspace, keyPath), keyPath)
      this.fingerprints.set(keyPath, fingerprint)
    }
    return fingerprint
  }

  /**
   * Checks the image's signatures: with trust model `row-signer`, by the row's
   * own signer, exactly as before 4.1; with `signers`, by every trusted signer
   * (one `cosign verify` each), counting distinct signers against the
   * threshold (combineSigners, src/domain/signers.ts).
   */
  async verifySignature(plan: ImagePlan, digest: Digest, now: Date): Promise<SignatureFinding> {
    const stored = this.storedBundles()
    if (plan.trustModel !== 'signers') {
      const check = plan.signer
        ? { signer: plan.signer, ignoreTlog: plan.policy.ignoreTlog }
        : undefined
      const verification = await this.verifySigner(plan, check, digest, now, stored)
      if (!plan.signer) return verification.finding
      const [counted] = countDistinctSigners(
        [{ ...plan.signer, name: UNNAMED_SIGNER }],
        [signerFinding(UNNAMED_SIGNER, plan.signer.kind, verification)]
      )
      const combined = combineSigners([counted], 1)
      return { ...verification.finding, signers: [counted], threshold: combined.threshold }
    }
    const signers = plan.signers ?? []
    const checksLog = (signer: NamedSigner): boolean =>
      signer.kind === 'github' || !checkOf(plan, signer).ignoreTlog
    const tlogChecked = signers.some(checksLog)
    const expected = signers.map(s => s.name).join(', ')
    if (signers.length === 0) {
      return {
        outcome: 'skipped',
        count: 0,
        tlogChecked,
        message: 'no signer expected (no trusted_signers, key_path or identity)'
      }
    }
    const verifications = await Promise.all(
      signers.map(signer =>
        signer.kind === 'github'
          ? this.verifyGitHubSigner(plan, signer, digest, now)
          : this.verifySigner(plan, checkOf(plan, signer), digest, now, stored)
      )
    )
    const findings = countDistinctSigners(
      signers,
      verifications.map((verification, i) =>
        signerFinding(signers[i].name, signers[i].kind, verification)
      )
    )
    const threshold = plan.threshold ?? 1
    const combined = combineSigners(findings, threshold)
    const attempts = findings.reduce((sum, f) => sum + (f.attempts ?? 0), 0)
    const first = findings.find(f => f.counted) ?? combined.decisive
    const message =
      combined.outcome === 'verified'
        ? undefined
        : `${combined.threshold.counted} of ${threshold} required distinct trusted signer${threshold === 1 ? '' : 's'} verified` +
          (combined.decisive?.message
            ? `; ${combined.decisive.name}: ${combined.decisive.message}`
            : '')
    // Whether a log vouched for what counted: of the signers that counted when
    // any did, else of any signer that would have been checked against one.
    const counted = signers.filter((_, i) => findings[i].counted)
    return {
      outcome: combined.outcome,
      expected,
      count: combined.threshold.counted,
      tlogChecked: counted.length > 0 ? counted.some(checksLog) : tlogChecked,
      ...(first?.identity !== undefined && { identity: first.identity }),
      ...(first?.issuer !== undefined && { issuer: first.issuer }),
      ...(first?.keyFingerprint !== undefined && { keyFingerprint: first.keyFingerprint }),
      ...(first?.rekorLogIndex !== undefined && { rekorLogIndex: first.rekorLogIndex }),
      ...(first?.signedAt !== undefined && { signedAt: first.signedAt }),
      ...(message !== undefined && { message }),
      attempts,
      signers: findings,
      threshold: combined.threshold
    }
  }

  /**
   * A GitHub artifact attestation signer's check (issue 13) as a signer's
   * verification: its bundles found and verified by the GitHub signer
   * verifier (bundle-verifier.ts), `verified` counting like any signer;
   * not this signer's = `invalid`, none = `unsigned`, a source that could not
   * be read = `transient` (could not complete, never unsigned).
   */
  private async verifyGitHubSigner(
    plan: ImagePlan,
    signer: NamedSigner & { kind: 'github' },
    digest: Digest,
    now: Date
  ): Promise<SignerVerification & { source?: string }> {
    const base = { count: 0, tlogChecked: true, expected: expectedSignerText(signer) }
    if (!this.options.github)
      return {
        finding: { ...base, outcome: 'tool-error', message: 'GitHub attestations are not wired' }
      }
    const check = await this.options.github.check(plan, signer, digest, signer.predicateType)
    const source = check.source
    if (check.result !== 'verified') {
      const outcome =
        check.result === 'absent'
          ? 'unsigned'
          : check.result === 'invalid'
            ? 'invalid'
            : 'transient'
      return {
        finding: { ...base, outcome, message: check.message, attempts: check.attempts },
        ...(source !== undefined && { source })
      }
    }
    const finding: SignatureFinding = {
      ...base,
      outcome: 'verified',
      count: 1,
      identity: check.identity,
      issuer: check.issuer,
      ...(check.signedAt !== undefined && { signedAt: check.signedAt }),
      ...(check.rekorLogIndex !== undefined && { rekorLogIndex: check.rekorLogIndex }),
      message: check.message,
      attempts: check.attempts
    }
    // A window on a github signer is judged as on any signer: at the time
    // the bundle that verified says, its log's integrated time or its signed
    // timestamp's (a bundle of GitHub's own instance has no log entry).
    const signingTime = gitHubSigningTime(check, now)
    const window = checkKeyWindow(
      signer,
      signingTime.at,
      signingTime.source === 'run' ? 'now' : 'signed at'
    )
    if (window.status === 'expired' || window.status === 'not-yet-valid')
      return {
        finding: { ...finding, outcome: 'expired', message: window.message },
        window: window.status,
        signingTime,
        source
      }
    return { finding, window: 'valid', signingTime, source }
  }

  /** A GitHub signer's attestation for a requirement, as the requirement judge takes it. */
  private async gitHubAttestationRun(
    plan: ImagePlan,
    signer: NamedSigner & { kind: 'github' },
    digest: Digest,
    type: string
  ): Promise<SignerAttestationRun> {
    if (!this.options.github)
      return {
        name: signer.name,
        completed: false,
        failure: 'incomplete',
        message: 'GitHub attestations are not wired'
      }
    const check = await this.options.github.check(plan, signer, digest, type)
    if (check.result === 'verified')
      return {
        name: signer.name,
        completed: true,
        statements: [check.statement],
        attempts: check.attempts
      }
    const failure =
      check.result === 'absent' ? 'missing' : check.result === 'invalid' ? 'invalid' : 'incomplete'
    return {
      name: signer.name,
      completed: false,
      failure,
      message: check.message,
      attempts: check.attempts
    }
  }

  /** Checks the image's signature by one signer (undefined: none expected). */
  private async verifySigner(
    plan: ImagePlan,
    check: SignerCheck | undefined,
    digest: Digest,
    now: Date,
    stored: StoredBundles
  ): Promise<SignerVerification> {
    const tlogChecked = check ? !check.ignoreTlog : !plan.policy.ignoreTlog
    const base = { count: 0, tlogChecked, expected: expectedSignerText(check?.signer) }
    const signer = check?.signer
    if (!check || !signer) {
      return {
        finding: {
          ...base,
          outcome: 'skipped',
          message: 'no signer expected (no key_path or identity)'
        }
      }
    }
    let keyFingerprint: string | undefined
    if (signer.kind === 'key') {
      const key = await this.fingerprintOf(signer.keyPath)
      if ('problem' in key)
        return { finding: { ...base, outcome: 'tool-error', message: key.problem } }
      keyFingerprint = key.fingerprint
      if (signer.keyFingerprint && !sameFingerprint(keyFingerprint, signer.keyFingerprint)) {
        return {
          finding: {
            ...base,
            keyFingerprint,
            outcome: 'invalid',
            message:
              `key_path ${signer.keyPath} has fingerprint ${keyFingerprint} (SHA-256 of the DER public key), ` +
              `but key_fingerprint expects ${signer.keyFingerprint}`
          }
        }
      }
    }
    const keyed = keyFingerprint ? { keyFingerprint } : {}
    const context = { ...this.argumentContext(), signer, ignoreTlog: check.ignoreTlog }

    const run = await this.runChecked('verify', plan, digest, context)
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
        cosignArguments('verify', plan, digest, { ...context, legacyFormat: true }),
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

    // A cosign 3 signature: `cosign verify` says neither who signed nor when.
    // Without a log checked no time can be verified, only a keyless identity read.
    const undated = check.ignoreTlog
      ? signer.kind === 'keyless' && result.identity === undefined
      : result.signedAt === undefined
    if (result.outcome === 'verified' && undated) {
      const details = await this.bundleDetails(plan, digest, check, keyFingerprint, stored)
      attempts += details.calls
      result = { ...result, ...details.found, attempts }
    }

    if (result.outcome !== 'verified') {
      // cosign's words for a key signature made without a Rekor entry.
      if (
        signer.kind === 'key' &&
        !check.ignoreTlog &&
        result.outcome === 'invalid' &&
        /log inclusion|tlog entr|transparency log/i.test(result.message ?? '')
      )
        result.message = `${result.message}; a key signature made without a transparency-log entry (cosign sign --tlog-upload=false) needs \`ignore_tlog: true\` for this signer`
      return { finding: result }
    }
    // The window is judged at the signing time: the time the transparency log
    // vouches for when a log was checked, else the run's time (the key must be
    // valid now). A plain row signer has a window only when it is a key.
    const signingTime = signingTimeOf(result, now)
    if (signer.validFrom === undefined && signer.validUntil === undefined)
      return { finding: result, window: 'valid', signingTime }
    const window =
      signingTime.source === 'tlog'
        ? checkKeyWindow(signer, signingTime.at, 'signed at')
        : checkKeyWindow(signer, now)
    if (window.status === 'expired' || window.status === 'not-yet-valid')
      return {
        finding: { ...result, outcome: 'expired', message: window.message },
        window: window.status,
        signingTime
      }
    if (window.status === 'bad-date')
      return { finding: { ...result, outcome: 'tool-error', message: window.message }, signingTime }
    return { finding: result, window: 'valid', signingTime }
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
    const run = await this.runChecked('verify-attestation', plan, digest, this.argumentContext())
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
   * Checks one attestation requirement (trust model `signers`): one
   * `cosign verify-attestation --type <type>` per signer of the requirement,
   * then what the statements say, judged in src/domain/attestations.ts.
   */
  async verifyRequirement(
    plan: ImagePlan,
    requirement: PlannedRequirement,
    digest: Digest,
    now: Date
  ): Promise<RequirementFinding> {
    const runs: SignerAttestationRun[] = await Promise.all(
      requirement.signers.map(async (signer): Promise<SignerAttestationRun> => {
        if (signer.kind === 'github')
          return this.gitHubAttestationRun(plan, signer, digest, requirement.type)
        const context = {
          ...this.argumentContext(),
          ...checkOf(plan, signer),
          type: requirement.type
        }
        const run = await this.runChecked('verify-attestation', plan, digest, context)
        if (!run.succeeded) {
          const failure =
            run.outcome === 'attestation-missing'
              ? 'missing'
              : run.outcome === 'attestation-invalid'
                ? 'invalid'
                : 'incomplete'
          return {
            name: signer.name,
            completed: false,
            failure,
            message: run.message,
            attempts: run.attempts
          }
        }
        const statements = readVerifiedStatements(run.stdout)
        if ('problem' in statements) {
          return {
            name: signer.name,
            completed: false,
            failure: 'incomplete',
            message: `cosign verify-attestation: ${statements.problem}`,
            attempts: run.attempts
          }
        }
        return { name: signer.name, completed: true, statements, attempts: run.attempts }
      })
    )
    return judgeRequirement(requirement, runs, digest, now)
  }

  /** A memo of `cosign download signature` per image, for one `verifySignature`. */
  private storedBundles(): StoredBundles {
    const runs = new Map<string, Promise<CosignRun>>()
    return (plan, digest) => {
      const reference = digestReference(plan, digest)
      const known = runs.get(reference)
      if (known) return { run: known, fresh: false }
      const args = ['download', 'signature']
      if (this.options.insecureRegistries.includes(plan.registry)) {
        args.push('--allow-http-registry', '--allow-insecure-registry')
      }
      args.push('--', reference)
      const run = this.runCosign(args, 'verify', plan)
      runs.set(reference, run)
      return { run, fresh: true }
    }
  }

  /**
   * Who signed a signature `cosign verify` verified in cosign 3's bundle
   * format, and when: cosign prints neither (its `optional` is empty). With a
   * transparency log checked, the stored bundles that claim to be the
   * signer's (signatureBundleCandidates, at most MAX_SIGNATURE_BUNDLES) are
   * verified one by one with `cosign verify-blob-attestation` against the same
   * key or identity and trusted root; the first cosign verifies gives its
   * certificate identity and issuer (keyless), log index and integrated time,
   * verified. Otherwise (no log checked, no bundle verified, a call that could
   * not complete) a keyless signer's details are read from the bundles its
   * expectation accepts and marked `detailsUnverified` — shown, never used to
   * date a signature or tell signers apart; a key signer's are left out.
   * Best effort: the outcome stays `verified` whatever happens here.
   * `calls`: cosign calls made (the download counted by the signer that ran it).
   */
  private async bundleDetails(
    plan: ImagePlan,
    digest: Digest,
    check: SignerCheck,
    keyFingerprint: string | undefined,
    stored: StoredBundles
  ): Promise<{ found: Partial<SignatureFinding>; calls: number }> {
    const { signer } = check
    const download = stored(plan, digest)
    let calls = download.fresh ? 1 : 0
    const run = await download.run
    if (run.exitCode !== 0) return { found: {}, calls }
    const bundles = readSignatureBundles(run.stdout)
    if (!check.ignoreTlog) {
      const indices = signatureBundleCandidates(
        bundles.map(bundle => bundle.claims),
        signer,
        digest,
        keyFingerprint !== undefined ? { keyFingerprint } : {}
      )
      const trustedRoot = plan.policy.trustedRoot
        ? resolve(this.options.workspace, plan.policy.trustedRoot)
        : undefined
      for (const index of indices) {
        calls++
        const verification = await verifyBundle({
          cosignPath: this.options.cosignPath,
          ...(this.options.env !== undefined && { env: this.options.env }),
          ...(this.options.timeoutMs !== undefined && { timeoutMs: this.options.timeoutMs }),
          json: bundles[index].json,
          args: bundlePath =>
            verifyBundleArguments({
              bundlePath,
              digest,
              predicateType: COSIGN_SIGN_PREDICATE_TYPE,
              signerArgs: signerArguments(signer, this.options.workspace),
              ...(trustedRoot !== undefined && { trustedRoot })
            })
        })
        if (verification.result !== 'ok') continue
        // Only now that cosign verified this bundle: its certificate and log entry.
        const verified = bundles[index].signer
        return {
          found: {
            ...(signer.kind === 'keyless' && {
              ...(verified.identity !== undefined && { identity: verified.identity }),
              ...(verified.issuer !== undefined && { issuer: verified.issuer })
            }),
            ...(verified.rekorLogIndex !== undefined && { rekorLogIndex: verified.rekorLogIndex }),
            ...(verified.signedAt !== undefined && { signedAt: verified.signedAt })
          },
          calls
        }
      }
    }
    if (signer.kind !== 'keyless') return { found: {}, calls }
    const claimed = pickBundleSigner(
      bundles.map(bundle => bundle.signer),
      signer
    )
    return {
      found: claimed ? { ...claimed, detailsUnverified: true } : {},
      calls
    }
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
    digest: Digest,
    context: Parameters<typeof cosignArguments>[3]
  ): Promise<CheckedRun> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)
    const args = cosignArguments(command, plan, digest, context)
    const baseDelayMs = this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS
    let attempts = 0
    const once = async (attempt: number): Promise<CheckedRun> => {
      attempts = attempt
      const run =
        command === 'verify' && this.batcher
          ? await this.runGrouped(this.batcher, args, plan, digest)
          : await this.runCosign(args, command, plan)
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

  /**
   * One `cosign verify` through the batcher: grouped with other images whose
   * arguments differ only in the reference (and share the registry, whose
   * credentials the call gets), the time limit scaled with the group.
   */
  private runGrouped(
    batcher: CosignBatcher<CosignRun>,
    args: string[],
    plan: ImagePlan,
    digest: Digest
  ): Promise<CosignRun> {
    const prefix = args.slice(0, -1)
    const reference = args[args.length - 1]
    return batcher.submit(`${plan.registry}\n${prefix.join('\0')}`, {
      reference,
      digest,
      alone: () => this.runCosign(args, 'verify', plan),
      together: references =>
        this.runCosign([...prefix, ...references], 'verify', plan, references.length),
      fromGroup: stdout => ({ command: 'verify', exitCode: 0, stdout, stderr: '' })
    })
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
   * `images`: how many references the call checks; the time limit scales with it.
   */
  private async runCosign(
    args: string[],
    command: CosignCommand,
    plan: ImagePlan,
    images = 1
  ): Promise<CosignRun> {
    const base = this.options.env ?? process.env
    return withCosignState(base, 'rp-cosign-', async (state, env) => {
      // Without credentials of ours, keep the docker login the runner may have done.
      const dockerConfig =
        base.DOCKER_CONFIG ?? (base.HOME ? join(base.HOME, '.docker') : undefined)
      if (dockerConfig !== undefined) env.DOCKER_CONFIG = dockerConfig
      const credentials = await Promise.resolve(this.options.credentials?.get(plan.registry)).catch(
        () => undefined
      )
      if (credentials)
        env.DOCKER_CONFIG = await writeDockerConfig(state, plan.registry, credentials)
      const run = await runProcess(this.options.cosignPath, args, {
        env,
        timeoutMs: (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) * images,
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
    })
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
