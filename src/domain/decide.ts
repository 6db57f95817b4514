/**
 * The policy decision: from what was observed about each image to its exit
 * code, trust status and the ordered steps that explain both. Pure.
 *
 * Raw severity per check (the highest wins):
 *
 * | check        | finding                                                   | code |
 * |--------------|-----------------------------------------------------------|------|
 * | digest       | match                                                     | 0    |
 * | digest       | drift, tag-missing, not-pinned, unreachable, access-denied | 2   |
 * | age          | stale (older than digest_ttl)                             | 1    |
 * | signature    | verified                                                  | 0    |
 * | signature    | unsigned / invalid / expired, required                    | 3    |
 * | signature    | unsigned / invalid / expired, not required, signer named  | 1    |
 * | signature    | unsigned or skipped, not required, no signer named        | 0    |
 * | signature    | could not complete (see below), required                  | 3    |
 * | signature    | could not complete, not required                          | 1    |
 * | attestation  | attest_mode none, or record (any outcome)                 | 0    |
 * | attestation  | enforce: verified                                         | 0    |
 * | attestation  | enforce: anything else (missing, invalid, not completed)  | 3    |
 *
 * "Could not complete" is `transient`, `registry-auth`, `tool-error`,
 * `not-found`, and `skipped` when a check was expected (a signer is named or a
 * signature is required) but could not run, e.g. because there is no digest.
 *
 * Mode: `strict` keeps the raw code; `warn` and `auto_update` turn 2 and 3
 * into 1.
 *
 * Trust status (total over every signature outcome):
 *
 * | signature outcome                                   | trust      |
 * |-----------------------------------------------------|------------|
 * | verified                                            | `valid`    |
 * | unsigned                                            | `unsigned` |
 * | invalid                                             | `invalid`  |
 * | expired                                             | `expired`  |
 * | transient, registry-auth, tool-error, not-found     | `unknown`  |
 * | skipped, no signer named and not required           | `unsigned` |
 * | skipped, otherwise                                  | `unknown`  |
 *
 * Under `attest_mode: enforce` the attestation can only lower it: an
 * `attestation-invalid` makes it at least `invalid`, any other outcome but
 * `verified` at least `unknown` (order, worst first: invalid > expired >
 * unknown > unsigned > valid). `none` and `record` never change it.
 *
 * Trust model `signers` (issue 18; spec 4.1a): the signature outcome comes
 * from the image's signers combined against its threshold (combineSigners,
 * signers.ts) and costs what the table above says, with "signer named" meaning
 * the image has any trusted signer; each attestation requirement is its own
 * step — under `enforce` an unmet, absent or incomplete requirement is 3, under
 * `record` 0 — and the requirements together give the attestation outcome
 * (summariseRequirements, attestations.ts). The path gains one step per signer
 * and per requirement. Trust model `row-signer` (no named signers, no
 * `attestations`) decides exactly as before 4.1.
 */
import { describeCondition } from './attestations.js'
import { describeSigner, signerResultOf } from './signers.js'
import { formatLocation, type ConfigIssue } from './errors.js'
import type {
  SignerResult,
  Decision,
  EffectivePolicy,
  ExitCode,
  ImageDecision,
  ImageFindings,
  ImagePlan,
  SignatureFinding,
  TrustStatus
} from './types.js'

type Severity = 0 | 1 | 2 | 3

/** One reason in a decision path: which check, what it found, what it costs. */
interface DecisionStep {
  check: 'policy' | 'digest' | 'age' | 'signature' | 'attestation' | 'mode'
  code: Severity
  text: string
}

/** Worst first. */
export const TRUST_ORDER: readonly TrustStatus[] = [
  'invalid',
  'expired',
  'unknown',
  'unsigned',
  'valid'
]

const SHORT_DIGEST_HEX = 12

/** `sha256:` and the first 12 hex characters. */
export function shortDigest(digest: string | undefined): string {
  if (!digest) return '—'
  const [algorithm, hex] = digest.split(':', 2)
  return hex === undefined
    ? digest.slice(0, SHORT_DIGEST_HEX)
    : `${algorithm}:${hex.slice(0, SHORT_DIGEST_HEX)}`
}

/** The worse of two trust statuses. */
export function worseTrust(a: TrustStatus, b: TrustStatus): TrustStatus {
  return TRUST_ORDER.indexOf(a) <= TRUST_ORDER.indexOf(b) ? a : b
}

export function decisionFor(code: ExitCode): Decision {
  if (code === 0) return 'pass'
  if (code === 1) return 'warn'
  return 'fail'
}

/** Where a policy key's value came from: the plan's own note, or `key=value`. */
function keySource(policy: EffectivePolicy, key: string, value: string | number | boolean): string {
  const noted = policy.sources.find(source => source.startsWith(`${key}=`))
  return noted ?? `${key}=${String(value)}`
}

