/**
 * What an attestation must say, pure: the statement's subject digest equals the
 * pinned digest, its `predicateType` equals the requirement's, every `where`
 * regex (RE2, as cosign's own patterns) matches the string at its dotted path,
 * and the time at `time_field` is at most `max_age_days` old. cosign's own
 * predicate-type filter once passed bundles of another type (issue 18), so these
 * are checked here even after `cosign verify-attestation` succeeded.
 */
import { RE2JS } from 're2js'
import { checkKeyWindow } from './signers.js'
import type {
  AttestationFinding,
  AttestMode,
  ConditionFinding,
  Digest,
  PlannedRequirement,
  RequirementFinding,
  RequirementResult
} from './types.js'

/** cosign's `--type` shorthands and the predicate types they stand for. */
const PREDICATE_TYPE_ALIASES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom'
}

/**
 * Every `--type` shorthand cosign 3 takes (`cosign verify-attestation --help`):
 * those above, and `link` and `openvex`, whose statements carry versioned
 * types (`https://openvex.dev/ns/v0.2.0`) that cosign filters itself.
 */
const COSIGN_TYPE_SHORTHANDS: readonly string[] = [
  ...Object.keys(PREDICATE_TYPE_ALIASES),
  'link',
  'openvex'
]

/**
 * The predicate type a `--type` value names: a known shorthand's URI, or the
 * URI itself; undefined for a shorthand this table does not know.
 */
export function expandPredicateType(type: string): string | undefined {
  return PREDICATE_TYPE_ALIASES[type] ?? (type.includes(':') ? type : undefined)
}

/**
 * Why `type` names no predicate type, or undefined when it does: a URI (an
 * in-toto statement's `predicateType` is a TypeURI) or one of cosign's
 * `--type` shorthands. cosign itself takes any other word as is, which no
 * statement carries: a typo such as `slsa-provenance-v1` would look for
 * nothing and report a missing attestation.
 */
export function predicateTypeProblem(type: string): string | undefined {
  if (expandPredicateType(type) !== undefined || COSIGN_TYPE_SHORTHANDS.includes(type))
    return undefined
  return `expected a predicate type URI (e.g. https://slsa.dev/provenance/v1) or one of cosign's --type shorthands (${COSIGN_TYPE_SHORTHANDS.join(', ')}), found ${JSON.stringify(type)}`
}

/** cosign's vulnerability predicate: its scan's end time is where its age is read. */
const VULN_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/vuln/v1'

/** `time_field` when none is written, by predicate type. */
const DEFAULT_TIME_FIELDS: Readonly<Record<string, string>> = {
  [VULN_PREDICATE_TYPE]: 'predicate.metadata.scanFinishedOn'
}

/** The time field of a requirement: the written one, else its type's default. */
export function timeFieldFor(type: string, written: string | undefined): string | undefined {
  return written ?? DEFAULT_TIME_FIELDS[expandPredicateType(type) ?? type]
}

const PATH_SEGMENT = '[A-Za-z0-9_@$-]+'
const DOTTED_PATH = new RegExp(`^${PATH_SEGMENT}(?:\\.${PATH_SEGMENT})*$`)

/** The top-level fields of an in-toto Statement (v0.1 and v1), where every path starts. */
const STATEMENT_FIELDS = ['_type', 'subject', 'predicateType', 'predicate']

/**
 * Whether `path` is a dotted path into an in-toto statement
 * (`predicate.runDetails.builder.id`; a number indexes a list): its first
 * segment one of the statement's fields (`_type`, `subject`, `predicateType`,
 * `predicate`), so `runDetails.builder.id` — which no statement has at its
 * top — is refused rather than never met.
 */
export function isDottedPath(path: string): boolean {
  return DOTTED_PATH.test(path) && STATEMENT_FIELDS.includes(path.split('.')[0])
}

/**
 * The value at a dotted path as text: strings as they are, numbers and
 * booleans written out; undefined when the path is missing or ends at an
 * object, a list or null.
 */
export function valueAtPath(document: unknown, path: string): string | undefined {
  let current: unknown = document
  for (const segment of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) current = current[Number(segment)]
    else if (typeof current === 'object' && current !== null && !Array.isArray(current))
      current = (current as Record<string, unknown>)[segment]
    else return undefined
  }
  if (typeof current === 'string') return current
  if (typeof current === 'number' || typeof current === 'boolean') return String(current)
  return undefined
}

