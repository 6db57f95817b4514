/**
 * The updater's no-regression rule, pure (issue 14): a candidate digest may
 * replace a pin only when its evidence is at least the pin's, both judged in
 * the same run with the same rules — at least as many distinct trusted
 * signers that count (verified, inside their windows, a shared key counted
 * once), and every attestation requirement the pin meets (predicate type and
 * `where` conditions; under trust model `row-signer`, `attestation_type`
 * alone) met by the candidate too. This holds even where the policy alone
 * would let the candidate through (`attest_mode: record`,
 * `require_signature: false`). A pin with no evidence has nothing to lose.
 */
import { expandPredicateType } from './attestations.js'
import { describeSigner, expectedSignerText } from './signers.js'
import {
  UNNAMED_SIGNER,
  type AttestationFinding,
  type AttestationOutcome,
  type EvidenceSigner,
  type ImagePlan,
  type PinEvidence,
  type PlannedRequirement,
  type RequirementFinding,
  type RequirementResult,
  type SignatureFinding
} from './types.js'

/** The trust findings of one digest (checkTrust's answer, src/app/trust.ts). */
export interface JudgedTrust {
  signature: SignatureFinding
  attestation: AttestationFinding
  requirements?: RequirementFinding[]
}

/** One attestation requirement's state for one digest. */
interface RequirementState {
  /** The requirement as text: its type's name and conditions (index i is the plan's requirement i on both sides). */
  requirement: string
  result: RequirementResult
  signedBy?: string
  message?: string
}

/** A digest's evidence, with what could not be judged. */
export interface JudgedEvidence {
  evidence: PinEvidence
  requirements: RequirementState[]
  /** Why part of the evidence could not be judged (a check did not complete). */
  incomplete?: string
}

type RegressionVerdict = { regressed: false } | { regressed: true; losses: string[] }

const NAMED_TYPES: Readonly<Record<string, string>> = {
  'https://slsa.dev/provenance/v0.2': 'SLSA provenance',
  'https://slsa.dev/provenance/v1': 'SLSA provenance',
  'https://spdx.dev/Document': 'an SPDX SBOM',
  'https://cyclonedx.org/bom': 'a CycloneDX SBOM',
  'https://cosign.sigstore.dev/attestation/vuln/v1': 'a vulnerability scan',
  'https://cosign.sigstore.dev/attestation/v1': 'a custom attestation'
}

/** A predicate type in words: `SLSA provenance`, else `an attestation of type <uri>`. */
function predicateTypeName(type: string): string {
  const uri = expandPredicateType(type) ?? type
  return NAMED_TYPES[uri] ?? `an attestation of type ${type}`
}

/** A requirement in words: its type's name, then its `where` and `max_age_days` conditions. */
export function describeRequirement(requirement: PlannedRequirement): string {
  const conditions = [
    ...requirement.where.map(w => `${w.path} matching ${JSON.stringify(w.pattern)}`),
    ...(requirement.maxAgeDays !== undefined ? [`at most ${requirement.maxAgeDays} days old`] : [])
  ]
  const name = predicateTypeName(requirement.type)
  return conditions.length > 0 ? `${name} with ${conditions.join(' and ')}` : name
}

function attestationResult(outcome: AttestationOutcome): RequirementResult {
  if (outcome === 'verified') return 'met'
  if (outcome === 'attestation-missing') return 'absent'
  if (outcome === 'attestation-invalid') return 'unmet'
  return 'could-not-complete'
}

/**
 * The evidence of one digest under `plan`'s rules. Signers: those whose
 * finding `counted`. Requirements: under trust model `signers`, each planned
 * requirement (same order as `plan.requirements`); under `row-signer`, the
 * policy's `attestation_type` when `attest_mode` is not `none` and the row
 * names a signer. `incomplete` says which check did not complete.
 */
