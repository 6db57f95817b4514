/**
 * `ci/rocm_policy.yml` → Policy, pure. Runs after (and alongside) the schema
 * check: it reads defensively, adds the checks a schema cannot express (templates,
 * repository names, override globs) and fills in every default.
 */
import type { ConfigIssue, SourceLocation } from '../domain/errors.js'
import {
  expandTemplate,
  findRepositoryProblem,
  findTagProblem,
  findTemplateProblem
} from '../domain/reference.js'
import { isDottedPath, predicateTypeProblem, timeFieldFor } from '../domain/attestations.js'
import { normaliseFingerprint, windowInstant } from '../domain/signers.js'
import {
  DEFAULT_TAG_TEMPLATE,
  SLSA_PROVENANCE_V1,
  UNNAMED_SIGNER,
  type AttestationRequirement,
  type AttestMode,
  type GitHubSignerExpectation,
  type NamedSigner,
  type Policy,
  type PolicyMode,
  type PolicyOverride,
  type SignerNames
} from '../domain/types.js'
import { findRe2Problem, isStartAnchored, REGEXP_SYNTAX, unanchoredWarning } from './regexp.js'
import { displayPath } from './schema.js'
import { locate, toPointer, type ParsedYaml } from './yaml.js'

/** The value of every policy key that is not written (schemas/policy.schema.json agrees). */
export const POLICY_DEFAULTS = {
  mode: 'strict',
  digestTtlDays: 7,
  workflow: 'update-rocm.yml',
  autoUpdateRef: 'main',
  requireSignature: false,
  attestMode: 'none',
  attestationType: SLSA_PROVENANCE_V1,
  ignoreTlog: false,
  tagTemplate: DEFAULT_TAG_TEMPLATE,
  cacheTtlHours: 24,
  registryConcurrency: 8
} as const satisfies Partial<Policy>

/** The most requests one registry may have in flight (`registry_concurrency`; the schema agrees). */
const MAX_REGISTRY_CONCURRENCY = 64

const POLICY_MODES: readonly PolicyMode[] = ['strict', 'warn', 'auto_update']
const ATTEST_MODES: readonly AttestMode[] = ['none', 'record', 'enforce']

/** A sample row used to check templates that hold placeholders. */
const SAMPLE_VALUES = { version: '6.4.4', os: 'ubuntu-22.04' }

type Fields = Record<string, unknown>

function asFields(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : {}
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function booleanOf(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined
}

function daysOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined
}

function boundedIntegerOf(value: unknown, min: number, max: number): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
    ? value
    : undefined
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : undefined
}

/**
 * Why a `repository` or `tag` template is unusable: an unknown placeholder, or —
 * expanded with a sample row — a name that is not a valid (or safe) reference part.
 */
export function findReferenceTemplateProblem(
  template: string,
  kind: 'repository' | 'tag'
): string | undefined {
  const templateProblem = findTemplateProblem(template)
  if (templateProblem) return templateProblem
  const expanded = expandTemplate(template, SAMPLE_VALUES)
  const problem = kind === 'repository' ? findRepositoryProblem(expanded) : findTagProblem(expanded)
  if (!problem) return undefined
  return expanded === template ? problem : `${problem} (expanded for a sample row: \`${expanded}\`)`
}

