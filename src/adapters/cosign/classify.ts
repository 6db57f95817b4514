/**
 * How a failed cosign call ended, from its exit code and stderr, as one of the
 * outcomes the report knows. cosign 3's exit codes (10–13) exist only on its
 * legacy signature path, and several different faults share one message (a
 * missing digest, a corrupt bundle and a 503 on a blob all say "no signatures
 * found"), so the rules read the message first and are checked in order: the
 * first row that matches decides. Each rule's message is as cosign 3.1.1
 * prints it, checked by a test per row.
 */
import type { AttestationOutcome, SignatureOutcome } from '../../domain/types.js'

export type CosignCommand = 'verify' | 'verify-attestation'

/** What the verifier knows about one finished (or killed) cosign process. */
export interface CosignExit {
  command: CosignCommand
  /** null when the process was killed by a signal. */
  exitCode: number | null
  signal?: string | null
  /** The verifier killed it because it ran past its time limit. */
  timedOut?: boolean
  stderr: string
}

export type SignatureFailure = Exclude<SignatureOutcome, 'verified' | 'skipped'>
export type AttestationFailure = Exclude<AttestationOutcome, 'verified' | 'skipped'>

interface Classification<Outcome extends string = SignatureFailure | AttestationFailure> {
  outcome: Outcome
  /** Id of the rule that matched. */
  rule: string
  /** cosign's own error text (or ours when it said nothing useful). */
  message: string
  /**
   * cosign's word alone does not settle this outcome: the digest may be
   * missing or a blob fetch may have failed. The verifier confirms it first.
   */
  needsConfirmation?: boolean
}

interface ClassificationRule {
  id: string
  /** Matches when every given condition holds. */
  exitCode?: number
  pattern?: RegExp
  killed?: boolean
  /** The outcome for `verify` and for `verify-attestation`. */
  verify: SignatureFailure
  attestation: AttestationFailure
  needsConfirmation?: boolean
}

/** The rules, in the order they are tried. Exported for the report's note and the tests. */
export const CLASSIFICATION_RULES: readonly ClassificationRule[] = [
  { id: 'killed', killed: true, verify: 'tool-error', attestation: 'tool-error' },
  {
    id: 'registry-auth',
    pattern:
      /\bUNAUTHORIZED\b|\bDENIED\b|authentication required|\b401 Unauthorized\b|\b403 Forbidden\b/,
    verify: 'registry-auth',
    attestation: 'registry-auth'
  },
  {
    id: 'network-timeout',
    pattern:
      /context deadline exceeded|Client\.Timeout exceeded|i\/o timeout|TLS handshake timeout/,
    verify: 'transient',
    attestation: 'transient'
  },
  {
    id: 'network-connection',
    pattern:
      /connection refused|connection reset|no such host|network is unreachable|server misbehaving|broken pipe|unexpected EOF|: EOF\b/,
    verify: 'transient',
    attestation: 'transient'
  },
  {
    id: 'registry-unavailable',
    pattern:
      /unexpected status code (5\d\d|429)\b|\b(TOOMANYREQUESTS|UNAVAILABLE)\b|\b(500 Internal Server Error|502 Bad Gateway|503 Service Unavailable|504 Gateway Timeout|429 Too Many Requests)\b/,
    verify: 'transient',
    attestation: 'transient'
  },
  {
    id: 'not-found',
    pattern: /\b(MANIFEST_UNKNOWN|NAME_UNKNOWN|BLOB_UNKNOWN)\b|image tag not found/,
    verify: 'not-found',
    attestation: 'not-found'
  },
  { id: 'exit-11-not-found', exitCode: 11, verify: 'not-found', attestation: 'not-found' },
  {
    id: 'certificate-expired',
    pattern:
      /expected a signed timestamp to verify an expired certificate|integrated time outside certificate validity/,
    verify: 'expired',
    attestation: 'attestation-invalid'
  },
  {
    id: 'no-signatures',
    pattern: /no signatures found/,
    verify: 'unsigned',
    attestation: 'attestation-missing',
    needsConfirmation: true
  },
  {
    id: 'exit-10-no-signatures',
    exitCode: 10,
    verify: 'unsigned',
    attestation: 'attestation-missing',
    needsConfirmation: true
  },
  {
    id: 'predicate-type-not-found',
    pattern: /none of the attestations matched the predicate type/,
    verify: 'invalid',
    attestation: 'attestation-missing'
  },
  {
    id: 'no-attestations',
    pattern: /no matching attestations:[ \t]*$/m,
    verify: 'unsigned',
    attestation: 'attestation-missing',
    needsConfirmation: true
  },
  {
    id: 'verification-failed',
    pattern:
      /no matching (signatures|attestations): \S|accepted signatures do not match threshold|failed to verify|does not match any digest|invalid or missing digest|none of the expected identities matched|invalid signature|no certificate found on signature/,
    verify: 'invalid',
    attestation: 'attestation-invalid'
  },
  {
    id: 'exit-12-no-matching',
    exitCode: 12,
    verify: 'invalid',
    attestation: 'attestation-invalid'
  },
  {
    id: 'exit-13-no-certificate',
    exitCode: 13,
    verify: 'invalid',
    attestation: 'attestation-invalid'
  },
  { id: 'anything-else', verify: 'tool-error', attestation: 'tool-error' }
]

const MAX_MESSAGE_LENGTH = 600

export function classifyCosignExit(
  exit: CosignExit & { command: 'verify' }
): Classification<SignatureFailure>
export function classifyCosignExit(
  exit: CosignExit & { command: 'verify-attestation' }
): Classification<AttestationFailure>
export function classifyCosignExit(exit: CosignExit): Classification
export function classifyCosignExit(exit: CosignExit): Classification {
  const killed = exit.timedOut === true || (exit.exitCode === null && Boolean(exit.signal))
  const rule = CLASSIFICATION_RULES.find(
    candidate =>
      (candidate.killed === undefined || candidate.killed === killed) &&
      (candidate.exitCode === undefined || candidate.exitCode === exit.exitCode) &&
      (candidate.pattern === undefined || candidate.pattern.test(exit.stderr))
  ) as ClassificationRule // the last row matches anything
  const outcome = exit.command === 'verify' ? rule.verify : rule.attestation
  return {
    outcome,
    rule: rule.id,
    message: killed ? killedMessage(exit) : cosignErrorMessage(exit.stderr, exit.exitCode),
    ...(rule.needsConfirmation ? { needsConfirmation: true } : {})
  }
}

function killedMessage(exit: CosignExit): string {
  return exit.timedOut
    ? `cosign ${exit.command} did not finish in time and was killed`
    : `cosign ${exit.command} was killed by ${exit.signal ?? 'a signal'}`
}

/**
 * The last `Error: …` line cosign printed (warnings and headers come first),
 * else the last non-empty line; shortened to a readable length.
 */
export function cosignErrorMessage(stderr: string, exitCode: number | null): string {
  const lines = stderr
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(line => line !== '')
  const errorLines = lines.filter(line => line.startsWith('Error: '))
  const chosen =
    errorLines.length > 0
      ? errorLines[errorLines.length - 1].slice('Error: '.length)
      : (lines[lines.length - 1] ??
        `cosign exited with code ${String(exitCode)} and printed nothing`)
  return chosen.length > MAX_MESSAGE_LENGTH ? `${chosen.slice(0, MAX_MESSAGE_LENGTH)}…` : chosen
}