/** One verified in-toto statement: the SHA-256 of its payload bytes and the parsed JSON. */
export interface VerifiedStatement {
  digest: Digest
  statement: unknown
}

/** One signer's `cosign verify-attestation` for a requirement. */
export type SignerAttestationRun =
  | { name: string; completed: true; statements: VerifiedStatement[]; attempts?: number }
  | {
      name: string
      completed: false
      /** `missing`: no attestation of the type; `invalid`: not by this signer; `incomplete`: could not complete. */
      failure: 'missing' | 'invalid' | 'incomplete'
      message: string
      attempts?: number
    }

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * `sha256:<hex>` (hex lower-cased) of each subject of an in-toto statement
 * (`subject[].digest.sha256`); subjects without one are left out.
 */
export function subjectDigests(statement: unknown): string[] {
  const subjects =
    typeof statement === 'object' &&
    statement !== null &&
    Array.isArray((statement as { subject?: unknown }).subject)
      ? (statement as { subject: unknown[] }).subject
      : []
  return subjects
    .map(subject => valueAtPath(subject, 'digest.sha256'))
    .filter((hex): hex is string => hex !== undefined)
    .map(hex => `sha256:${hex.toLowerCase()}`)
}

/**
 * Whether a statement's time (RFC 3339, at its `time_field`) is at most
 * `maxAgeDays` old at `now`; false when absent or not a time. Judged at
 * verification and again when the verification cache reads a result.
 */
export function isWithinMaxAge(value: string | undefined, maxAgeDays: number, now: Date): boolean {
  if (value === undefined || !RFC3339.test(value)) return false
  const time = Date.parse(value)
  if (!Number.isFinite(time)) return false
  // A time ahead of the run's clock (past a few minutes' skew) is no scan that happened.
  if (time - now.getTime() > CLOCK_SKEW_MS) return false
  return now.getTime() - time <= maxAgeDays * DAY_MS
}

/** An RFC 3339 date-time (section 5.6): the only form a statement's time is read in. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/
/** How far ahead of the run's clock a statement's time may be. */
const CLOCK_SKEW_MS = 5 * 60 * 1000

/** The conditions of a requirement judged on one statement (`where`, then `max_age_days`). */
function judgeConditions(
  requirement: PlannedRequirement,
  statement: unknown,
  now: Date
): ConditionFinding[] {
  const conditions: ConditionFinding[] = requirement.where.map(({ path, pattern }) => {
    const value = valueAtPath(statement, path)
    const met = value !== undefined && RE2JS.compile(pattern).matcher(value).find()
    return { path, pattern, ...(value !== undefined && { value }), met }
  })
  if (requirement.maxAgeDays !== undefined) {
    const path = timeFieldFor(requirement.type, requirement.timeField) ?? ''
    const value = valueAtPath(statement, path)
    const met = isWithinMaxAge(value, requirement.maxAgeDays, now)
    conditions.push({
      path,
      pattern: `<= ${requirement.maxAgeDays} days old`,
      ...(value !== undefined && { value }),
      met
    })
  }
  return conditions
}

interface Judged {
  signer: string
  statement: VerifiedStatement
  ofType: boolean
  covers: boolean
  conditions: ConditionFinding[]
}

/**
 * A requirement's result from what its signers' `cosign verify-attestation`
 * calls gave. `met` when some statement has the requirement's predicate type,
 * names the pinned digest as a subject and meets every condition; otherwise,
 * first match wins: `could-not-complete` when a signer's check did not
 * complete; `unmet` when an attestation exists (of another subject or type,
 * failing a condition, or not by these signers); `absent` when there is none.
 */