function daysOld(days: number | undefined): string {
  return `${days} day${days === 1 ? '' : 's'} old`
}

function suffix(message: string | undefined): string {
  return message ? `: ${message.split('\n')[0]}` : ''
}

function digestStep(findings: ImageFindings): DecisionStep {
  const { digest, plan } = findings
  const pinned = shortDigest(digest.pinnedDigest)
  switch (digest.status) {
    case 'match':
      return {
        check: 'digest',
        code: 0,
        text: `digest: ${plan.reference} still points at the pinned ${pinned}`
      }
    case 'drift':
      return {
        check: 'digest',
        code: 2,
        text: `digest: drift — ${plan.reference} now points at ${shortDigest(digest.currentDigest)}, pinned ${pinned} → 2`
      }
    case 'tag-missing':
      return {
        check: 'digest',
        code: 2,
        text: `digest: tag ${plan.reference} does not exist in the registry → 2`
      }
    case 'not-pinned':
      return {
        check: 'digest',
        code: 2,
        text: `digest: row ${plan.row.index + 1} (${plan.row.version}, ${plan.row.os})${plan.row.location ? ` at ${formatLocation(plan.row.location)}` : ''} is not pinned to a digest yet${plan.row.pin.kind === 'not-pinned' && plan.row.pin.note ? ` (${plan.row.pin.note})` : ''} → 2`
      }
    case 'unreachable':
      return {
        check: 'digest',
        code: 2,
        text: `digest: registry ${plan.registry} could not be read${suffix(digest.cause)} → 2`
      }
    case 'access-denied':
      return {
        check: 'digest',
        code: 2,
        text: `digest: registry ${plan.registry} refused access${suffix(digest.cause)} — check the credentials for it (registry-username/registry-password, the Docker config or its credential helper) → 2`
      }
  }
}

function ageStep(findings: ImageFindings): DecisionStep {
  const { age, plan } = findings
  const ttl = keySource(plan.policy, 'digest_ttl', age.ttlDays)
  if (age.stale) {
    return {
      check: 'age',
      code: 1,
      text: `age: pinned ${age.added}, ${daysOld(age.ageDays)}, older than ${ttl} → stale → 1`
    }
  }
  if (age.ageDays === undefined || age.note) {
    return { check: 'age', code: 0, text: `age: ${age.note ?? 'unknown'} (not counted as stale)` }
  }
  return {
    check: 'age',
    code: 0,
    text: `age: pinned ${age.added}, ${daysOld(age.ageDays)}, within ${ttl}`
  }
}

/** The trust status each signer result stands for (one classification of outcomes: signerResultOf). */
const TRUST_OF_RESULT: Record<SignerResult, TrustStatus> = {
  verified: 'valid',
  absent: 'unsigned',
  invalid: 'invalid',
  expired: 'expired',
  'not-yet-valid': 'expired',
  'could-not-complete': 'unknown'
}

function signatureTrust(findings: ImageFindings): TrustStatus {
  const { signature, plan } = findings
  // Nothing checked is unsigned only when nothing was asked for; else the check did not run.
  if (signature.outcome === 'skipped')
    return !signerNamed(plan) && !plan.policy.requireSignature ? 'unsigned' : 'unknown'
  return TRUST_OF_RESULT[signerResultOf(signature.outcome)]
}

/**
 * What is true of a pinned platform manifest's index when the manifest has no
 * signature: `cosign sign` of an index signs the index only, unless
 * `--recursive` (cosign's documented behaviour), and cosign verifies exactly
 * the digest it is given.
 */
function indexSignatureNote(signature: SignatureFinding): string {
  const index = signature.indexSignature
  if (!index) return ''
  const platform = index.platform ? `${index.platform} ` : ''
  if (index.outcome === 'verified')
    return (
      ` on the pinned ${platform}platform manifest, while the index ${shortDigest(index.digest)} the tag points at` +
      ` is signed${index.signedBy ? ` by ${index.signedBy}` : ' by the expected signer'} — sign the platform manifests too` +
      ' (`cosign sign --recursive` on the index) or pin the index digest'
    )
  return ` on the pinned ${platform}platform manifest, nor on the index ${shortDigest(index.digest)} the tag points at (${index.outcome})`
}

/** Whether the image names any signer: the row's own, or (trust model `signers`) a trusted one. */
function signerNamed(plan: ImagePlan): boolean {
  return plan.trustModel === 'signers' ? (plan.signers ?? []).length > 0 : plan.signer !== undefined
}

/** `2 of 3 required distinct trusted signers counted (a, b)`. */
function thresholdText(signature: SignatureFinding, plan: ImagePlan): string {
  const required = signature.threshold?.required ?? plan.threshold ?? 1
  const counted = (signature.signers ?? []).filter(s => s.counted).map(s => s.name)
  return `${counted.length} of ${required} required distinct trusted signer${required === 1 ? '' : 's'} counted${counted.length > 0 ? ` (${counted.join(', ')})` : ''}`
}

