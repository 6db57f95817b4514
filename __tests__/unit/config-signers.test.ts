/**
 * Issue 18's configuration: named signers, trusted_signers, threshold and
 * attestation requirements, read by the real loader from real files; every
 * config error at the line and column of the offending value.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { generateKeyPairSync } from 'node:crypto'
import { ConfigError } from '../../src/domain/errors.js'
import { configWarnings, planImages } from '../../src/domain/plan.js'
import { isStartAnchored } from '../../src/config/regexp.js'
import {
  issuesFor,
  loadFrom,
  makeWorkspace,
  MATRIX_PATH,
  MINIMAL_MATRIX,
  PINNED_DIGEST,
  POLICY_PATH,
  type ConfigWorkspace
} from '../helpers/config-workspace.js'

const PUBLIC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString()

const SIGNERS = `policy:
  signers:
    release-2025:
      key_path: ci/keys/old.pub
      valid_until: 2026-06-30
    release-2026:
      key_path: ci/keys/new.pub
      valid_from: 2026-06-01
    images-ci:
      identity: '^https://github\\.com/rocm/images/\\.github/workflows/release\\.yml@refs/tags/v.*$'
      issuer: https://token.actions.githubusercontent.com
`

function matrixWithProvenance(provenance: string): string {
  return `rocm:
  images:
    - version: "6.4.4"
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
      provenance:
${provenance}`
}

let workspace: ConfigWorkspace
beforeAll(async () => {
  workspace = await makeWorkspace()
  await workspace.write('ci/keys/old.pub', PUBLIC_KEY)
  await workspace.write('ci/keys/new.pub', PUBLIC_KEY)
  await workspace.write('ci/keys/row.pub', PUBLIC_KEY)
})
afterAll(async () => {
  await workspace.remove()
})

/**
 * `file:line:column code` of each issue the run would stop on (loading, then
 * planning, as the pipeline does), for compact assertions.
 */
async function placed(policy: string, matrix: string): Promise<string[]> {
  let issues = await issuesFor(workspace, policy, matrix)
  if (issues.length === 0) {
    try {
      planImages(await loadFrom(workspace, policy, matrix), {})
    } catch (error: unknown) {
      if (!(error instanceof ConfigError)) throw error
      issues = error.issues
    }
  }
  return issues.map(
    issue =>
      `${issue.location?.file}:${issue.location?.line}:${issue.location?.column} ${issue.code}`
  )
}

