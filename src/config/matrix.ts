/**
 * `ci/rocm_matrix.yml` → Matrix, pure. Both forms become the same rows: the
 * `rocm.images` list (with `rocm.policy`) and the read-only map keyed by OS label.
 * Adds the checks a schema cannot express: RE2 regular expressions, key/keyless
 * consistency, rotation windows, image references, the preferred row.
 */
import type { ConfigIssue, SourceLocation } from '../domain/errors.js'
import {
  findUnsafeText,
  isDigest,
  parseImageReference,
  parsePin,
  showControlCharacters
} from '../domain/reference.js'
import type {
  Matrix,
  MatrixPreference,
  MatrixRow,
  Pin,
  ProvenanceExpectation,
  ProvenanceRecord
} from '../domain/types.js'
import { normaliseFingerprint, windowInstant } from '../domain/signers.js'
import { findReferenceTemplateProblem } from './policy.js'
import { findRe2Problem, isStartAnchored, REGEXP_SYNTAX, unanchoredWarning } from './regexp.js'
import { predicateTypeProblem } from '../domain/attestations.js'
import { closestMatch, displayPath } from './schema.js'
import { locate, sourceText, toPointer, type ParsedYaml } from './yaml.js'

type Fields = Record<string, unknown>
type Path = (string | number)[]

