import { planImages } from '../../src/domain/plan.js'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { chmod, mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig, validateConfigFiles } from '../../src/adapters/fs/config-load.js'
import { POLICY_DEFAULTS } from '../../src/config/policy.js'
import { MAX_CONFIG_BYTES } from '../../src/config/yaml.js'
import { ConfigError } from '../../src/domain/errors.js'
import {
  issuesFor,
  loadFrom,
  makeWorkspace,
  MATRIX_PATH,
  MINIMAL_MATRIX,
  MINIMAL_POLICY,
  PINNED_DIGEST,
  POLICY_PATH,
  validateIn,
  type ConfigWorkspace
} from '../helpers/config-workspace.js'

const PUBLIC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString()

/** A matrix with one row whose body (after `os`) is `extra`, indented for a row. */
const TARBALL_NOTE =
  'the OS-keyed form records `sha256` of the saved image tarball, not a registry digest'

function matrixWithRow(extra: string): string {
  return `rocm:\n  images:\n    - version: "6.4.4"\n      os: ubuntu-22.04\n${extra}`
}

let workspace: ConfigWorkspace
beforeAll(async () => {
  workspace = await makeWorkspace()
  await workspace.write('ci/keys/stable.pub', PUBLIC_KEY)
})
afterAll(async () => {
  await workspace.remove()
})