describe('the policy file with signers', () => {
  it('reads named signers, trusted_signers, threshold and requirements', async () => {
    const config = await loadFrom(
      workspace,
      `${SIGNERS}  trusted_signers: [release-2025, release-2026]
  threshold: 1
  attestations:
    - type: https://slsa.dev/provenance/v1
      signers: [images-ci]
      where:
        predicate.runDetails.builder.id: '^https://github\\.com/rocm/'
    - type: https://spdx.dev/Document
    - type: https://cosign.sigstore.dev/attestation/vuln/v1
      max_age_days: 7
`,
      MINIMAL_MATRIX
    )
    const { policy } = config
    expect(Object.keys(policy.signers ?? {})).toEqual(['release-2025', 'release-2026', 'images-ci'])
    expect(policy.signers?.['release-2025']).toMatchObject({
      kind: 'key',
      keyPath: 'ci/keys/old.pub',
      validUntil: '2026-06-30'
    })
    expect(policy.signers?.['images-ci']).toMatchObject({ kind: 'keyless', issuerIsRegexp: false })
    expect(policy.trustedSigners?.names).toEqual(['release-2025', 'release-2026'])
    expect(policy.threshold).toBe(1)
    // A stated requirement is enforced unless the file says otherwise.
    expect(policy.attestMode).toBe('enforce')
    expect(policy.attestations?.map(a => a.type)).toHaveLength(3)

    const [plan] = planImages(config, {})
    expect(plan.trustModel).toBe('signers')
    expect(plan.signers?.map(s => s.name)).toEqual(['release-2025', 'release-2026'])
    expect(plan.threshold).toBe(1)
    expect(plan.requirements?.map(r => [r.type, r.signers.map(s => s.name), r.timeField])).toEqual([
      ['https://slsa.dev/provenance/v1', ['images-ci'], undefined],
      ['https://spdx.dev/Document', ['release-2025', 'release-2026'], undefined],
      [
        'https://cosign.sigstore.dev/attestation/vuln/v1',
        ['release-2025', 'release-2026'],
        'predicate.metadata.scanFinishedOn'
      ]
    ])
  })

  it('without signers plans exactly the row signer as before (trust model row-signer)', async () => {
    const config = await loadFrom(
      workspace,
      'policy:\n  attest_mode: record\n',
      matrixWithProvenance('        key_path: ci/keys/row.pub\n')
    )
    expect(config.policy.signers).toBeUndefined()
    const [plan] = planImages(config, {})
    expect(plan.trustModel).toBe('row-signer')
    expect(plan.signers?.map(s => s.name)).toEqual(['provenance'])
    expect(plan.threshold).toBe(1)
    expect(plan.requirements).toEqual([
      { type: 'https://slsa.dev/provenance/v1', signers: plan.signers, where: [] }
    ])
  })

  it('gives a row its own trusted_signers plus its unnamed signer, the row threshold winning', async () => {
    const config = await loadFrom(
      workspace,
      `${SIGNERS}  trusted_signers: [release-2025]
  overrides:
    - match: "ghcr.io/*"
      trusted_signers: [release-2026]
      threshold: 1
`,
      matrixWithProvenance(
        '        key_path: ci/keys/row.pub\n        trusted_signers: [images-ci]\n        threshold: 2\n'
      )
    )
    const [plan] = planImages(config, {})
    expect(plan.signers?.map(s => s.name)).toEqual(['images-ci', 'provenance'])
    expect(plan.threshold).toBe(2)
  })

  it('takes the override over the policy', async () => {
    const config = await loadFrom(
      workspace,
      `${SIGNERS}  trusted_signers: [release-2025]
  overrides:
    - match: "ghcr.io/*"
      trusted_signers: [release-2025, release-2026]
      threshold: 2
`,
      MINIMAL_MATRIX
    )
    const [plan] = planImages(config, {})
    expect(plan.signers?.map(s => s.name)).toEqual(['release-2025', 'release-2026'])
    expect(plan.threshold).toBe(2)
  })

  it('warns (not an error) about identity patterns not anchored with ^, at their line', async () => {
    const config = await loadFrom(
      workspace,
      `policy:
  signers:
    keyless-bare:
      identity: 'https://github\\.com/rocm/images/'
      issuer: https://token.actions.githubusercontent.com
    keyless-flagged:
      identity: '(?i)^https://github\\.com/rocm/images/'
      issuer: https://token.actions.githubusercontent.com
    keyless-a:
      identity: '\\Ahttps://github\\.com/rocm/images/'
      issuer: https://token.actions.githubusercontent.com
    gh:
      github:
        repository: rocm/images
        signer_workflow: 'https://github\\.com/rocm/images/\\.github/workflows/release\\.yml@refs/heads/main'
        source_ref: refs/heads/main
  trusted_signers: [keyless-bare, keyless-flagged, keyless-a, gh]
`,
      `rocm:
  images:
    - version: "6.4.4"
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
      provenance:
        identity: 'release\\.yml@refs/tags/v'
        issuer: https://token.actions.githubusercontent.com
`
    )
    const all = configWarnings(config).map(
      w => `${w.location?.file}:${w.location?.line} ${w.code} ${w.message.split(':')[0]}`
    )
    expect(all).toEqual([
      `${POLICY_PATH}:4 unanchored-pattern \`policy.signers.keyless-bare\``,
      `${POLICY_PATH}:15 unanchored-pattern \`policy.signers.gh\``,
      `${POLICY_PATH}:16 unanchored-pattern \`policy.signers.gh\``,
      `${MATRIX_PATH}:7 unanchored-pattern \`rocm.images[0].provenance.identity\``
    ])
    expect(configWarnings(config)[2].message).toContain(
      "`github.source_ref` is not anchored with `^`: it matches anywhere in the certificate's Source Repository Ref"
    )
  })

  it.each([
    ['^a', true],
    ['(?i)^a', true],
    ['\\Aa', true],
    ['^a|^b', true],
    ['(?i)^a|\\Ab', true],
    ['^(a|b)', true],
    ['(?:^a|^b)c', true],
    ['(^a)|^b', true],
    ['^[|]a|^b', true],
    ['^a\\|b', true],
    ['^\\Qa|b\\E', true],
    ['(?m)\\Aa', true],
    ['a', false],
    ['^a|b', false],
    ['(?i)^a|b', false],
    ['(?i)x|^y', false],
    ['^a|', false],
    ['(?:^a|b)c', false],
    ['^a|(b)', false],
    ['[|^]a', false],
    ['\\Q^a\\E', false],
    ['(?m)^a', false],
    ['(?m:^a)', false]
  ])('a pattern anchored at its start in every alternative: %s → %s', (pattern, anchored) => {
    expect(isStartAnchored(pattern)).toBe(anchored)
  })

  it('warns about an override no image takes, at its line', async () => {
    const config = await loadFrom(
      workspace,
      `policy:
  overrides:
    - match: 'ghcr.io/rocm/dev:*'
      digest_ttl: 30
    - match: 'mirror.example/rocm/dev:*'
      threshold: 1
    - match: 'ghcr.io/rocm/*'
      digest_ttl: 60
`,
      MINIMAL_MATRIX
    )
    expect(configWarnings(config).map(w => `${w.location?.line} ${w.code} ${w.message}`)).toEqual([
      `5 unused-override override "mirror.example/rocm/dev:*" applies to no image: no row's repository:tag matches it`,
      `7 unused-override override "ghcr.io/rocm/*" applies to no image: no row's repository:tag matches it that a more specific override does not take`
    ])
  })

  it('warns (not an error) about attest_mode none next to requirements', async () => {
    const config = await loadFrom(
      workspace,
      `policy:\n  attest_mode: none\n  attestations:\n    - type: https://spdx.dev/Document\n`,
      MINIMAL_MATRIX
    )
    expect(config.policy.attestMode).toBe('none')
    expect(config.policy.warnings).toEqual([
      expect.objectContaining({
        code: 'requirements-not-checked',
        location: { file: POLICY_PATH, line: 2, column: 16 }
      })
    ])
  })
})

