/**
 * A throwaway workspace with ci/rocm_policy.yml, ci/rocm_matrix.yml (one row
 * per image, pinned today) and, optionally, the public key rows name.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { KeyPair } from './images.js'

export const TODAY = new Date().toISOString().slice(0, 10)

export interface Row {
  tag: string
  digest: string
  keyPath?: string
}

/** `registry` is anything with a `host` (a test registry, or a proxy in front of one). */
export function workspaceWith(
  registry: { host: string },
  policy: string,
  rows: Row[],
  key?: KeyPair
): string {
  const workspace = mkdtempSync(join(tmpdir(), 'rp-workspace-'))
  mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
  if (key) copyFileSync(key.publicKey, join(workspace, 'ci', 'keys', 'release.pub'))
  writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy)
  const matrix = [
    'rocm:',
    '  images:',
    ...rows.flatMap(row => {
      const [version, os] = [
        row.tag.slice(0, row.tag.indexOf('-')),
        row.tag.slice(row.tag.indexOf('-') + 1)
      ]
      return [
        `    - version: "${version}"`,
        `      os: "${os}"`,
        `      repository: ${registry.host}/rocm/dev`,
        `      digest: "${row.digest}"`,
        `      added: "${TODAY}"`,
        ...(row.keyPath ? ['      provenance:', `        key_path: ${row.keyPath}`] : [])
      ]
    })
  ]
  writeFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), matrix.join('\n') + '\n')
  return workspace
}

export const STRICT_POLICY = [
  'policy:',
  '  mode: strict',
  '  digest_ttl: 7',
  '  require_signature: true',
  '  ignore_tlog: true',
  ''
].join('\n')