describe('loadConfig accepts', () => {
  it('the shipped examples (validate: no issues)', async () => {
    const options = {
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      workspace: 'examples'
    }
    expect(await validateConfigFiles(options)).toEqual({ issues: [], warnings: [] })
    const config = await loadConfig(options)
    expect(config.matrix.rows).toHaveLength(4)
    expect(config.policy.overrides.map(o => o.match)).toEqual([
      'ghcr.io/rocm/dev:*-ubuntu-24.04',
      'docker.io/rocm/*'
    ])
  })

  it('an empty policy mapping, filling in every default', async () => {
    const config = await loadFrom(workspace, MINIMAL_POLICY, MINIMAL_MATRIX)
    expect(config.policy).toEqual({ ...POLICY_DEFAULTS, overrides: [], locations: {} })
    expect(config.policyPath).toBe(POLICY_PATH)
    expect(config.matrixPath).toBe(MATRIX_PATH)
  })

  it('a `policy:` whose keys are all commented out, as all defaults', async () => {
    const config = await loadFrom(workspace, 'policy:\n  # mode: warn\n', MINIMAL_MATRIX)
    expect(config.policy).toEqual({ ...POLICY_DEFAULTS, overrides: [], locations: {} })
  })

  it('every policy key, recording where each was written', async () => {
    await workspace.write(
      'ci/trusted_root.json',
      '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": [{}]}'
    )
    const policy = `policy:
  mode: auto_update
  digest_ttl: 0
  min_age_days: 3
  workflow: refresh-rocm.yaml
  auto_update_ref: release/v4
  require_signature: true
  attest_mode: enforce
  attestation_type: https://example.com/predicate/v1
  ignore_tlog: true
  trusted_root: ci/trusted_root.json
  repository: docker.io/rocm/dev-{os}
  tag_template: "{version}"
  overrides:
    - match: "docker.io/*"
      require_signature: false
      attest_mode: none
      digest_ttl: 30
`
    const { policy: read } = await loadFrom(workspace, policy, MINIMAL_MATRIX)
    expect(read).toMatchObject({
      mode: 'auto_update',
      digestTtlDays: 0,
      minAgeDays: 3,
      workflow: 'refresh-rocm.yaml',
      autoUpdateRef: 'release/v4',
      requireSignature: true,
      attestMode: 'enforce',
      attestationType: 'https://example.com/predicate/v1',
      ignoreTlog: true,
      trustedRoot: 'ci/trusted_root.json',
      repository: 'docker.io/rocm/dev-{os}',
      tagTemplate: '{version}',
      overrides: [
        {
          match: 'docker.io/*',
          requireSignature: false,
          attestMode: 'none',
          digestTtlDays: 30,
          location: { file: POLICY_PATH, line: 15, column: 7 }
        }
      ]
    })
    expect(read.locations.mode).toEqual({ file: POLICY_PATH, line: 2, column: 3 })
    expect(read.locations.overrides?.line).toBe(14)
  })

  it.each([
    ['sha256:TODO_NEXT_RELEASE', 'sha256:TODO_NEXT_RELEASE'],
    ['""', ''],
    ['null', ''],
    ['sha256:PENDING', 'sha256:PENDING']
  ])('the placeholder digest %s as a row that is not pinned', async (digest, raw) => {
    const config = await loadFrom(
      workspace,
      MINIMAL_POLICY,
      matrixWithRow(`      digest: ${digest}\n`)
    )
    expect(config.matrix.rows[0]?.pin).toEqual({ kind: 'not-pinned', raw })
    expect(config.matrix.rows[0]?.digestLocation?.line).toBe(5)
    expect(config.matrix.warnings).toBeUndefined()
  })

  it('a digest that is a mistake, not a placeholder: not pinned, and a warning at its line', async () => {
    const config = await loadFrom(
      workspace,
      MINIMAL_POLICY,
      matrixWithRow('      digest: "sha256:abc123"\n')
    )
    expect(config.matrix.rows[0]?.pin).toMatchObject({ kind: 'not-pinned', raw: 'sha256:abc123' })
    expect(config.matrix.warnings).toEqual([
      {
        code: 'not-a-digest',
        message:
          '`rocm.images[0].digest`: "sha256:abc123" is sha256: and 6 hex characters, not 64; the row is not pinned (exit 2) until it holds one',
        location: expect.objectContaining({ line: 5 })
      }
    ])
  })

  it('a row without a digest as not pinned', async () => {
    const config = await loadFrom(workspace, MINIMAL_POLICY, matrixWithRow(''))
    expect(config.matrix.rows[0]?.pin).toEqual({ kind: 'not-pinned', raw: '' })
  })

  it('rows with their positions, unquoted versions as written, and the preference', async () => {
    const matrix = `rocm:
  images:
    - version: 6.10
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
      added: "2026-11-20"
    - version: "6.4.4"
      os: ubuntu-24.04
      image: ghcr.io/rocm/dev:custom@${PINNED_DIGEST}
  policy:
    default: [6.10, ubuntu-22.04]
    prefer_os: ubuntu-24.04
    fallback_os: ubuntu-22.04
    fallback_version: "6.4.4"
`
    const { matrix: read } = await loadFrom(workspace, MINIMAL_POLICY, matrix)
    expect(read.form).toBe('rows')
    expect(read.rows[0]).toMatchObject({
      index: 0,
      version: '6.10',
      os: 'ubuntu-22.04',
      pin: { kind: 'pinned', digest: PINNED_DIGEST },
      added: '2026-11-20',
      location: { file: MATRIX_PATH, line: 3, column: 7 },
      digestLocation: { file: MATRIX_PATH, line: 5, column: 15 }
    })
    expect(read.rows[1]).toMatchObject({
      index: 1,
      repository: 'ghcr.io/rocm/dev',
      tag: 'custom',
      pin: { kind: 'pinned', digest: PINNED_DIGEST }
    })
    expect(read.preference).toEqual({
      default: ['6.10', 'ubuntu-22.04'],
      preferOs: 'ubuntu-24.04',
      fallbackOs: 'ubuntu-22.04',
      fallbackVersion: '6.4.4'
    })
  })

  it('a key signer (key_path or its alias expected_key), with fingerprint and rotation window', async () => {
    const fingerprint = 'AB'.repeat(32)
    const matrix = `rocm:
  images:
    - version: "1"
      os: a
      provenance:
        key_path: ci/keys/stable.pub
        key_fingerprint: sha256:${fingerprint}
        valid_from: "2026-01-01"
        valid_until: "2027-01-01T00:00:00Z"
        require_signature: true
        ignore_tlog: true
        attestation_type: https://example.com/p
    - version: "1"
      os: b
      provenance:
        expected_key: ci/keys/stable.pub
    - version: "1"
      os: c
      provenance:
        key_path: ci/keys/stable.pub
        expected_key: ${'cd'.repeat(32)}
`
    const { matrix: read } = await loadFrom(workspace, MINIMAL_POLICY, matrix)
    expect(read.rows[0]?.provenance).toMatchObject({
      keyPath: 'ci/keys/stable.pub',
      keyFingerprint: `sha256:${fingerprint.toLowerCase()}`,
      validFrom: '2026-01-01',
      validUntil: '2027-01-01T00:00:00Z',
      requireSignature: true,
      ignoreTlog: true,
      attestationType: 'https://example.com/p'
    })
    expect(read.rows[0]?.provenance?.locations?.key_path).toEqual({
      file: MATRIX_PATH,
      line: 6,
      column: 19
    })
    expect(read.rows[1]?.provenance?.keyPath).toBe('ci/keys/stable.pub')
    expect(read.rows[2]?.provenance).toMatchObject({
      keyPath: 'ci/keys/stable.pub',
      keyFingerprint: `sha256:${'cd'.repeat(32)}`
    })
  })

  it('keyless signers, telling an exact issuer from a pattern, and recorded evidence', async () => {
    const matrix = `rocm:
  images:
    - version: "1"
      os: a
      provenance:
        identity: "^https://github\\\\.com/org/repo/.+@refs/tags/v[0-9]+$"
        issuer: https://token.actions.githubusercontent.com
        signer_identity: https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1
        signer_issuer: https://token.actions.githubusercontent.com
        rekor_log_index: 12345
        attestation_digest: "${PINNED_DIGEST}"
    - version: "1"
      os: b
      provenance:
        identity: ".*"
        issuer: "^https://(token\\\\.actions|accounts\\\\.google)\\\\.com$"
`
    const { matrix: read } = await loadFrom(workspace, MINIMAL_POLICY, matrix)
    expect(read.rows[0]?.provenance).toMatchObject({
      identity: '^https://github\\.com/org/repo/.+@refs/tags/v[0-9]+$',
      issuer: 'https://token.actions.githubusercontent.com',
      issuerIsRegexp: false,
      recorded: {
        signerIdentity: 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1',
        signerIssuer: 'https://token.actions.githubusercontent.com',
        rekorLogIndex: 12345,
        attestationDigest: PINNED_DIGEST
      }
    })
    expect(read.rows[1]?.provenance?.issuerIsRegexp).toBe(true)
  })

  it('the OS-keyed map form, normalised into rows: its sha256 (a tarball hash) is not a pin', async () => {
    const matrix = `ubuntu-22.04:
  image: ghcr.io/rocm/dev:6.4.4-ubuntu-22.04
  mirror: registry.example.com/rocm/dev:6.4.4-ubuntu-22.04
  canonical: docker.io/rocm/dev-ubuntu-22.04:6.4.4
  sha256: ${'B'.repeat(64)}
  timestamp: "2026-11-20T10:00:00Z"
  tarball: rocm-6.4.4-ubuntu-22.04.tar
rhel-9:
  canonical: docker.io/rocm/dev-rhel-9:6.4.4
  sha256: TODO
`
    const { matrix: read } = await loadFrom(workspace, MINIMAL_POLICY, matrix)
    expect(read.form).toBe('os-map')
    expect(read.rows).toEqual([
      {
        index: 0,
        version: '6.4.4',
        os: 'ubuntu-22.04',
        repository: 'ghcr.io/rocm/dev',
        tag: '6.4.4-ubuntu-22.04',
        pin: { kind: 'not-pinned', raw: 'B'.repeat(64), note: TARBALL_NOTE },
        added: '2026-11-20',
        location: { file: MATRIX_PATH, line: 1, column: 1 },
        digestLocation: { file: MATRIX_PATH, line: 5, column: 11 }
      },
      {
        index: 1,
        version: '6.4.4',
        os: 'rhel-9',
        repository: 'docker.io/rocm/dev-rhel-9',
        tag: '6.4.4',
        pin: { kind: 'not-pinned', raw: 'TODO', note: TARBALL_NOTE },
        location: { file: MATRIX_PATH, line: 8, column: 1 },
        digestLocation: { file: MATRIX_PATH, line: 10, column: 11 }
      }
    ])
  })

  it('the OS-keyed map form: two OS labels naming one image are accepted, planned once; a digest in `image` is a pin', async () => {
    const digest = `sha256:${'d'.repeat(64)}`
    const matrix = `ubuntu-24.04:
  image: ghcr.io/rocm/dev:6.4.4-ubuntu-22.04
  sha256: ${'a'.repeat(64)}
ubuntu-22.04:
  image: ghcr.io/rocm/dev:6.4.4-ubuntu-22.04
  sha256: ${'a'.repeat(64)}
rhel-9:
  image: ghcr.io/rocm/dev:6.4.4-rhel-9@${digest}
`
    const config = await loadFrom(workspace, MINIMAL_POLICY, matrix)
    expect(config.matrix.rows.map(row => row.pin)).toEqual([
      { kind: 'not-pinned', raw: 'a'.repeat(64), note: TARBALL_NOTE },
      { kind: 'not-pinned', raw: 'a'.repeat(64), note: TARBALL_NOTE },
      { kind: 'pinned', digest }
    ])
    const plans = planImages(config, {})
    expect(plans.map(plan => plan.reference)).toEqual([
      'ghcr.io/rocm/dev:6.4.4-ubuntu-22.04',
      'ghcr.io/rocm/dev:6.4.4-rhel-9'
    ])
  })

  it('a key file reached through a symlink that stays inside the workspace', async () => {
    await symlink(
      join(workspace.root, 'ci/keys/stable.pub'),
      join(workspace.root, 'ci/keys/current.pub')
    )
    const config = await loadFrom(
      workspace,
      MINIMAL_POLICY,
      matrixWithRow('      provenance:\n        key_path: ci/keys/current.pub\n')
    )
    expect(config.matrix.rows[0]?.provenance?.keyPath).toBe('ci/keys/current.pub')
  })
})