describe('config errors (exit 4) at the line of the offending value', () => {
  it('a signer with an error of its own is not also "not defined" where it is used', async () => {
    expect(
      await placed(
        `policy:
  signers:
    both:
      key_path: ci/keys/k.pub
      github:
        repository: rocm/images
  trusted_signers: [both, nobody]
`,
        MINIMAL_MATRIX
      )
    ).toEqual([`${POLICY_PATH}:4:7 conflicting-keys`, `${POLICY_PATH}:7:27 unknown-signer`])
  })

  it('a predicate type that is neither a URI nor a cosign shorthand, wherever it is written', async () => {
    expect(
      await placed(
        `policy:
  attestation_type: slsa-provenance-v1
  signers:
    gh:
      github:
        repository: rocm/images
        predicate_type: SLSA
  trusted_signers: [gh]
  attestations:
    - type: slsaprovenance1
    - type: sbom
`,
        `rocm:
  images:
    - version: "6.4.4"
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
      provenance:
        attestation_type: provenance
`
      )
    ).toEqual([
      `${POLICY_PATH}:2:21 bad-value`,
      `${POLICY_PATH}:7:25 bad-value`,
      `${POLICY_PATH}:11:13 bad-value`,
      `${MATRIX_PATH}:7:27 bad-value`
    ])
    const [issue] = await issuesFor(
      workspace,
      'policy:\n  attestations:\n    - type: sbom\n',
      MINIMAL_MATRIX
    )
    expect(issue.message).toBe(
      '`policy.attestations[0]`: `type` expected a predicate type URI (e.g. https://slsa.dev/provenance/v1) or one of cosign\'s --type shorthands (slsaprovenance, slsaprovenance02, slsaprovenance1, custom, vuln, spdx, spdxjson, cyclonedx, link, openvex), found "sbom"'
    )
  })

  it('a name used but not defined: in trusted_signers, an override, a requirement', async () => {
    expect(
      await placed(
        `${SIGNERS}  trusted_signers: [release-2025, release-2027]
  overrides:
    - match: "ghcr.io/*"
      trusted_signers:
        - nobody
  attestations:
    - type: https://spdx.dev/Document
      signers: [images-cd]
`,
        MINIMAL_MATRIX
      )
    ).toEqual([
      `${POLICY_PATH}:12:35 unknown-signer`,
      `${POLICY_PATH}:16:11 unknown-signer`,
      `${POLICY_PATH}:19:17 unknown-signer`
    ])
  })

  it('a name used but not defined, in a matrix row', async () => {
    expect(
      await placed(
        SIGNERS,
        matrixWithProvenance('        trusted_signers: [release-2025, ghost]\n')
      )
    ).toEqual([`${MATRIX_PATH}:7:41 unknown-signer`])
  })

  it('a threshold above the number of signers it can count (policy, override, row)', async () => {
    expect(
      await placed(
        `${SIGNERS}  trusted_signers: [release-2025, release-2026]\n  threshold: 3\n`,
        MINIMAL_MATRIX
      )
    ).toEqual([`${POLICY_PATH}:13:3 threshold-unreachable`])
    expect(
      await placed(
        `${SIGNERS}  trusted_signers: [release-2025]\n  overrides:\n    - match: "ghcr.io/*"\n      threshold: 2\n`,
        MINIMAL_MATRIX
      )
    ).toEqual([`${POLICY_PATH}:15:18 threshold-unreachable`])
    expect(
      await placed(
        SIGNERS,
        matrixWithProvenance(
          '        trusted_signers: [release-2025]\n        key_path: ci/keys/row.pub\n        threshold: 3\n'
        )
      )
    ).toEqual([`${MATRIX_PATH}:9:20 threshold-unreachable`])
  })

  it('a where path that is not a dotted path, and a regex RE2 cannot compile', async () => {
    expect(
      await placed(
        `policy:
  attestations:
    - type: https://slsa.dev/provenance/v1
      where:
        "predicate..builder": '^x$'
        predicate.buildType: '(?=x)'
        runDetails.builder.id: '^https://github\\.com/'
      time_field: metadata.finishedOn
`,
        MINIMAL_MATRIX
      )
    ).toEqual([
      `${POLICY_PATH}:5:9 bad-path`,
      `${POLICY_PATH}:6:30 bad-regexp`,
      `${POLICY_PATH}:7:9 bad-path`,
      `${POLICY_PATH}:8:19 bad-path`
    ])
  })

  it('a max_age_days without a known or given time_field', async () => {
    expect(
      await placed(
        `policy:\n  attestations:\n    - type: https://spdx.dev/Document\n      max_age_days: 7\n`,
        MINIMAL_MATRIX
      )
    ).toEqual([`${POLICY_PATH}:4:21 missing-time-field`])
    // Given, or known for the vulnerability type: fine.
    expect(
      await placed(
        `policy:\n  attestations:\n    - type: https://spdx.dev/Document\n      max_age_days: 7\n      time_field: predicate.creationInfo.created\n    - type: https://cosign.sigstore.dev/attestation/vuln/v1\n      max_age_days: 7\n`,
        MINIMAL_MATRIX
      )
    ).toEqual([])
  })

  it('an unknown key in any new block', async () => {
    const issues = await issuesFor(
      workspace,
      `policy:
  signers:
    a:
      key_path: ci/keys/old.pub
      valid_untill: 2026-01-01
  attestations:
    - type: https://spdx.dev/Document
      max_age: 3
  overrides:
    - match: "*"
      threshhold: 1
`,
      matrixWithProvenance('        key_path: ci/keys/row.pub\n        trusted_signer: [a]\n')
    )
    expect(
      issues.map(i => `${i.location?.file}:${i.location?.line}:${i.location?.column} ${i.code}`)
    ).toEqual(
      expect.arrayContaining([
        `${POLICY_PATH}:5:7 unknown-key`,
        `${POLICY_PATH}:8:7 unknown-key`,
        `${POLICY_PATH}:11:7 unknown-key`,
        `${MATRIX_PATH}:8:9 unknown-key`
      ])
    )
  })

  it('a signer that is neither a key nor an identity, or both, or named `provenance`', async () => {
    expect(
      await placed(
        `policy:
  signers:
    half:
      identity: '^x$'
    both:
      key_path: ci/keys/old.pub
      identity: '^x$'
      issuer: https://issuer.example
    provenance:
      key_path: ci/keys/old.pub
    late:
      key_path: ci/keys/old.pub
      valid_from: 2026-07-01
      valid_until: 2026-06-30
`,
        MINIMAL_MATRIX
      )
    ).toEqual([
      `${POLICY_PATH}:4:7 missing-key`,
      `${POLICY_PATH}:6:7 conflicting-keys`,
      `${POLICY_PATH}:9:5 reserved-signer-name`,
      `${POLICY_PATH}:14:20 bad-window`
    ])
  })
})
