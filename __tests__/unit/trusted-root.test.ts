/**
 * What a trusted root file must be before cosign is given it
 * (src/config/trusted-root.ts), and the configuration error a wrong one is,
 * at the line of `trusted_root`, read by the real loader from real files.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { trustedRootProblem } from '../../src/config/trusted-root.js'
import {
  issuesFor,
  makeWorkspace,
  MINIMAL_MATRIX,
  POLICY_PATH,
  type ConfigWorkspace
} from '../helpers/config-workspace.js'

const ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  certificateAuthorities: [{ uri: 'https://fulcio.githubapp.com' }],
  timestampAuthorities: [{ uri: 'https://timestamp.githubapp.com' }]
}

describe('trustedRootProblem', () => {
  it('accepts one trusted root document, with JSON or protobuf field names', () => {
    expect(trustedRootProblem(JSON.stringify(ROOT, null, 2))).toBeUndefined()
    expect(
      trustedRootProblem(JSON.stringify({ certificate_authorities: [{ uri: 'x' }] }))
    ).toBeUndefined()
  })

  it.each([
    [
      'JSON Lines as `gh attestation trusted-root` writes them',
      `${JSON.stringify({ ...ROOT, tlogs: [{}] })}\n${JSON.stringify(ROOT)}\n`,
      /holds 2 JSON documents, one per line .*keep only the line/
    ],
    ['text that is not JSON', '-----BEGIN PUBLIC KEY-----', /is not JSON \(/],
    ['a JSON list', '[]', /expected one JSON object/],
    [
      'another document type',
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
      /its mediaType is "application\/vnd\.dev\.sigstore\.bundle\.v0\.3\+json"/
    ],
    ['an object naming no authority', JSON.stringify({ tlogs: [] }), /lists no tlogs/]
  ])('refuses %s', (_what, text, problem) => {
    expect(trustedRootProblem(text)).toMatch(problem)
  })
})

describe('a trusted_root that is not one', () => {
  let workspace: ConfigWorkspace
  beforeAll(async () => {
    workspace = await makeWorkspace()
  })
  afterAll(async () => {
    await workspace.remove()
  })

  it('is a configuration error at the line of trusted_root', async () => {
    await workspace.write(
      'ci/github_trusted_root.jsonl',
      `${JSON.stringify(ROOT)}\n${JSON.stringify(ROOT)}\n`
    )
    const issues = await issuesFor(
      workspace,
      'policy:\n  mode: strict\n  trusted_root: ci/github_trusted_root.jsonl\n',
      MINIMAL_MATRIX
    )
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'bad-file',
        location: expect.objectContaining({ file: POLICY_PATH, line: 3 })
      })
    ])
    expect(issues[0].message).toContain(
      '`policy.trusted_root`: `ci/github_trusted_root.jsonl` holds 2 JSON documents'
    )
  })
})
