/**
 * An attestation check that did not run (src/app/trust.ts skippedAttestation)
 * names what would have been looked for: the requirements' types under named
 * signers, else `attestation_type`. Plans read by the real loader.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { skippedAttestation } from '../../src/app/trust.js'
import { planImages } from '../../src/domain/plan.js'
import {
  loadFrom,
  makeWorkspace,
  MINIMAL_MATRIX,
  type ConfigWorkspace
} from '../helpers/config-workspace.js'

let workspace: ConfigWorkspace
beforeAll(async () => {
  workspace = await makeWorkspace()
})
afterAll(async () => {
  await workspace.remove()
})

describe('skippedAttestation', () => {
  it('names the attestation requirements’ types under named signers', async () => {
    const policy = `policy:
  attestations:
    - type: slsaprovenance1
    - type: https://spdx.dev/Document
`
    const [plan] = planImages(await loadFrom(workspace, policy, MINIMAL_MATRIX), {})
    expect(skippedAttestation(plan, 'not checked').predicateType).toBe(
      'slsaprovenance1, https://spdx.dev/Document'
    )
  })

  it('names attestation_type without them', async () => {
    const policy = 'policy:\n  attestation_type: https://spdx.dev/Document\n'
    const [plan] = planImages(await loadFrom(workspace, policy, MINIMAL_MATRIX), {})
    expect(skippedAttestation(plan, 'not checked')).toEqual({
      outcome: 'skipped',
      mode: 'none',
      predicateType: 'https://spdx.dev/Document',
      message: 'not checked'
    })
  })
})