/** Reads the `policy` mapping; schema errors are reported by the schema check, not here. */
export function readPolicy(parsed: ParsedYaml): { policy: Policy; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = []
  /** Problems that do not stop the run (annotations; `validate` prints them). */
  const warnings: ConfigIssue[] = []
  const fields = asFields(asFields(parsed.data).policy)
  const at = (...path: (string | number)[]): SourceLocation =>
    locate(parsed, toPointer(['policy', ...path]))

  const locations: Record<string, SourceLocation> = {}
  for (const key of Object.keys(fields))
    locations[key] = locate(parsed, toPointer(['policy', key]), 'key')

  const repository = stringOf(fields.repository)
  if (repository !== undefined && repository !== '') {
    const problem = findReferenceTemplateProblem(repository, 'repository')
    if (problem) {
      issues.push({
        code: 'bad-reference',
        message: `${displayPath('/policy/repository')}: \`${repository}\` ${problem}`,
        location: at('repository')
      })
    }
  }
  const tagTemplate = stringOf(fields.tag_template)
  if (tagTemplate !== undefined && tagTemplate !== '') {
    const problem = findReferenceTemplateProblem(tagTemplate, 'tag')
    if (problem) {
      issues.push({
        code: 'bad-reference',
        message: `${displayPath('/policy/tag_template')}: \`${tagTemplate}\` ${problem}`,
        location: at('tag_template')
      })
    }
  }

  const overrides: PolicyOverride[] = []
  const rawOverrides = Array.isArray(fields.overrides) ? fields.overrides : []
  const seenGlobs = new Map<string, number>()
  rawOverrides.forEach((raw, index) => {
    const entry = asFields(raw)
    const match = stringOf(entry.match)
    if (match === undefined || match === '') return
    const location = at('overrides', index)
    const where = displayPath(toPointer(['policy', 'overrides', index]))
    if (/\s/.test(match)) {
      issues.push({
        code: 'bad-glob',
        message: `${where}: \`match\` expected a glob on repository:tag without whitespace, found ${JSON.stringify(match)}`,
        location: at('overrides', index, 'match')
      })
    }
    const earlier = seenGlobs.get(match)
    if (earlier !== undefined) {
      issues.push({
        code: 'duplicate-override',
        message: `${where}: an override for \`${match}\` is already written at line ${locate(parsed, toPointer(['policy', 'overrides', earlier])).line}`,
        location
      })
    }
    seenGlobs.set(match, index)
    const override: PolicyOverride = { match, location }
    const requireSignature = booleanOf(entry.require_signature)
    const attestMode = oneOf(entry.attest_mode, ATTEST_MODES)
    const digestTtlDays = daysOf(entry.digest_ttl)
    if (requireSignature !== undefined) override.requireSignature = requireSignature
    if (attestMode !== undefined) override.attestMode = attestMode
    if (digestTtlDays !== undefined) override.digestTtlDays = digestTtlDays
    const trustedSigners = readNames(entry.trusted_signers, [
      'policy',
      'overrides',
      index,
      'trusted_signers'
    ])
    if (trustedSigners) override.trustedSigners = trustedSigners
    const threshold = thresholdOf(entry.threshold)
    if (threshold !== undefined) {
      override.threshold = threshold
      override.thresholdLocation = at('overrides', index, 'threshold')
    }
    if (!OVERRIDE_SETTINGS.some(key => key in entry)) {
      issues.push({
        code: 'empty-override',
        message: `${where}: the override for \`${match}\` sets nothing; expected \`require_signature\`, \`attest_mode\`, \`digest_ttl\`, \`trusted_signers\` or \`threshold\``,
        location
      })
    }
    overrides.push(override)
  })

  const signers = readSigners(fields.signers)
  const trustedSigners = readNames(fields.trusted_signers, ['policy', 'trusted_signers'])
  const attestations = Array.isArray(fields.attestations)
    ? readRequirements(fields.attestations)
    : undefined
  // A name written under `signers` is defined even when its entry has an
  // error of its own (reported there): no follow-on error where it is used.
  const written = Object.keys(asFields(fields.signers))
  for (const names of [trustedSigners, ...overrides.map(o => o.trustedSigners)]) {
    issues.push(...findUndefinedSigners(names, written, parsed.file))
  }
  for (const requirement of attestations ?? []) {
    issues.push(...findUndefinedSigners(requirement.signers, written, parsed.file))
  }
  const writtenAttestMode = oneOf(fields.attest_mode, ATTEST_MODES)
  const writtenAttestationType = stringOf(fields.attestation_type)
  const attestationTypeProblem =
    writtenAttestationType !== undefined ? predicateTypeProblem(writtenAttestationType) : undefined
  if (attestationTypeProblem)
    issues.push({
      code: 'bad-value',
      message: `${displayPath('/policy/attestation_type')}: ${attestationTypeProblem}`,
      location: at('attestation_type')
    })
  if (attestations && attestations.length > 0 && writtenAttestMode === 'none') {
    warnings.push({
      code: 'requirements-not-checked',
      message: `${displayPath('/policy/attest_mode')}: \`none\` next to ${attestations.length} attestation requirement${attestations.length === 1 ? '' : 's'}; they are not checked`,
      location: at('attest_mode')
    })
  }

  const policy: Policy = {
    mode: oneOf(fields.mode, POLICY_MODES) ?? POLICY_DEFAULTS.mode,
    digestTtlDays: daysOf(fields.digest_ttl) ?? POLICY_DEFAULTS.digestTtlDays,
    workflow: stringOf(fields.workflow) ?? POLICY_DEFAULTS.workflow,
    autoUpdateRef: stringOf(fields.auto_update_ref) ?? POLICY_DEFAULTS.autoUpdateRef,
    requireSignature: booleanOf(fields.require_signature) ?? POLICY_DEFAULTS.requireSignature,
    // A stated requirement is enforced unless the file says otherwise.
    attestMode: writtenAttestMode ?? (attestations ? 'enforce' : POLICY_DEFAULTS.attestMode),
    attestationType: stringOf(fields.attestation_type) || POLICY_DEFAULTS.attestationType,
    ignoreTlog: booleanOf(fields.ignore_tlog) ?? POLICY_DEFAULTS.ignoreTlog,
    tagTemplate: tagTemplate || POLICY_DEFAULTS.tagTemplate,
    cacheTtlHours: daysOf(fields.cache_ttl) ?? POLICY_DEFAULTS.cacheTtlHours,
    registryConcurrency:
      boundedIntegerOf(fields.registry_concurrency, 1, MAX_REGISTRY_CONCURRENCY) ??
      POLICY_DEFAULTS.registryConcurrency,
    overrides,
    locations
  }
  if (fields.signers !== undefined) policy.signers = signers
  if (warnings.length > 0) policy.warnings = warnings
  if (trustedSigners) policy.trustedSigners = trustedSigners
  const minAgeDays = daysOf(fields.min_age_days)
  if (minAgeDays !== undefined) policy.minAgeDays = minAgeDays
  const threshold = thresholdOf(fields.threshold)
  if (threshold !== undefined) policy.threshold = threshold
  if (attestations) policy.attestations = attestations
  const trustedRoot = stringOf(fields.trusted_root)
  if (trustedRoot) policy.trustedRoot = trustedRoot
  if (repository) policy.repository = repository
  return { policy, issues }

  /** The `signers` block: every well-formed entry, and an issue for each one that is not. */
  function readSigners(raw: unknown): Record<string, NamedSigner> {
    const named: Record<string, NamedSigner> = {}
    for (const [name, value] of Object.entries(asFields(raw))) {
      const entry = asFields(value)
      const path = ['signers', name]
      const where = displayPath(toPointer(['policy', ...path]))
      const location = at(...path)
      if (name === UNNAMED_SIGNER) {
        issues.push({
          code: 'reserved-signer-name',
          message: `${where}: \`${UNNAMED_SIGNER}\` is the name of each row's own signer; choose another name`,
          location: locate(parsed, toPointer(['policy', ...path]), 'key')
        })
        continue
      }
      const keyPath = stringOf(entry.key_path)
      const writtenFingerprint = stringOf(entry.key_fingerprint)
      const identity = stringOf(entry.identity)
      const issuer = stringOf(entry.issuer)
      const window = {
        ...(stringOf(entry.valid_from) !== undefined && { validFrom: stringOf(entry.valid_from) }),
        ...(stringOf(entry.valid_until) !== undefined && {
          validUntil: stringOf(entry.valid_until)
        })
      }
      for (const [key, text, end] of [
        ['valid_from', window.validFrom, 'start'],
        ['valid_until', window.validUntil, 'end']
      ] as const) {
        if (text !== undefined && windowInstant(text, end) === undefined) {
          issues.push({
            code: 'bad-window',
            message: `${where}: \`${key}\` expected a date (YYYY-MM-DD) or an RFC 3339 time, found ${JSON.stringify(text)}`,
            location: at(...path, key)
          })
        }
      }
      if (window.validFrom && window.validUntil) {
        const from = windowInstant(window.validFrom, 'start')
        const until = windowInstant(window.validUntil, 'end')
        if (from !== undefined && until !== undefined && from > until) {
          issues.push({
            code: 'bad-window',
            message: `${where}: \`valid_until\` expected a moment after \`valid_from\` (${window.validFrom}), found ${window.validUntil}`,
            location: at(...path, 'valid_until')
          })
        }
      }
      if (entry.github !== undefined) {
        if (keyPath !== undefined || identity !== undefined || issuer !== undefined) {
          issues.push({
            code: 'conflicting-keys',
            message: `${where}: expected one of a key (\`key_path\`), a keyless identity (\`identity\` + \`issuer\`) or \`github\`, found more`,
            location
          })
          continue
        }
        const github = readGitHubSigner(entry.github, [...path, 'github'], where)
        if (github) named[name] = { ...github, name, ...window, location: at(...path, 'github') }
        continue
      }
      if (keyPath !== undefined && (identity !== undefined || issuer !== undefined)) {
        issues.push({
          code: 'conflicting-keys',
          message: `${where}: expected a key (\`key_path\`) or a keyless identity (\`identity\` + \`issuer\`), found both`,
          location
        })
        continue
      }
      if (keyPath !== undefined) {
        const fingerprint =
          writtenFingerprint === undefined ? undefined : normaliseFingerprint(writtenFingerprint)
        if (writtenFingerprint !== undefined && fingerprint === undefined) {
          issues.push({
            code: 'bad-fingerprint',
            message: `${where}: \`key_fingerprint\` expected sha256:<64 hex>, found ${JSON.stringify(writtenFingerprint)}`,
            location: at(...path, 'key_fingerprint')
          })
        }
        named[name] = {
          kind: 'key',
          name,
          keyPath,
          ...(fingerprint !== undefined && { keyFingerprint: fingerprint }),
          ...window,
          location: at(...path, 'key_path')
        }
        continue
      }
      if (identity !== undefined && issuer !== undefined) {
        const identityProblem = findRe2Problem(identity)
        if (identityProblem) {
          issues.push({
            code: 'bad-regexp',
            message: `${where}: \`identity\` expected a regular expression in Go/RE2 syntax; RE2 says: ${identityProblem}`,
            location: at(...path, 'identity')
          })
        } else if (!isStartAnchored(identity))
          warnings.push({
            code: 'unanchored-pattern',
            message: `${where}: ${unanchoredWarning('identity')}`,
            location: at(...path, 'identity')
          })
        const issuerIsRegexp = REGEXP_SYNTAX.test(issuer)
        const issuerProblem = issuerIsRegexp ? findRe2Problem(issuer) : undefined
        if (issuerProblem) {
          issues.push({
            code: 'bad-regexp',
            message: `${where}: \`issuer\` reads as a regular expression, but RE2 cannot compile it: ${issuerProblem}`,
            location: at(...path, 'issuer')
          })
        }
        named[name] = {
          kind: 'keyless',
          name,
          identity,
          issuer,
          issuerIsRegexp,
          ...window,
          location: at(...path, 'key_path')
        }
        continue
      }
      issues.push({
        code: 'missing-key',
        message:
          writtenFingerprint !== undefined
            ? `${where}: a key fingerprint needs the key file too: add \`key_path\``
            : identity !== undefined || issuer !== undefined
              ? `${where}: keyless verification needs both \`identity\` and \`issuer\``
              : `${where}: expected \`key_path\`, or \`identity\` and \`issuer\``,
        location
      })
    }
    return named
  }

  /**
   * A `github` signer (issue 13): `repository` required; `signer_workflow` and
   * `source_ref` RE2 (checked here, as cosign would); `hosted_runners_only`
   * default true; `predicate_type` default SLSA provenance v1. The schema
   * checked the shapes; undefined (with an issue) when unusable.
   */
  function readGitHubSigner(
    raw: unknown,
    path: string[],
    where: string
  ): GitHubSignerExpectation | undefined {
    const fields = asFields(raw)
    const repository = stringOf(fields.repository)
    // The schema reports a missing `repository` (missing-key, at the block).
    if (repository === undefined) return undefined
    const signer: GitHubSignerExpectation = {
      kind: 'github',
      repository,
      hostedRunnersOnly: fields.hosted_runners_only !== false,
      predicateType: stringOf(fields.predicate_type) ?? SLSA_PROVENANCE_V1
    }
    const typeProblem = predicateTypeProblem(signer.predicateType)
    if (typeProblem)
      issues.push({
        code: 'bad-value',
        message: `${where}: \`github.predicate_type\` ${typeProblem}`,
        location: at(...path, 'predicate_type')
      })
    for (const [key, field] of [
      ['signer_workflow', 'signerWorkflow'],
      ['source_ref', 'sourceRef']
    ] as const) {
      const pattern = stringOf(fields[key])
      if (pattern === undefined) continue
      const problem = findRe2Problem(pattern)
      if (problem)
        issues.push({
          code: 'bad-regexp',
          message: `${where}: \`github.${key}\` expected a regular expression in Go/RE2 syntax; RE2 says: ${problem}`,
          location: at(...path, key)
        })
      else if (!isStartAnchored(pattern))
        warnings.push({
          code: 'unanchored-pattern',
          message: `${where}: ${unanchoredWarning(
            `github.${key}`,
            key === 'source_ref'
              ? "the certificate's Source Repository Ref"
              : "the certificate's Build Signer URI"
          )}`,
          location: at(...path, key)
        })
      signer[field] = pattern
    }
    return signer
  }

  /** A list of signer names with the location of each. */
  function readNames(raw: unknown, path: (string | number)[]): SignerNames | undefined {
    if (!Array.isArray(raw)) return undefined
    const names: string[] = []
    const locations: SourceLocation[] = []
    raw.forEach((value, index) => {
      if (typeof value !== 'string' || value === '') return
      names.push(value)
      locations.push(locate(parsed, toPointer([...path, index])))
    })
    return { names, locations, location: locate(parsed, toPointer(path)) }
  }

  /** The `attestations` list, each entry checked (paths, RE2 patterns, time fields). */
  function readRequirements(raw: unknown[]): AttestationRequirement[] {
    const requirements: AttestationRequirement[] = []
    raw.forEach((value, index) => {
      const entry = asFields(value)
      const path = ['attestations', index]
      const where = displayPath(toPointer(['policy', ...path]))
      const type = stringOf(entry.type)
      if (type === undefined || type === '') return
      const typeProblem = predicateTypeProblem(type)
      if (typeProblem)
        issues.push({
          code: 'bad-value',
          message: `${where}: \`type\` ${typeProblem}`,
          location: at(...path, 'type')
        })
      const requirement: AttestationRequirement = { type, where: [], location: at(...path) }
      const signerNames = readNames(entry.signers, ['policy', ...path, 'signers'])
      if (signerNames) requirement.signers = signerNames
      for (const [conditionPath, pattern] of Object.entries(asFields(entry.where))) {
        const keyLocation = locate(
          parsed,
          toPointer(['policy', ...path, 'where', conditionPath]),
          'key'
        )
        if (!isDottedPath(conditionPath)) {
          issues.push({
            code: 'bad-path',
            message: `${where}: \`where\` expected a dotted path in the in-toto statement, starting at predicate, subject, predicateType or _type (e.g. predicate.runDetails.builder.id), found ${JSON.stringify(conditionPath)}`,
            location: keyLocation
          })
          continue
        }
        if (typeof pattern !== 'string') continue
        const problem = findRe2Problem(pattern)
        if (problem) {
          issues.push({
            code: 'bad-regexp',
            message: `${where}: \`where.${conditionPath}\` expected a regular expression in Go/RE2 syntax; RE2 says: ${problem}`,
            location: at(...path, 'where', conditionPath)
          })
          continue
        }
        requirement.where.push({ path: conditionPath, pattern })
      }
      const timeField = stringOf(entry.time_field)
      if (timeField !== undefined && timeField !== '') {
        if (isDottedPath(timeField)) requirement.timeField = timeField
        else
          issues.push({
            code: 'bad-path',
            message: `${where}: \`time_field\` expected a dotted path in the in-toto statement, starting at predicate, subject, predicateType or _type, found ${JSON.stringify(timeField)}`,
            location: at(...path, 'time_field')
          })
      }
      const maxAgeDays = daysOf(entry.max_age_days)
      if (maxAgeDays !== undefined) {
        requirement.maxAgeDays = maxAgeDays
        if (timeField === undefined && timeFieldFor(type, undefined) === undefined) {
          issues.push({
            code: 'missing-time-field',
            message: `${where}: \`max_age_days\` needs \`time_field\` (the statement's time to measure from); ${type} has no default`,
            location: at(...path, 'max_age_days')
          })
        }
      }
      requirements.push(requirement)
    })
    return requirements
  }
}

/** The keys an override may set (at least one). */
const OVERRIDE_SETTINGS = [
  'require_signature',
  'attest_mode',
  'digest_ttl',
  'trusted_signers',
  'threshold'
] as const

function thresholdOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined
}

/** An issue at each use of a signer name the policy's `signers` does not define. */
function findUndefinedSigners(
  names: SignerNames | undefined,
  defined: readonly string[],
  file: string
): ConfigIssue[] {
  if (!names) return []
  return names.names.flatMap((name, i) =>
    defined.includes(name)
      ? []
      : [
          {
            code: 'unknown-signer',
            message: `signer \`${name}\` is not defined under policy.signers${defined.length > 0 ? ` (defined: ${defined.join(', ')})` : ''}`,
            location: names.locations[i] ?? names.location ?? { file, line: 1, column: 1 }
          }
        ]
  )
}