export function evidenceOf(
  plan: Pick<ImagePlan, 'trustModel' | 'requirements' | 'policy' | 'signer'>,
  findings: JudgedTrust
): JudgedEvidence {
  const { signature, attestation } = findings
  const signers: EvidenceSigner[] = (signature.signers ?? [])
    .filter(s => s.counted)
    .map(s => {
      const who = describeSigner(s)
      return { name: s.name, ...(who !== undefined && { who }) }
    })
  let requirements: RequirementState[] = []
  if (plan.trustModel === 'signers') {
    requirements = (findings.requirements ?? []).map((r, i) => {
      const planned = plan.requirements?.[i]
      return {
        requirement: planned ? describeRequirement(planned) : predicateTypeName(r.type),
        result: r.result,
        ...(r.signedBy !== undefined && { signedBy: r.signedBy }),
        ...(r.message !== undefined && { message: r.message })
      }
    })
  } else if (attestation.outcome !== 'skipped') {
    const signedBy =
      signature.outcome === 'verified' ? describeSigner(signature) : expectedSignerText(plan.signer)
    requirements = [
      {
        requirement: predicateTypeName(plan.policy.attestationType),
        result: attestationResult(attestation.outcome),
        ...(signedBy !== undefined && { signedBy }),
        ...(attestation.message !== undefined && { message: attestation.message })
      }
    ]
  }
  const incomplete =
    (signature.signers ?? []).find(s => s.result === 'could-not-complete') ??
    (signature.signers === undefined &&
    ['transient', 'tool-error', 'registry-auth', 'not-found'].includes(signature.outcome)
      ? { name: 'signature', message: signature.message }
      : undefined)
  const incompleteRequirement = requirements.find(r => r.result === 'could-not-complete')
  const reason = incomplete
    ? `${incomplete.name === UNNAMED_SIGNER ? 'the signature' : incomplete.name}: ${incomplete.message ?? 'the check did not complete'}`
    : incompleteRequirement
      ? `${incompleteRequirement.requirement}: ${incompleteRequirement.message ?? 'the check did not complete'}`
      : undefined
  return {
    evidence: {
      signers,
      attestations: requirements
        .filter(r => r.result === 'met')
        .map(r => ({
          requirement: r.requirement,
          ...(r.signedBy !== undefined && { signedBy: r.signedBy })
        }))
    },
    requirements,
    ...(reason !== undefined && { incomplete: reason })
  }
}

function signerText(signer: EvidenceSigner): string {
  return signer.name === UNNAMED_SIGNER ? (signer.who ?? signer.name) : signer.name
}

function signersText(signers: readonly EvidenceSigner[]): string {
  return signers.map(signerText).join(', ')
}

/**
 * Whether `candidate` has less evidence than `current` (both from evidenceOf
 * under the same plan, in the same run), and what would be lost, one sentence
 * each. A current pin whose evidence could not be judged is a regression
 * (nothing can be said to be kept); a pin with no evidence has nothing to lose.
 */
export function compareEvidence(
  current: JudgedEvidence,
  candidate: JudgedEvidence
): RegressionVerdict {
  const losses: string[] = []
  if (current.incomplete !== undefined) {
    losses.push(
      `the current pin's evidence could not be judged (${current.incomplete}), so the candidate cannot be shown to keep it`
    )
  }
  const had = current.evidence.signers
  const has = candidate.evidence.signers
  if (has.length < had.length) {
    const lost = had.filter(s => !has.some(c => signerText(c) === signerText(s)))
    losses.push(
      `current pin is signed by ${had.length} distinct trusted signer${had.length === 1 ? '' : 's'} (${signersText(had)}); ` +
        `candidate by ${has.length === 0 ? 'none' : `${has.length} (${signersText(has)})`}` +
        (lost.length > 0 ? `: ${signersText(lost)} would be lost` : '')
    )
  }
  // Both sides come from the same plan: requirement i is the same requirement.
  for (const [i, state] of current.requirements.entries()) {
    if (state.result !== 'met') continue
    const other = candidate.requirements[i]
    if (other?.result === 'met') continue
    const by = state.signedBy !== undefined ? ` by ${state.signedBy}` : ''
    const theirs =
      other === undefined || other.result === 'absent'
        ? 'candidate has none'
        : other.result === 'unmet'
          ? `candidate's does not meet it${other.message ? ` (${other.message})` : ''}`
          : `candidate's could not be checked${other.message ? ` (${other.message})` : ''}`
    losses.push(`current pin has ${state.requirement}${by}; ${theirs}`)
  }
  return losses.length > 0 ? { regressed: true, losses } : { regressed: false }
}