interface Refusal {
  name: string
  policy?: string
  matrix?: string
  code: string
  file?: string
  line: number
  message: string
}

const refusals: Refusal[] = [
  // ----------------------------------------------------------- policy ---
  {
    name: 'a misspelt key (require_signatures), with a suggestion',
    policy: 'policy:\n  mode: warn\n  require_signatures: true\n',
    code: 'unknown-key',
    line: 3,
    message: 'unknown key `require_signatures` in `policy`; did you mean `require_signature`?'
  },
  {
    name: 'an unknown key with nothing close, listing the known ones',
    policy: 'policy:\n  colour: blue\n',
    code: 'unknown-key',
    line: 2,
    message: 'unknown key `colour` in `policy`; expected one of `mode`, `digest_ttl`'
  },
  {
    name: 'an unknown top-level key',
    policy: 'policy: {}\npolcy: {}\n',
    code: 'unknown-key',
    line: 2,
    message: 'unknown key `polcy` in the document; did you mean `policy`?'
  },
  {
    name: 'a bad mode',
    policy: 'policy:\n  mode: strcit\n',
    code: 'bad-value',
    line: 2,
    message:
      '`policy.mode`: expected one of `strict`, `warn`, `auto_update`, found the text "strcit"; did you mean `strict`?'
  },
  {
    name: 'a bad attest_mode',
    policy: 'policy:\n\n  attest_mode: always\n',
    code: 'bad-value',
    line: 3,
    message:
      '`policy.attest_mode`: expected one of `none`, `record`, `enforce`, found the text "always"'
  },
  {
    name: 'a negative TTL',
    policy: 'policy:\n  digest_ttl: -3\n',
    code: 'negative-number',
    line: 2,
    message:
      '`policy.digest_ttl`: expected a number >= 0 (it must not be negative), found the number -3'
  },
  {
    name: 'a negative min_age_days',
    policy: 'policy:\n  min_age_days: -1\n',
    code: 'negative-number',
    line: 2,
    message:
      '`policy.min_age_days`: expected a number >= 0 (it must not be negative), found the number -1'
  },
  {
    name: 'a TTL written as text',
    policy: 'policy:\n  digest_ttl: "7"\n',
    code: 'wrong-type',
    line: 2,
    message: '`policy.digest_ttl`: expected a whole number, found the text "7"'
  },
  {
    name: 'a fractional TTL',
    policy: 'policy:\n  digest_ttl: 1.5\n',
    code: 'wrong-type',
    line: 2,
    message: 'expected a whole number, found the number 1.5'
  },
  {
    name: 'require_signature written as yes',
    policy: 'policy:\n  require_signature: yes\n',
    code: 'wrong-type',
    line: 2,
    message: '`policy.require_signature`: expected true or false, found the text "yes"'
  },
  {
    name: 'a workflow that is not a file name',
    policy: 'policy:\n  workflow: ../../evil.yml\n',
    code: 'bad-value',
    line: 2,
    message: '`policy.workflow`: expected text matching'
  },
  {
    name: 'an auto_update_ref that reads as a flag',
    policy: 'policy:\n  auto_update_ref: --force\n',
    code: 'bad-value',
    line: 2,
    message: '`policy.auto_update_ref`: expected text matching'
  },
  {
    name: 'a repository that reads as a flag',
    policy: "policy:\n  repository: '-oProxyCommand=x'\n",
    code: 'bad-reference',
    line: 2,
    message:
      '`policy.repository`: `-oProxyCommand=x` starts with `-`, so a tool could read it as a command-line flag'
  },
  {
    name: 'a repository with whitespace',
    policy: "policy:\n  repository: 'ghcr.io/rocm/dev x'\n",
    code: 'bad-reference',
    line: 2,
    message: 'contains whitespace'
  },
  {
    name: 'a tag template with an unknown placeholder',
    policy: "policy:\n  tag_template: '{versoin}-{os}'\n",
    code: 'bad-reference',
    line: 2,
    message: 'uses the unknown placeholder `{versoin}`'
  },
  {
    name: 'a tag template that expands to a flag',
    policy: "policy:\n  tag_template: '-{version}'\n",
    code: 'bad-reference',
    line: 2,
    message: 'command-line flag (expanded for a sample row: `-6.4.4`)'
  },
  {
    name: 'an override without match',
    policy: 'policy:\n  overrides:\n    - require_signature: true\n',
    code: 'missing-key',
    line: 3,
    message: '`policy.overrides[0]` is missing the required key `match`'
  },
  {
    name: 'an override that sets nothing',
    policy: "policy:\n  overrides:\n    - match: 'ghcr.io/*'\n",
    code: 'empty-override',
    line: 3,
    message: 'the override for `ghcr.io/*` sets nothing'
  },
  {
    name: 'two overrides with the same glob',
    policy:
      "policy:\n  overrides:\n    - match: 'a*'\n      digest_ttl: 1\n    - match: 'a*'\n      digest_ttl: 2\n",
    code: 'duplicate-override',
    line: 5,
    message: 'an override for `a*` is already written at line 3'
  },
  {
    name: 'an override with a negative TTL',
    policy: "policy:\n  overrides:\n    - match: 'a*'\n      digest_ttl: -1\n",
    code: 'negative-number',
    line: 4,
    message: '`policy.overrides[0].digest_ttl`: expected a number >= 0 (it must not be negative)'
  },
  {
    name: 'an override with a misspelt key',
    policy: "policy:\n  overrides:\n    - match: 'a*'\n      require_sig: true\n",
    code: 'unknown-key',
    line: 4,
    message: 'unknown key `require_sig` in `policy.overrides[0]`; did you mean'
  },
  {
    name: 'a policy file without `policy`',
    policy: 'mode: warn\n',
    code: 'missing-key',
    line: 1,
    message: 'the document is missing the required key `policy`'
  },
  {
    name: 'an empty policy file',
    policy: '# nothing here\n',
    code: 'wrong-type',
    line: 1,
    message: 'the document: expected a mapping, found nothing (null)'
  },
  {
    name: 'a policy that is a list',
    policy: 'policy:\n  - mode: warn\n',
    code: 'wrong-type',
    line: 2,
    message: '`policy`: expected a mapping or nothing (null), found a list of 1 item'
  },
  {
    name: 'duplicate keys',
    policy: 'policy:\n  require_signature: true\n  require_signature: false\n',
    code: 'duplicate-key',
    line: 3,
    message: 'duplicate key `require_signature`; it was already set at line 2'
  },
  // ----------------------------------------------------------- matrix ---
  {
    name: 'a row without version',
    matrix: 'rocm:\n  images:\n    - os: ubuntu-22.04\n',
    code: 'missing-key',
    line: 3,
    message: '`rocm.images[0]` is missing the required key `version`'
  },
  {
    name: 'a misspelt row key',
    matrix: matrixWithRow('      digets: sha256:abc\n'),
    code: 'unknown-key',
    line: 5,
    message: 'unknown key `digets` in `rocm.images[0]`; did you mean `digest`?'
  },
  {
    name: 'a misspelt provenance key',
    matrix: matrixWithRow('      provenance:\n        key_pth: ci/keys/stable.pub\n'),
    code: 'unknown-key',
    line: 6,
    message: 'unknown key `key_pth` in `rocm.images[0].provenance`; did you mean `key_path`?'
  },
  {
    name: 'an added date that is not a date',
    matrix: matrixWithRow('      added: "2026-02-30"\n'),
    code: 'bad-format',
    line: 5,
    message: '`rocm.images[0].added`: expected a date YYYY-MM-DD, found the text "2026-02-30"'
  },
  {
    name: 'an added date in another format',
    matrix: matrixWithRow('      added: 20/11/2026\n'),
    code: 'bad-format',
    line: 5,
    message: 'expected a date YYYY-MM-DD, found the text "20/11/2026"'
  },
  {
    name: 'a valid_from that is not a date',
    matrix: matrixWithRow(
      '      provenance:\n        key_path: ci/keys/stable.pub\n        valid_from: yesterday\n'
    ),
    code: 'bad-format',
    line: 7,
    message:
      '`rocm.images[0].provenance.valid_from`: expected a date YYYY-MM-DD or a date and time (RFC 3339, e.g. 2026-11-20T10:00:00Z), found the text "yesterday"'
  },
  {
    name: 'a rotation window that ends before it starts',
    matrix: matrixWithRow(
      '      provenance:\n        key_path: ci/keys/stable.pub\n        valid_from: "2027-01-01"\n        valid_until: "2026-12-31"\n'
    ),
    code: 'bad-window',
    line: 8,
    message: 'expected a moment after `valid_from` (2027-01-01), found 2026-12-31'
  },
  {
    name: 'an identity that JavaScript compiles but RE2 does not (lookahead)',
    matrix: matrixWithRow(
      "      provenance:\n        identity: '^(?=release).*$'\n        issuer: https://issuer.example\n"
    ),
    code: 'bad-regexp',
    line: 6,
    message:
      '`rocm.images[0].provenance.identity`: expected a regular expression in Go/RE2 syntax; RE2 says: error parsing regexp: invalid or unsupported Perl syntax: `(?=`'
  },
  {
    name: 'an identity with a backreference',
    matrix: matrixWithRow(
      "      provenance:\n        identity: '(a)\\1'\n        issuer: https://issuer.example\n"
    ),
    code: 'bad-regexp',
    line: 6,
    message: 'RE2 says: error parsing regexp: invalid escape sequence'
  },
  {
    name: 'an issuer pattern RE2 cannot compile',
    matrix: matrixWithRow(
      "      provenance:\n        identity: '.*'\n        issuer: '^https://(a|b'\n"
    ),
    code: 'bad-regexp',
    line: 7,
    message:
      '`rocm.images[0].provenance.issuer`: reads as a regular expression, but RE2 cannot compile it: error parsing regexp: missing closing )'
  },
  {
    name: 'an identity without issuer',
    matrix: matrixWithRow("      provenance:\n        identity: '.*'\n"),
    code: 'missing-key',
    line: 6,
    message: '`rocm.images[0].provenance`: keyless verification needs `issuer` next to `identity`'
  },
  {
    name: 'an issuer without identity',
    matrix: matrixWithRow('      provenance:\n        issuer: https://issuer.example\n'),
    code: 'missing-key',
    line: 6,
    message: 'keyless verification needs `identity` next to `issuer`'
  },
  {
    name: 'a key and a keyless identity together',
    matrix: matrixWithRow(
      "      provenance:\n        key_path: ci/keys/stable.pub\n        identity: '.*'\n        issuer: https://issuer.example\n"
    ),
    code: 'conflicting-keys',
    line: 6,
    message: 'expected a key (`key_path`) or a keyless identity (`identity` + `issuer`), found both'
  },
  {
    name: 'key_path and expected_key together',
    matrix: matrixWithRow(
      '      provenance:\n        key_path: ci/keys/stable.pub\n        expected_key: ci/keys/other.pub\n'
    ),
    code: 'conflicting-keys',
    line: 7,
    message: '`expected_key` is an alias of `key_path`; write one of them'
  },
  {
    name: 'a fingerprint that is not SHA-256 hex',
    matrix: matrixWithRow(
      '      provenance:\n        key_path: ci/keys/stable.pub\n        key_fingerprint: md5:abc\n'
    ),
    code: 'bad-value',
    line: 7,
    message: '`rocm.images[0].provenance.key_fingerprint`: expected text matching'
  },
  {
    name: 'a fingerprint without key file',
    matrix: matrixWithRow(`      provenance:\n        key_fingerprint: ${'a'.repeat(64)}\n`),
    code: 'missing-key',
    line: 6,
    message: 'a key fingerprint needs the key file too: add `key_path`'
  },
  {
    name: 'a per-image require_signature written as text',
    matrix: matrixWithRow('      provenance:\n        require_signature: "true"\n'),
    code: 'wrong-type',
    line: 6,
    message:
      '`rocm.images[0].provenance.require_signature`: expected true or false, found the text "true"'
  },
  {
    name: 'a negative recorded Rekor index',
    matrix: matrixWithRow('      provenance:\n        rekor_log_index: -1\n'),
    code: 'negative-number',
    line: 6,
    message: 'must not be negative'
  },
  {
    name: 'both image and repository',
    matrix: matrixWithRow('      image: ghcr.io/a/b:1\n      repository: ghcr.io/a/b\n'),
    code: 'conflicting-keys',
    line: 5,
    message: 'write either `image` or `repository`, not both'
  },
  {
    name: 'an image that reads as a flag',
    matrix: matrixWithRow("      image: '--entrypoint=/bin/sh'\n"),
    code: 'bad-reference',
    line: 5,
    message:
      '`rocm.images[0].image`: `--entrypoint=/bin/sh`: starts with `-`, so a tool could read it as a command-line flag'
  },
  {
    name: 'a tag that reads as a flag',
    matrix: matrixWithRow("      tag: '--help'\n"),
    code: 'bad-reference',
    line: 5,
    message: '`rocm.images[0].tag`: `--help` starts with `-`'
  },
  {
    name: 'a tag with whitespace',
    matrix: matrixWithRow("      tag: '6.4 latest'\n"),
    code: 'bad-reference',
    line: 5,
    message: '`6.4 latest` contains whitespace'
  },
  {
    name: 'an OS with a control character',
    matrix: 'rocm:\n  images:\n    - version: "6.4.4"\n      os: "ubuntu\\e[31m"\n',
    code: 'bad-reference',
    line: 4,
    message:
      '`rocm.images[0].os`: `ubuntu\\u001b[31m` contains a control character (U+001B); it becomes part of the image reference'
  },
  {
    name: 'a version with a newline',
    matrix: 'rocm:\n  images:\n    - version: "6.4\\n"\n      os: a\n',
    code: 'bad-reference',
    line: 3,
    message: 'contains a control character (U+000A)'
  },
  {
    name: 'a repository holding a tag',
    matrix: matrixWithRow('      repository: ghcr.io/rocm/dev:6.4\n'),
    code: 'bad-reference',
    line: 5,
    message: 'holds a tag (`:…`); write the tag separately'
  },
  {
    name: 'an empty image list',
    matrix: 'rocm:\n  images: []\n',
    code: 'bad-value',
    line: 2,
    message: '`rocm.images`: expected a list of at least 1 item, found a list of 0 items'
  },
  {
    name: 'a default row that no row has',
    matrix: `${MINIMAL_MATRIX}  policy:\n    default: ["9.9", ubuntu-22.04]\n`,
    code: 'unknown-row',
    line: 8,
    message: '`rocm.policy.default`: names 9.9 / ubuntu-22.04, but no row has that version and os'
  },
  {
    name: 'a default that is not a pair',
    matrix: `${MINIMAL_MATRIX}  policy:\n    default: ["6.4.4", ubuntu-22.04, x]\n`,
    code: 'bad-value',
    line: 8,
    message: '`rocm.policy.default`: expected a list of exactly 2 items, found a list of 3 items'
  },
  {
    name: 'a misspelt preference key',
    matrix: `${MINIMAL_MATRIX}  policy:\n    prefer_os_: ubuntu-24.04\n`,
    code: 'unknown-key',
    line: 8,
    message: 'unknown key `prefer_os_` in `rocm.policy`; did you mean `prefer_os`?'
  },
  {
    name: 'a misspelt `rocm`',
    matrix: 'rcom:\n  images:\n    - version: "1"\n      os: a\n',
    code: 'unknown-key',
    line: 1,
    message: 'unknown key `rcom` in the document; did you mean `rocm`?'
  },
  {
    name: 'an OS-map entry without an image',
    matrix: 'ubuntu-22.04:\n  sha256: abc\n',
    code: 'missing-key',
    line: 1,
    message: '`ubuntu-22.04`: expected an `image` (or `canonical`) reference with a tag'
  },
  {
    name: 'an OS-map entry with a bad timestamp',
    matrix:
      'ubuntu-22.04:\n  image: ghcr.io/rocm/dev:1-ubuntu-22.04\n  timestamp: 2026-11-20 10:00\n',
    code: 'bad-format',
    line: 3,
    message: '`ubuntu-22.04.timestamp`: expected a date and time (RFC 3339'
  },
  {
    name: 'an OS-map image without a tag',
    matrix: 'ubuntu-22.04:\n  image: ghcr.io/rocm/dev\n',
    code: 'missing-tag',
    line: 2,
    message: 'expected a reference with a tag, found `ghcr.io/rocm/dev`'
  },
  {
    name: 'an OS-map entry with an unknown key',
    matrix: 'ubuntu-22.04:\n  image: ghcr.io/rocm/dev:1\n  sha: abc\n',
    code: 'unknown-key',
    line: 3,
    message: 'unknown key `sha` in `ubuntu-22.04`; did you mean `sha256`?'
  },
  // ------------------------------------------------------------ files ---
  {
    name: 'a key_path that leaves the workspace',
    matrix: matrixWithRow('      provenance:\n        key_path: ../../etc/passwd\n'),
    code: 'bad-file',
    line: 6,
    message: '`rocm.images[0].provenance.key_path`: `../../etc/passwd` leaves the workspace'
  },
  {
    name: 'an absolute key_path outside the workspace',
    matrix: matrixWithRow('      provenance:\n        expected_key: /etc/hostname\n'),
    code: 'bad-file',
    line: 6,
    message: '`rocm.images[0].provenance.expected_key`: `/etc/hostname` leaves the workspace'
  },
  {
    name: 'a key_path that is a symlink out of the workspace',
    matrix: matrixWithRow('      provenance:\n        key_path: ci/keys/escape.pub\n'),
    code: 'bad-file',
    line: 6,
    message: '`ci/keys/escape.pub` is a symlink out of the workspace (it resolves to /etc/hostname)'
  },
  {
    name: 'a key_path that does not exist',
    matrix: matrixWithRow('      provenance:\n        key_path: ci/keys/missing.pub\n'),
    code: 'bad-file',
    line: 6,
    message: '`ci/keys/missing.pub` does not exist in /'
  },
  {
    name: 'a key_path that does not exist, naming where relative paths are read from',
    matrix: matrixWithRow('      provenance:\n        key_path: ci/keys/missing.pub\n'),
    code: 'bad-file',
    line: 6,
    message: '(paths are relative to the repository root the run starts in)'
  },
  {
    name: 'a key_path that is a directory',
    matrix: matrixWithRow('      provenance:\n        key_path: ci/keys\n'),
    code: 'bad-file',
    line: 6,
    message: '`ci/keys` is a directory, not a file'
  },
  {
    name: 'a key_path that is a FIFO (never opened)',
    matrix: matrixWithRow('      provenance:\n        key_path: ci/keys/fifo\n'),
    code: 'bad-file',
    line: 6,
    message: '`ci/keys/fifo` is not a regular file'
  },
  {
    name: 'a trusted_root outside the workspace',
    policy: 'policy:\n  mode: warn\n  trusted_root: ../root.json\n',
    code: 'bad-file',
    line: 3,
    message: '`policy.trusted_root`: `../root.json` leaves the workspace'
  }
]