/** One step per trusted signer (trust model `signers`): its result and why it did or did not count. */
function signerSteps(findings: ImageFindings): DecisionStep[] {
  if (findings.plan.trustModel !== 'signers') return []
  return (findings.signature.signers ?? []).map(signer => {
    const time = signer.signingTime
      ? `, signing time ${signer.signingTime} (${signer.signingTimeSource})`
      : ''
    const count = signer.counted ? 'counted' : 'not counted'
    const why = !signer.counted && signer.message ? `: ${signer.message.split('\n')[0]}` : ''
    return {
      check: 'signature',
      code: 0,
      text: `signer ${signer.name} (${signer.kind}): ${signer.result}${signer.source ? ` (bundle from the ${signer.source})` : ''}${time}; ${count}${why}`
    }
  })
}

/** One step per attestation requirement (trust model `signers`), with its cost under attest_mode. */
function requirementSteps(findings: ImageFindings): DecisionStep[] {
  const { plan } = findings
  const mode = plan.policy.attestMode
  const modeKey = keySource(plan.policy, 'attest_mode', mode)
  if (mode === 'none') {
    return [{ check: 'attestation', code: 0, text: `attestation: not checked (${modeKey})` }]
  }
  return (findings.requirements ?? []).map(requirement => {
    const by = requirement.signedBy ? ` signed by ${requirement.signedBy}` : ''
    const conditions = requirement.conditions.map(describeCondition)
    const detail =
      requirement.result === 'met'
        ? conditions.length > 0
          ? `; ${conditions.join('; ')}`
          : ''
        : requirement.conditions.some(c => !c.met)
          ? `; ${requirement.conditions
              .filter(c => !c.met)
              .map(describeCondition)
              .join('; ')}`
          : suffix(requirement.message)
    const found = `attestation ${requirement.type}: ${requirement.result}${by}${detail}`
    if (requirement.result === 'met') {
      return { check: 'attestation', code: 0, text: `${found} (${modeKey})` }
    }
    if (mode === 'record') {
      return {
        check: 'attestation',
        code: 0,
        text: `${found}; recorded only (${modeKey}), never fails`
      }
    }
    return { check: 'attestation', code: 3, text: `${found}; required by ${modeKey} → 3` }
  })
}

function signatureStep(findings: ImageFindings): DecisionStep {
  const { signature, plan } = findings
  const required = plan.policy.requireSignature
  const requirement = keySource(plan.policy, 'require_signature', required)
  const named = signerNamed(plan)
  const expected =
    signature.expected ??
    (plan.signer?.kind === 'key' ? plan.signer.keyPath : plan.signer?.identity)
  const model = plan.trustModel === 'signers'
  const signer = model
    ? ` (${thresholdText(signature, plan)})`
    : expected
      ? ` (expected signer ${expected})`
      : ''
  const outcome = signature.outcome

  if (outcome === 'verified' && model) {
    return {
      check: 'signature',
      code: 0,
      text: `signature: verified, threshold met — ${thresholdText(signature, plan)}`
    }
  }
  if (outcome === 'verified') {
    const by =
      describeSigner({ ...signature, expected }, { bareKey: true }) ?? 'the expected signer'
    const log = signature.tlogChecked
      ? signature.rekorLogIndex !== undefined
        ? `, Rekor log index ${signature.rekorLogIndex}`
        : ''
      : ', transparency log not checked'
    return { check: 'signature', code: 0, text: `signature: verified, signed by ${by}${log}` }
  }
  if (outcome === 'skipped' && !named && !required) {
    return {
      check: 'signature',
      code: 0,
      text: `signature: not checked — the row names no signer and ${requirement}; recorded as unsigned`
    }
  }
  if (outcome === 'unsigned' || outcome === 'invalid' || outcome === 'expired') {
    const what =
      outcome === 'unsigned'
        ? `no signature found${indexSignatureNote(signature)}`
        : `signature ${outcome}`
    if (required) {
      return {
        check: 'signature',
        code: 3,
        text: `signature: ${what}${signer}${suffix(signature.message)}; required by ${requirement} → 3`
      }
    }
    if (named) {
      return {
        check: 'signature',
        code: 1,
        text: `signature: ${what}${signer}${suffix(signature.message)}; not required (${requirement}) but the row names a signer → 1`
      }
    }
    return {
      check: 'signature',
      code: 0,
      text: `signature: ${what}${suffix(signature.message)}; the row names no signer and ${requirement}; recorded, not counted`
    }
  }
  // transient, registry-auth, tool-error, not-found, or skipped although a check was expected.
  const why = outcome === 'skipped' ? 'could not be run' : `could not complete (${outcome})`
  // Attempts of one check; under named signers the count is of every signer's
  // cosign calls together, not retries of one, so it is not told as attempts.
  const attempts =
    signature.attempts && signature.attempts > 1 && (signature.signers ?? []).length <= 1
      ? ` after ${signature.attempts} attempts`
      : ''
  const cost: Severity = required ? 3 : 1
  const rule = required ? `required by ${requirement}` : `not required (${requirement})`
  return {
    check: 'signature',
    code: cost,
    text: `signature: check ${why}${attempts}${signer}${suffix(signature.message)}; trust unknown, ${rule} → ${cost}`
  }
}

