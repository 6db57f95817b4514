/**
 * Validates a document against schemas/provenance.schema.json with ajv's
 * draft 2020-12 validator and the standard formats, for any suite that
 * produces a real rocm_provenance.json (unit, integration, end-to-end).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { PROJECT_ROOT } from './tools.js'

export const PROVENANCE_SCHEMA: Record<string, unknown> = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'schemas', 'provenance.schema.json'), 'utf8')
)

// CommonJS modules: under NodeNext their exports are the namespace's `default`.
const ajv = new Ajv2020.default({ allErrors: true, strict: true })
addFormats.default(ajv)
const validate = ajv.compile(PROVENANCE_SCHEMA)

/** The schema's complaints about a document, as `path: message` lines; empty when it is valid. */
export function reportSchemaErrors(document: unknown): string[] {
  if (validate(document)) return []
  return (validate.errors ?? []).map(
    error => `${error.instancePath || '/'}: ${error.message ?? 'invalid'}`
  )
}