describe('loadConfig refuses', () => {
  beforeAll(async () => {
    await symlink('/etc/hostname', join(workspace.root, 'ci/keys/escape.pub'))
    execFileSync('mkfifo', [join(workspace.root, 'ci/keys/fifo')])
  })

  it.each(refusals.map(r => [r.name, r] as const))('%s', async (_name, refusal) => {
    const issues = await issuesFor(
      workspace,
      refusal.policy ?? MINIMAL_POLICY,
      refusal.matrix ?? MINIMAL_MATRIX
    )
    const file = refusal.file ?? (refusal.policy !== undefined ? POLICY_PATH : MATRIX_PATH)
    const match = issues.find(i => i.code === refusal.code && i.message.includes(refusal.message))
    expect({ match: match !== undefined, issues }).toMatchObject({ match: true })
    expect(match?.location).toMatchObject({ file, line: refusal.line })
    expect(match?.location?.column).toBeGreaterThanOrEqual(1)
    // eslint-disable-next-line no-control-regex
    expect(issues.filter(i => /[\u0000-\u001f\u007f]/.test(i.message))).toEqual([])
  })

  it('with every issue of both files in one error, policy first, in line order', async () => {
    const policy = 'policy:\n  mode: strcit\n  digest_ttl: -1\n'
    const matrix = matrixWithRow('      added: nope\n      digets: x\n')
    const error = await loadFrom(workspace, policy, matrix).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    const issues = (error as ConfigError).issues
    expect(issues.map(i => `${i.location?.file}:${i.location?.line}:${i.code}`)).toEqual([
      `${POLICY_PATH}:2:bad-value`,
      `${POLICY_PATH}:3:negative-number`,
      `${MATRIX_PATH}:5:bad-format`,
      `${MATRIX_PATH}:6:unknown-key`
    ])
    expect((error as ConfigError).message).toContain(
      `${POLICY_PATH}:2:9: \`policy.mode\`: expected one of`
    )
    expect((error as ConfigError).code).toBe('CONFIG_INVALID')
  })

  it('a missing policy file, as a ConfigError at the file', async () => {
    await workspace.write(MATRIX_PATH, MINIMAL_MATRIX)
    const error = await loadConfig({
      policyPath: 'ci/absent.yml',
      matrixPath: MATRIX_PATH,
      workspace: workspace.root
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).issues).toEqual([
      {
        code: 'file-unreadable',
        message: 'the policy file ci/absent.yml does not exist',
        location: { file: 'ci/absent.yml', line: 1, column: 1 }
      }
    ])
  })

  it('a matrix path that is a directory', async () => {
    await workspace.write(POLICY_PATH, MINIMAL_POLICY)
    const { issues } = await validateConfigFiles({
      policyPath: POLICY_PATH,
      matrixPath: 'ci',
      workspace: workspace.root
    })
    expect(issues).toEqual([
      {
        code: 'file-unreadable',
        message: 'the matrix file ci is a directory, not a file',
        location: { file: 'ci', line: 1, column: 1 }
      }
    ])
  })

  const isRoot = process.getuid?.() === 0
  it(`an unreadable file (${isRoot ? 'as root: readable anyway, so it loads' : 'permission denied'})`, async () => {
    const path = await workspace.write('ci/locked.yml', MINIMAL_MATRIX)
    await chmod(path, 0o000)
    try {
      const { issues } = await validateConfigFiles({
        policyPath: POLICY_PATH,
        matrixPath: 'ci/locked.yml',
        workspace: workspace.root
      })
      expect(issues).toEqual(
        isRoot
          ? []
          : [
              {
                code: 'file-unreadable',
                message: 'the matrix file ci/locked.yml cannot be read (permission denied)',
                location: { file: 'ci/locked.yml', line: 1, column: 1 }
              }
            ]
      )
    } finally {
      await chmod(path, 0o600)
    }
  })

  it('an oversized file without reading all of it', async () => {
    const issues = await issuesFor(workspace, MINIMAL_POLICY, `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`)
    expect(issues).toEqual([
      {
        code: 'file-too-large',
        message: `file is larger than ${MAX_CONFIG_BYTES} bytes; expected a configuration file of at most that size`,
        location: { file: MATRIX_PATH, line: 1, column: 1 }
      }
    ])
  })

  it('a file that is not UTF-8, at the line of the bad byte', async () => {
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode('policy:\n  workflow: caf'),
      0xe9,
      0x0a
    ])
    const issues = await issuesFor(workspace, latin1, MINIMAL_MATRIX)
    expect(issues).toEqual([
      {
        code: 'not-utf8',
        message: 'expected UTF-8 text, found the byte 0xE9 that is not UTF-8 (column counts bytes)',
        location: { file: POLICY_PATH, line: 2, column: 16 }
      }
    ])
  })
})