export function judgeRequirement(
  requirement: PlannedRequirement,
  runs: readonly SignerAttestationRun[],
  pinned: Digest,
  now: Date
): RequirementFinding {
  const type = expandPredicateType(requirement.type) ?? requirement.type
  const signers = requirement.signers.map(s => s.name)
  const attempts = runs.reduce((sum, run) => sum + (run.attempts ?? 0), 0)
  const base = { type: requirement.type, signers, ...(attempts > 0 && { attempts }) }
  // A signer counts for attestations only inside its window, judged at the
  // run's time (no log-vouched time is read for attestations).
  const outside = new Map(
    requirement.signers.flatMap(signer => {
      const window = checkKeyWindow(signer, now)
      return window.status === 'valid' ? [] : [[signer.name, window.message] as const]
    })
  )
  const judged: Judged[] = runs.flatMap(run =>
    run.completed && !outside.has(run.name)
      ? run.statements.map(statement => {
          const predicateType = valueAtPath(statement.statement, 'predicateType')
          return {
            signer: run.name,
            statement,
            ofType: predicateType === type,
            covers: subjectDigests(statement.statement).includes(pinned),
            conditions: judgeConditions(requirement, statement.statement, now)
          }
        })
      : []
  )
  const counting = judged.filter(j => j.ofType && j.covers)
  const meeting = counting.find(j => j.conditions.every(c => c.met))
  if (meeting) {
    return {
      ...base,
      result: 'met',
      conditions: meeting.conditions,
      statementDigest: meeting.statement.digest,
      signedBy: meeting.signer
    }
  }
  const closest = counting[0] ?? judged[0]
  const evidence = closest
    ? { conditions: closest.conditions, statementDigest: closest.statement.digest }
    : { conditions: [] }
  const failed = (result: RequirementResult, message: string): RequirementFinding => ({
    ...base,
    result,
    ...evidence,
    message
  })
  const incomplete = runs.find(run => !run.completed && run.failure === 'incomplete')
  if (incomplete && !incomplete.completed) {
    return failed('could-not-complete', `${incomplete.name}: ${incomplete.message}`)
  }
  if (counting.length > 0) {
    const unmet = counting[0].conditions.filter(c => !c.met).map(c => describeCondition(c))
    return failed('unmet', unmet.join('; '))
  }
  if (judged.length > 0) {
    const first = judged[0]
    const message = !first.ofType
      ? `the statement's predicateType is ${JSON.stringify(valueAtPath(first.statement.statement, 'predicateType') ?? '')}, not ${type}`
      : `the statement's subject is ${subjectDigests(first.statement.statement).join(', ') || '(none)'}, not the pinned ${pinned}`
    return failed('unmet', message)
  }
  const invalid = runs.find(run => !run.completed && run.failure === 'invalid')
  if (invalid && !invalid.completed) {
    return failed(
      'unmet',
      `an attestation exists but not by ${signers.join(', ')}: ${invalid.message}`
    )
  }
  const retired = runs.find(
    run => outside.has(run.name) && run.completed && run.statements.length > 0
  )
  if (retired) return failed('unmet', `${retired.name}: ${outside.get(retired.name)}`)
  const missing = runs.find(run => !run.completed)
  return failed(
    'absent',
    missing && !missing.completed ? missing.message : `no attestation of type ${type}`
  )
}

/** A condition for a decision path: path, pattern and the value found, quoted and escaped. */
export function describeCondition(condition: ConditionFinding): string {
  const value = condition.value === undefined ? 'missing' : JSON.stringify(condition.value)
  const verb = condition.met ? 'meets' : 'fails'
  return `${condition.path} ${verb} ${JSON.stringify(condition.pattern)} (value ${value})`
}

/** The predicate types of several requirements as one finding's `predicateType`: each once, in order. */
export function requirementTypesText(requirements: readonly { type: string }[]): string {
  return [...new Set(requirements.map(requirement => requirement.type))].join(', ')
}

/**
 * The requirements of one image as one attestation finding (for the trust
 * status and the report's `attestation`): `verified` when every requirement is
 * met; otherwise the first unmet (`attestation-invalid`), else the first that
 * could not complete (`transient`), else the first absent (`attestation-missing`).
 */
export function summariseRequirements(
  mode: AttestMode,
  requirements: readonly RequirementFinding[]
): AttestationFinding {
  const attempts = requirements.reduce((sum, r) => sum + (r.attempts ?? 0), 0)
  const counts = attempts > 0 ? { attempts } : {}
  const failing =
    requirements.find(r => r.result === 'unmet') ??
    requirements.find(r => r.result === 'could-not-complete') ??
    requirements.find(r => r.result === 'absent')
  if (!failing) {
    const first = requirements[0]
    return {
      outcome: 'verified',
      mode,
      predicateType: requirementTypesText(requirements),
      ...(first?.statementDigest && { digest: first.statementDigest }),
      count: requirements.length,
      ...counts
    }
  }
  const outcome =
    failing.result === 'unmet'
      ? 'attestation-invalid'
      : failing.result === 'could-not-complete'
        ? 'transient'
        : 'attestation-missing'
  return {
    outcome,
    mode,
    predicateType: failing.type,
    ...(failing.statementDigest && { digest: failing.statementDigest }),
    count: requirements.filter(r => r.result === 'met').length,
    ...(failing.message !== undefined && { message: failing.message }),
    ...counts
  }
}