function attestationTrust(findings: ImageFindings): TrustStatus {
  const { attestation, plan } = findings
  if (plan.policy.attestMode !== 'enforce' || attestation.outcome === 'verified') return 'valid'
  return attestation.outcome === 'attestation-invalid' ? 'invalid' : 'unknown'
}

function attestationStep(findings: ImageFindings): DecisionStep {
  const { attestation, plan } = findings
  const mode = plan.policy.attestMode
  const modeKey = keySource(plan.policy, 'attest_mode', mode)
  const type = attestation.predicateType || plan.policy.attestationType
  if (mode === 'none') {
    return { check: 'attestation', code: 0, text: `attestation: not checked (${modeKey})` }
  }
  const found =
    attestation.outcome === 'verified'
      ? `verified ${type}${attestation.builderId ? ` from builder ${attestation.builderId}` : ''}`
      : `${attestation.outcome} (${type})${suffix(attestation.message)}`
  if (mode === 'record') {
    return {
      check: 'attestation',
      code: 0,
      text: `attestation: ${found}; recorded only (${modeKey}), never fails`
    }
  }
  if (attestation.outcome === 'verified') {
    return { check: 'attestation', code: 0, text: `attestation: ${found} (${modeKey})` }
  }
  return {
    check: 'attestation',
    code: 3,
    text: `attestation: ${found}; required by ${modeKey} → 3`
  }
}

/** The steps that explain an image's raw code, in the order the checks ran. */
export function decisionSteps(findings: ImageFindings): DecisionStep[] {
  const steps: DecisionStep[] = []
  const { policy } = findings.plan
  if (policy.override !== undefined) {
    steps.push({ check: 'policy', code: 0, text: `policy: override "${policy.override}" applies` })
  }
  steps.push(digestStep(findings), ageStep(findings), signatureStep(findings))
  steps.push(...signerSteps(findings))
  if (findings.plan.trustModel === 'signers' && findings.requirements !== undefined)
    steps.push(...requirementSteps(findings))
  else steps.push(attestationStep(findings))
  return steps
}

/** The mode's effect on a raw code: `strict` keeps it, `warn`/`auto_update` cap 2 and 3 at 1. */
function applyMode(policy: EffectivePolicy, rawCode: Severity): DecisionStep {
  const mode = keySource(policy, 'mode', policy.mode)
  if (policy.mode !== 'strict' && rawCode >= 2) {
    return { check: 'mode', code: 1, text: `mode: ${mode} downgrades ${rawCode} → 1` }
  }
  return { check: 'mode', code: rawCode, text: `mode: ${mode} keeps ${rawCode}` }
}

function formatPolicyDecision(policy: EffectivePolicy, code: number): string {
  return `mode=${policy.mode}|require_sig=${policy.requireSignature}|attest=${policy.attestMode}|status=${code}`
}

export function decideImage(findings: ImageFindings): ImageDecision {
  const steps = decisionSteps(findings)
  const rawCode = steps.reduce<Severity>(
    (worst, step) => (step.code > worst ? step.code : worst),
    0
  )
  const modeStep = applyMode(findings.plan.policy, rawCode)
  const trustStatus = worseTrust(signatureTrust(findings), attestationTrust(findings))
  return {
    code: modeStep.code,
    rawCode,
    trustStatus,
    path: [...steps, modeStep].map(step => step.text),
    policyDecision: formatPolicyDecision(findings.plan.policy, modeStep.code)
  }
}

/** The whole run: highest code (4 with any config issue) and the worst trust status. */
export function summariseRun(
  decisions: ImageDecision[],
  configIssues: ConfigIssue[] = []
): { exitCode: ExitCode; decision: Decision; trustStatus: TrustStatus } {
  const highest = decisions.reduce<ExitCode>((worst, d) => (d.code > worst ? d.code : worst), 0)
  const exitCode: ExitCode = configIssues.length > 0 ? 4 : highest
  const trustStatus =
    decisions.length === 0
      ? 'unknown'
      : decisions.map(d => d.trustStatus).reduce((worst, trust) => worseTrust(worst, trust))
  return { exitCode, decision: decisionFor(exitCode), trustStatus }
}
