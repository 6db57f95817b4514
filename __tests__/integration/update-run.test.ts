import { describe, expect, it } from '@jest/globals'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import type { Policy } from '../../src/domain/types.js'
import { MatrixEditError } from '../../src/config/matrix-edit.js'
import { runUpdate } from '../../src/app/update.js'
import { toolPath } from '../helpers/tools.js'

const POLICY: Policy = {
  mode: 'strict',
  digestTtlDays: 7,
  workflow: 'update-rocm.yml',
  autoUpdateRef: 'main',
  requireSignature: true,
  attestMode: 'none',
  attestationType: 'https://slsa.dev/provenance/v1',
  ignoreTlog: true,
  tagTemplate: '{version}-{os}',
  cacheTtlHours: 24,
  registryConcurrency: 8,
  overrides: [],
  locations: {}
}

/** The real adapters; no test here gets as far as calling them. */
function adapters(): { registry: RegistryClient; verifier: CosignVerifier } {
  return {
    registry: new RegistryClient({
      credentials: createCredentialStore({ dockerConfigDir: '/nonexistent' }),
      insecureRegistries: []
    }),
    verifier: new CosignVerifier({
      cosignPath: toolPath('cosign'),
      workspace: '/nonexistent',
      insecureRegistries: []
    })
  }
}

describe('runUpdate', () => {
  describe('when the matrix is in the OS-keyed map form', () => {
    it('refuses before contacting anything, naming the form', async () => {
      const osMap = `ubuntu-22.04:\n  image: ghcr.io/rocm/dev:6.4.4-ubuntu-22.04\n  sha256: ${'a'.repeat(64)}\n  timestamp: "2026-11-20T00:00:00Z"\n`
      const run = runUpdate({
        plans: [],
        matrixText: osMap,
        matrixPath: 'ci/rocm_matrix.yml',
        policy: POLICY,
        ...adapters(),
        now: new Date('2026-11-26T00:00:00Z'),
        discover: true
      })
      await expect(run).rejects.toThrow(MatrixEditError)
      await expect(run).rejects.toMatchObject({ code: 'MATRIX_READ_ONLY_FORM' })
    })
  })

  describe('when there is nothing to check', () => {
    it('returns the text unchanged and says so in the body', async () => {
      const text = 'rocm:\n  images:\n    - version: "6.4.4"   # kept\n      os: ubuntu-22.04\n'
      const result = await runUpdate({
        plans: [],
        matrixText: text,
        matrixPath: 'ci/rocm_matrix.yml',
        policy: POLICY,
        ...adapters(),
        now: new Date('2026-11-26T00:00:00Z'),
        discover: false
      })
      expect(result).toEqual({
        matrixText: text,
        changed: false,
        updated: [],
        rejected: [],
        prBody: expect.stringContaining('nothing to change')
      })
    })
  })
})