describe('validateConfigFiles', () => {
  it('also reports references that only fail once the templates are expanded', async () => {
    await workspace.write(POLICY_PATH, "policy:\n  repository: 'ghcr.io/rocm/{os}'\n")
    await workspace.write(MATRIX_PATH, 'rocm:\n  images:\n    - version: "1"\n      os: Ubuntu\n')
    const issues = await validateIn(workspace)
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({
      code: 'bad-reference',
      location: { file: MATRIX_PATH, line: 3 }
    })
    expect(issues[0]?.message).toContain(
      'repository `ghcr.io/rocm/Ubuntu` (from the policy) is not a valid repository path'
    )
  })

  it('returns no issues for valid files', async () => {
    await mkdir(join(workspace.root, 'ci'), { recursive: true })
    await workspace.write(POLICY_PATH, MINIMAL_POLICY)
    await workspace.write(MATRIX_PATH, MINIMAL_MATRIX)
    expect(await validateIn(workspace)).toEqual([])
  })
})

describe('YAML merge keys in the matrix, as the Python-era reader applied them', () => {
  const other = `sha256:${'b'.repeat(64)}`
  const merged = `rocm:
  images:
    - &base
      version: "6.4.4"
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
      added: "2026-11-20"
      provenance:
        key_path: ci/keys/stable.pub
    - <<: *base
      os: ubuntu-24.04
      digest: "${other}"
`

  it('applies `<<: *base`, the row’s own keys overriding the merged ones', async () => {
    const config = await loadFrom(workspace, MINIMAL_POLICY, merged)
    expect(
      config.matrix.rows.map(r => [r.version, r.os, r.pin, r.added, r.provenance?.keyPath])
    ).toEqual([
      [
        '6.4.4',
        'ubuntu-22.04',
        { kind: 'pinned', digest: PINNED_DIGEST },
        '2026-11-20',
        'ci/keys/stable.pub'
      ],
      [
        '6.4.4',
        'ubuntu-24.04',
        { kind: 'pinned', digest: other },
        '2026-11-20',
        'ci/keys/stable.pub'
      ]
    ])
    // Each value is located where it was written: the own key on the row, the merged one in the base.
    expect(config.matrix.rows[1].digestLocation).toMatchObject({ line: 12 })
  })

  it('applies a list of merged mappings, the earlier one winning', async () => {
    const config = await loadFrom(
      workspace,
      MINIMAL_POLICY,
      `rocm:
  images:
    - &a
      version: "6.4.4"
      os: ubuntu-22.04
      digest: "${PINNED_DIGEST}"
    - &b
      version: "9.9.9"
      os: rhel-9
      digest: "${other}"
      added: "2026-11-21"
    - <<: [*b, *a]
      os: ubuntu-24.04
`
    )
    const row = config.matrix.rows[2]
    expect([row.version, row.os, row.pin, row.added]).toEqual([
      '9.9.9',
      'ubuntu-24.04',
      { kind: 'pinned', digest: other },
      '2026-11-21'
    ])
  })

  it('points an error in a merged value at the line of the anchored mapping', async () => {
    const issues = await issuesFor(
      workspace,
      MINIMAL_POLICY,
      merged.replace(
        '      added: "2026-11-20"\n',
        '      added: "2026-11-20"\n      colour: blue\n'
      )
    )
    expect(issues.map(i => i.message)).not.toContainEqual(expect.stringMatching(/`<<`/))
    const unknown = issues.filter(i => i.message.includes('colour'))
    expect(unknown.length).toBeGreaterThan(0)
    expect(unknown.every(i => i.location?.line === 8)).toBe(true)
  })

  it('refuses a merge key whose value is not a mapping, at its line', async () => {
    const issues = await issuesFor(
      workspace,
      MINIMAL_POLICY,
      `rocm:\n  images:\n    - <<: 3\n      version: "6.4.4"\n      os: ubuntu-22.04\n`
    )
    expect(issues).toContainEqual(
      expect.objectContaining({
        code: 'yaml-merge',
        location: expect.objectContaining({ line: 3 })
      })
    )
  })
})