function asFields(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : {}
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Milliseconds of a window bound (start or end of the day, UTC, for a date), NaN when not a date. */
function instantOf(value: string, end: boolean): number {
  return windowInstant(value, end ? 'end' : 'start') ?? NaN
}

class MatrixReader {
  readonly issues: ConfigIssue[] = []
  /** Problems that do not stop the run (annotations; `validate` prints them). */
  readonly warnings: ConfigIssue[] = []

  constructor(private readonly parsed: ParsedYaml) {}

  at(path: Path, part: 'value' | 'key' = 'value'): SourceLocation {
    return locate(this.parsed, toPointer(path), part)
  }

  issue(code: string, path: Path, message: string, part: 'value' | 'key' = 'value'): void {
    this.issues.push({
      code,
      message: `${displayPath(toPointer(path))}: ${message}`,
      location: this.at(path, part)
    })
  }

  /** A version or OS as written: `6.10` unquoted stays `6.10`. */
  label(value: unknown, path: Path): string | undefined {
    if (typeof value === 'string') return value
    if (typeof value === 'number') return sourceText(this.parsed, toPointer(path)) ?? String(value)
    return undefined
  }

  read(): Matrix {
    const top = asFields(this.parsed.data)
    if ('rocm' in top) return this.readRows(asFields(top.rocm))
    return this.readOsMap(top)
  }

  private readRows(rocm: Fields): Matrix {
    const rows: MatrixRow[] = []
    const images = Array.isArray(rocm.images) ? rocm.images : []
    images.forEach((raw, index) => {
      const row = this.readRow(asFields(raw), ['rocm', 'images', index], index)
      if (row) rows.push(row)
    })
    const matrix: Matrix = { form: 'rows', rows }
    if ('policy' in rocm) matrix.preference = this.readPreference(asFields(rocm.policy), rows)
    return matrix
  }

  private readRow(fields: Fields, path: Path, index: number): MatrixRow | undefined {
    const version = this.label(fields.version, [...path, 'version'])
    const os = stringOf(fields.os)
    if (version === undefined || os === undefined) return undefined
    for (const [key, value] of [
      ['version', version],
      ['os', os]
    ] as const) {
      const problem = findUnsafeText(value)
      if (problem)
        this.issue(
          'bad-reference',
          [...path, key],
          `\`${value}\` ${problem}; it becomes part of the image reference`
        )
    }
    const digestPath = [...path, 'digest']
    const row: MatrixRow = {
      index,
      version,
      os,
      pin: parsePin(typeof fields.digest === 'string' ? fields.digest : ''),
      location: this.at(path),
      digestLocation: this.at(digestPath)
    }
    if (row.pin.kind === 'not-pinned' && row.pin.note !== undefined)
      this.warnings.push({
        code: 'not-a-digest',
        message: `${displayPath(toPointer(digestPath))}: ${JSON.stringify(showControlCharacters(row.pin.raw))} is ${row.pin.note}; the row is not pinned (exit 2) until it holds one`,
        location: this.at(digestPath)
      })
    if (typeof fields.added === 'string') row.added = fields.added

    const image = stringOf(fields.image)
    const repository = stringOf(fields.repository)
    const tag = stringOf(fields.tag)
    if (image !== undefined && repository !== undefined) {
      this.issue(
        'conflicting-keys',
        [...path, 'image'],
        'write either `image` or `repository`, not both',
        'key'
      )
    }
    if (image !== undefined) {
      const reference = parseImageReference(image)
      if ('problem' in reference) {
        this.issue('bad-reference', [...path, 'image'], `\`${image}\`: ${reference.problem}`)
      } else {
        row.repository = reference.repository
        if (reference.tag !== undefined) row.tag = reference.tag
        if (reference.tag !== undefined && tag !== undefined && tag !== reference.tag) {
          this.issue(
            'conflicting-keys',
            [...path, 'tag'],
            `\`${tag}\` differs from the tag in \`image\` (\`${reference.tag}\`)`
          )
        }
        if (reference.digest !== undefined) {
          const imagePin = parsePin(reference.digest)
          if (row.pin.kind === 'not-pinned' && !('digest' in fields)) row.pin = imagePin
          else if (
            imagePin.kind === 'pinned' &&
            row.pin.kind === 'pinned' &&
            imagePin.digest !== row.pin.digest
          ) {
            this.issue(
              'conflicting-keys',
              digestPath,
              `\`digest\` differs from the digest in \`image\` (${imagePin.digest})`
            )
          }
        }
      }
    }
    if (repository !== undefined) {
      const problem = findReferenceTemplateProblem(repository, 'repository')
      if (problem)
        this.issue('bad-reference', [...path, 'repository'], `\`${repository}\` ${problem}`)
      else row.repository = repository
    }
    if (tag !== undefined) {
      const problem = findReferenceTemplateProblem(tag, 'tag')
      if (problem) this.issue('bad-reference', [...path, 'tag'], `\`${tag}\` ${problem}`)
      else row.tag ??= tag
    }
    if ('provenance' in fields) {
      row.provenance = this.readProvenance(asFields(fields.provenance), [...path, 'provenance'])
    }
    return row
  }

  private readProvenance(fields: Fields, path: Path): ProvenanceExpectation {
    const expectation: ProvenanceExpectation = {}
    const locations: Record<string, SourceLocation> = {}
    for (const key of Object.keys(fields)) locations[key] = this.at([...path, key])
    expectation.locations = locations

    const keyPath = stringOf(fields.key_path)
    const expectedKey = stringOf(fields.expected_key)
    const writtenFingerprint = stringOf(fields.key_fingerprint)
    let fingerprint = writtenFingerprint ? normaliseFingerprint(writtenFingerprint) : undefined
    if (expectedKey !== undefined && normaliseFingerprint(expectedKey)) {
      const fromAlias = normaliseFingerprint(expectedKey)
      if (fingerprint && fingerprint !== fromAlias) {
        this.issue(
          'conflicting-keys',
          [...path, 'expected_key'],
          'this fingerprint differs from `key_fingerprint`'
        )
      }
      fingerprint ??= fromAlias
    } else if (expectedKey !== undefined) {
      if (keyPath !== undefined) {
        this.issue(
          'conflicting-keys',
          [...path, 'expected_key'],
          '`expected_key` is an alias of `key_path`; write one of them',
          'key'
        )
      }
      expectation.keyPath = keyPath ?? expectedKey
    }
    if (keyPath !== undefined) expectation.keyPath = keyPath
    if (fingerprint) expectation.keyFingerprint = fingerprint
    if (fingerprint && !expectation.keyPath) {
      const key = writtenFingerprint ? 'key_fingerprint' : 'expected_key'
      this.issue(
        'missing-key',
        [...path, key],
        'a key fingerprint needs the key file too: add `key_path`',
        'key'
      )
    }

    const identity = stringOf(fields.identity)
    const issuer = stringOf(fields.issuer)
    if (identity !== undefined) {
      const problem = findRe2Problem(identity)
      if (problem)
        this.issue(
          'bad-regexp',
          [...path, 'identity'],
          `expected a regular expression in Go/RE2 syntax; RE2 says: ${problem}`
        )
      else if (!isStartAnchored(identity))
        this.warnings.push({
          code: 'unanchored-pattern',
          message: `${displayPath(toPointer([...path, 'identity']))}: ${unanchoredWarning('identity')}`,
          location: this.at([...path, 'identity'])
        })
      expectation.identity = identity
    }
    if (issuer !== undefined) {
      expectation.issuer = issuer
      expectation.issuerIsRegexp = REGEXP_SYNTAX.test(issuer)
      const problem = expectation.issuerIsRegexp ? findRe2Problem(issuer) : undefined
      if (problem)
        this.issue(
          'bad-regexp',
          [...path, 'issuer'],
          `reads as a regular expression, but RE2 cannot compile it: ${problem}`
        )
    }
    if (identity !== undefined && issuer === undefined) {
      this.issue('missing-key', path, 'keyless verification needs `issuer` next to `identity`')
    }
    if (issuer !== undefined && identity === undefined) {
      this.issue('missing-key', path, 'keyless verification needs `identity` next to `issuer`')
    }
    if (expectation.keyPath !== undefined && (identity !== undefined || issuer !== undefined)) {
      this.issue(
        'conflicting-keys',
        path,
        'expected a key (`key_path`) or a keyless identity (`identity` + `issuer`), found both'
      )
    }

    if (typeof fields.require_signature === 'boolean')
      expectation.requireSignature = fields.require_signature
    if (typeof fields.ignore_tlog === 'boolean') expectation.ignoreTlog = fields.ignore_tlog
    const attestationType = stringOf(fields.attestation_type)
    if (attestationType) {
      const problem = predicateTypeProblem(attestationType)
      if (problem) this.issue('bad-value', [...path, 'attestation_type'], problem)
      expectation.attestationType = attestationType
    }
    if (Array.isArray(fields.trusted_signers)) {
      const names: string[] = []
      const nameLocations: SourceLocation[] = []
      fields.trusted_signers.forEach((name, i) => {
        if (typeof name !== 'string' || name === '') return
        names.push(name)
        nameLocations.push(this.at([...path, 'trusted_signers', i]))
      })
      expectation.trustedSigners = {
        names,
        locations: nameLocations,
        location: this.at([...path, 'trusted_signers'])
      }
    }
    if (
      typeof fields.threshold === 'number' &&
      Number.isInteger(fields.threshold) &&
      fields.threshold >= 1
    )
      expectation.threshold = fields.threshold

    const recorded: ProvenanceRecord = {}
    const signerIdentity = stringOf(fields.signer_identity)
    const signerIssuer = stringOf(fields.signer_issuer)
    const attestationDigest = stringOf(fields.attestation_digest)
    if (signerIdentity) recorded.signerIdentity = signerIdentity
    if (signerIssuer) recorded.signerIssuer = signerIssuer
    if (typeof fields.rekor_log_index === 'number') recorded.rekorLogIndex = fields.rekor_log_index
    if (attestationDigest && isDigest(attestationDigest))
      recorded.attestationDigest = attestationDigest
    if (Object.keys(recorded).length > 0) expectation.recorded = recorded

    const validFrom = stringOf(fields.valid_from)
    const validUntil = stringOf(fields.valid_until)
    if (validFrom) expectation.validFrom = validFrom
    if (validUntil) expectation.validUntil = validUntil
    if (validFrom && validUntil) {
      const from = instantOf(validFrom, false)
      const until = instantOf(validUntil, true)
      if (Number.isFinite(from) && Number.isFinite(until) && from > until) {
        this.issue(
          'bad-window',
          [...path, 'valid_until'],
          `expected a moment after \`valid_from\` (${validFrom}), found ${validUntil}`
        )
      }
    }
    return expectation
  }

  private readPreference(fields: Fields, rows: MatrixRow[]): MatrixPreference {
    const path = ['rocm', 'policy']
    const preference: MatrixPreference = {}
    if (Array.isArray(fields.default) && fields.default.length === 2) {
      const version = this.label(fields.default[0], [...path, 'default', 0])
      const os = this.label(fields.default[1], [...path, 'default', 1])
      if (version !== undefined && os !== undefined) {
        preference.default = [version, os]
        if (rows.length > 0 && !rows.some(r => r.version === version && r.os === os)) {
          this.issue(
            'unknown-row',
            [...path, 'default'],
            `names ${version} / ${os}, but no row has that version and os`
          )
        }
      }
    }
    const preferOs = stringOf(fields.prefer_os)
    const fallbackOs = stringOf(fields.fallback_os)
    const fallbackVersion = this.label(fields.fallback_version, [...path, 'fallback_version'])
    if (preferOs) preference.preferOs = preferOs
    if (fallbackOs) preference.fallbackOs = fallbackOs
    if (fallbackVersion) preference.fallbackVersion = fallbackVersion
    return preference
  }

  private readOsMap(top: Fields): Matrix {
    const rows: MatrixRow[] = []
    Object.keys(top).forEach((os, index) => {
      const entry = asFields(top[os])
      const path = [os]
      const written = (['image', 'canonical', 'mirror'] as const).find(k => stringOf(entry[k]))
      if (written === undefined) {
        // A value that is not a mapping at all is the schema check's to report.
        if (top[os] === entry) {
          this.issue(
            'missing-key',
            path,
            'expected an `image` (or `canonical`) reference with a tag',
            'key'
          )
        }
        return
      }
      const image = entry[written] as string
      const reference = parseImageReference(image)
      if ('problem' in reference) {
        this.issue('bad-reference', [...path, written], `\`${image}\`: ${reference.problem}`)
        return
      }
      if (reference.tag === undefined) {
        this.issue(
          'missing-tag',
          [...path, written],
          `expected a reference with a tag, found \`${image}\``
        )
        return
      }
      const suffix = `-${os}`
      const version =
        reference.tag.endsWith(suffix) && reference.tag.length > suffix.length
          ? reference.tag.slice(0, -suffix.length)
          : reference.tag
      // `sha256` here is the SHA-256 of the saved image tarball (`tarball`), not a
      // registry manifest digest (clamp-ci-files.md): the entry is tag-only, and
      // the hash is never combined into `repository@sha256:<hash>`.
      const tarballHash = typeof entry.sha256 === 'string' ? entry.sha256 : ''
      const pin: Pin =
        reference.digest !== undefined
          ? parsePin(reference.digest)
          : tarballHash === ''
            ? { kind: 'not-pinned', raw: '' }
            : {
                kind: 'not-pinned',
                raw: tarballHash,
                note: 'the OS-keyed form records `sha256` of the saved image tarball, not a registry digest'
              }
      const row: MatrixRow = {
        index,
        version,
        os,
        repository: reference.repository,
        tag: reference.tag,
        pin,
        location: this.at(path, 'key'),
        digestLocation: this.at([...path, 'sha256'])
      }
      const timestamp = stringOf(entry.timestamp)
      if (timestamp && Number.isFinite(Date.parse(timestamp))) row.added = timestamp.slice(0, 10)
      rows.push(row)
    })
    return { form: 'os-map', rows }
  }
}

/**
 * A file whose top-level key is a misspelt `rocm` holding `images` would read as
 * the OS-keyed form and drown in follow-on errors; this names the one real mistake.
 */
export function findMisspeltRocm(parsed: ParsedYaml): ConfigIssue | undefined {
  const top = asFields(parsed.data)
  if ('rocm' in top) return undefined
  const key = Object.keys(top).find(k => closestMatch(k, ['rocm']) && 'images' in asFields(top[k]))
  if (key === undefined) return undefined
  return {
    code: 'unknown-key',
    message: `unknown key \`${key}\` in the document; did you mean \`rocm\`?`,
    location: locate(parsed, toPointer([key]), 'key')
  }
}

/** Reads the matrix in either form; schema errors are reported by the schema check, not here. */
export function readMatrix(parsed: ParsedYaml): { matrix: Matrix; issues: ConfigIssue[] } {
  const reader = new MatrixReader(parsed)
  const matrix = reader.read()
  if (reader.warnings.length > 0) matrix.warnings = reader.warnings
  return { matrix, issues: reader.issues }
}
