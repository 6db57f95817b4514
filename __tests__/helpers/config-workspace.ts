/**
 * Temporary workspaces holding a policy and a matrix written from text, for the
 * config tests: the real loader reads real files.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { loadConfig, validateConfigFiles } from '../../src/adapters/fs/config-load.js'
import { ConfigError, type ConfigIssue } from '../../src/domain/errors.js'
import type { Config } from '../../src/domain/types.js'

export const POLICY_PATH = 'ci/rocm_policy.yml'
export const MATRIX_PATH = 'ci/rocm_matrix.yml'

export const MINIMAL_POLICY = 'policy: {}\n'
export const PINNED_DIGEST = `sha256:${'a'.repeat(64)}`
export const MINIMAL_MATRIX = `rocm:
  images:
    - version: "6.4.4"
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
      added: "2026-11-20"
`

export interface ConfigWorkspace {
  root: string
  /** Writes a file (text or bytes) relative to the workspace root. */
  write(path: string, content: string | Uint8Array): Promise<string>
  remove(): Promise<void>
}

export async function makeWorkspace(): Promise<ConfigWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'config-ws-'))
  return {
    root,
    async write(path, content) {
      const full = join(root, path)
      await mkdir(dirname(full), { recursive: true })
      await writeFile(full, content)
      return full
    },
    remove: () => rm(root, { recursive: true, force: true })
  }
}

/** Writes both files into `workspace` and loads them. */
export async function loadFrom(
  workspace: ConfigWorkspace,
  policy: string | Uint8Array,
  matrix: string | Uint8Array
): Promise<Config> {
  await workspace.write(POLICY_PATH, policy)
  await workspace.write(MATRIX_PATH, matrix)
  return loadConfig({ policyPath: POLICY_PATH, matrixPath: MATRIX_PATH, workspace: workspace.root })
}

/** The issues loadConfig throws for these files (empty when it loads). */
export async function issuesFor(
  workspace: ConfigWorkspace,
  policy: string | Uint8Array,
  matrix: string | Uint8Array
): Promise<ConfigIssue[]> {
  try {
    await loadFrom(workspace, policy, matrix)
    return []
  } catch (error: unknown) {
    if (error instanceof ConfigError) return error.issues
    throw error
  }
}

export async function validateIn(workspace: ConfigWorkspace): Promise<ConfigIssue[]> {
  const { issues } = await validateConfigFiles({
    policyPath: POLICY_PATH,
    matrixPath: MATRIX_PATH,
    workspace: workspace.root
  })
  return issues
}
