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
import {
  DEFAULT_TAG_TEMPLATE,
  SLSA_PROVENANCE_V1,
  type AttestMode,
  type Policy,
  type PolicyMode,
  type PolicyOverride
} from '../domain/types.js'
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
export const MAX_REGISTRY_CONCURRENCY = 64

export const POLICY_MODES: readonly PolicyMode[] = ['strict', 'warn', 'auto_update']
export const ATTEST_MODES: readonly AttestMode[] = ['none', 'record', 'enforce']

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
    if (!('require_signature' in entry || 'attest_mode' in entry || 'digest_ttl' in entry)) {
      issues.push({
        code: 'empty-override',
        message: `${where}: the override for \`${match}\` sets nothing; expected \`require_signature\`, \`attest_mode\` or \`digest_ttl\``,
        location
      })
    }
    overrides.push(override)
  })

  const policy: Policy = {
    mode: oneOf(fields.mode, POLICY_MODES) ?? POLICY_DEFAULTS.mode,
    digestTtlDays: daysOf(fields.digest_ttl) ?? POLICY_DEFAULTS.digestTtlDays,
    workflow: stringOf(fields.workflow) ?? POLICY_DEFAULTS.workflow,
    autoUpdateRef: stringOf(fields.auto_update_ref) ?? POLICY_DEFAULTS.autoUpdateRef,
    requireSignature: booleanOf(fields.require_signature) ?? POLICY_DEFAULTS.requireSignature,
    attestMode: oneOf(fields.attest_mode, ATTEST_MODES) ?? POLICY_DEFAULTS.attestMode,
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
  const trustedRoot = stringOf(fields.trusted_root)
  if (trustedRoot) policy.trustedRoot = trustedRoot
  if (repository) policy.repository = repository
  return { policy, issues }
}
