import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { POLICY_DEFAULTS } from '../../src/config/policy.js'
import {
  closestMatch,
  describeValue,
  displayPath,
  editDistance,
  validateAgainstSchema
} from '../../src/config/schema.js'
import { parseYaml } from '../../src/config/yaml.js'
import { Ajv2020 } from 'ajv/dist/2020.js'
import policySchema from '../../schemas/policy.schema.json' with { type: 'json' }
import matrixSchema from '../../schemas/matrix.schema.json' with { type: 'json' }
import { GENERATED_VALIDATORS, validatorsSource } from '../../scripts/schema-validators.mjs'
import addFormatsPlugin from 'ajv-formats'

type Schema = Record<string, unknown>

/** Every property schema in `schema`, with its JSON path. */
function propertiesOf(schema: unknown, path = '#'): [string, Schema][] {
  if (typeof schema !== 'object' || schema === null) return []
  const found: [string, Schema][] = []
  for (const [key, value] of Object.entries(schema as Schema)) {
    if (key === 'properties') {
      for (const [name, property] of Object.entries(value as Schema)) {
        if (typeof property === 'object')
          found.push([`${path}/properties/${name}`, property as Schema])
      }
    }
    found.push(...propertiesOf(value, `${path}/${key}`))
  }
  return found
}

describe('the published schemas', () => {
  it.each([
    ['policy', policySchema],
    ['matrix', matrixSchema]
  ])('%s: draft 2020-12, and every key has a description', (_name, schema) => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    const properties = propertiesOf(schema)
    expect(properties.length).toBeGreaterThan(10)
    const undocumented = properties
      .filter(([, property]) => typeof property.description !== 'string')
      .map(([path]) => path)
    expect(undocumented).toEqual([])
  })

  it('policy defaults in the schema agree with the code', () => {
    const keys = policySchema.properties.policy.properties
    expect({
      mode: keys.mode.default,
      digestTtlDays: keys.digest_ttl.default,
      workflow: keys.workflow.default,
      autoUpdateRef: keys.auto_update_ref.default,
      requireSignature: keys.require_signature.default,
      attestMode: keys.attest_mode.default,
      attestationType: keys.attestation_type.default,
      ignoreTlog: keys.ignore_tlog.default,
      tagTemplate: keys.tag_template.default
    }).toEqual(POLICY_DEFAULTS)
  })

  it.each([
    ['examples/ci/rocm_policy.yml', 'policy'],
    ['examples/ci/rocm_matrix.yml', 'matrix']
  ] as const)('%s names its schema for editors and passes it', (file, schema) => {
    const text = readFileSync(file, 'utf8')
    const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)
    expect(line).not.toBeNull()
    const schemaFile = join(dirname(file), line?.[1] ?? '')
    expect(existsSync(schemaFile)).toBe(true)
    expect(JSON.parse(readFileSync(schemaFile, 'utf8')).title).toContain(
      schema === 'policy' ? 'policy' : 'matrix'
    )
    expect(validateAgainstSchema(schema, parseYaml(new TextEncoder().encode(text), file))).toEqual(
      []
    )
  })

  it('reports each failing anyOf once, not once per branch', () => {
    const text =
      'rocm:\n  images:\n    - version: "1"\n      os: a\n      provenance:\n        valid_until: soon\n'
    const issues = validateAgainstSchema(
      'matrix',
      parseYaml(new TextEncoder().encode(text), 'm.yml')
    )
    expect(issues).toEqual([
      {
        code: 'bad-format',
        message:
          '`rocm.images[0].provenance.valid_until`: expected a date YYYY-MM-DD or a date and time (RFC 3339, e.g. 2026-11-20T10:00:00Z), found the text "soon"',
        location: { file: 'm.yml', line: 6, column: 22 }
      }
    ])
  })

  it('reads a file without `rocm` as the OS-keyed form', () => {
    const text = 'ubuntu-22.04:\n  image: 5\n'
    const issues = validateAgainstSchema(
      'matrix',
      parseYaml(new TextEncoder().encode(text), 'm.yml')
    )
    expect(issues).toEqual([
      {
        code: 'wrong-type',
        message: '`ubuntu-22.04.image`: expected text, found the number 5',
        location: { file: 'm.yml', line: 2, column: 10 }
      }
    ])
  })
})

describe('wording', () => {
  it.each([
    ['', 'the document'],
    ['/policy/digest_ttl', '`policy.digest_ttl`'],
    ['/rocm/images/3/provenance', '`rocm.images[3].provenance`'],
    ['/a~1b/c~0d', '`a/b.c~d`']
  ])('names %j as %s', (pointer, text) => {
    expect(displayPath(pointer)).toBe(text)
  })

  it.each([
    [null, 'nothing (null)'],
    ['x', 'the text "x"'],
    ['y'.repeat(100), `the text "${'y'.repeat(57)}..."`],
    [3, 'the number 3'],
    [false, 'false'],
    [[1, 2], 'a list of 2 items'],
    [{}, 'a mapping']
  ])('describes %j as %s', (value, text) => {
    expect(describeValue(value)).toBe(text)
  })

  it.each([
    ['require_signatures', ['require_signature', 'attest_mode'], 'require_signature'],
    ['require_sig', ['require_signature', 'mode'], 'require_signature'],
    ['rcom', ['rocm'], 'rocm'],
    ['Mode', ['mode'], 'mode'],
    ['colour', ['mode', 'workflow'], undefined],
    ['x', ['os'], undefined]
  ])('suggests for %s among %j: %s', (word, candidates, suggestion) => {
    expect(closestMatch(word, candidates)).toBe(suggestion)
  })

  it('counts a transposition as one edit', () => {
    expect(editDistance('rcom', 'rocm')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
  })
})

describe('the published schemas', () => {
  it.each([
    ['policy', policySchema],
    ['matrix', matrixSchema]
  ])('%s compiles in ajv strict mode against the draft 2020-12 meta-schema', (_name, schema) => {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true })
    ;(addFormatsPlugin as unknown as typeof addFormatsPlugin.default)(ajv, ['date', 'date-time'])
    expect(ajv.validateSchema(schema)).toBe(true)
    expect(() => ajv.compile(schema)).not.toThrow()
  })
})

describe('the validators compiled at build time', () => {
  it('are up to date with the schemas (run `npm run build` after changing a schema)', () => {
    expect(readFileSync(GENERATED_VALIDATORS, 'utf8')).toBe(validatorsSource())
  })
})
