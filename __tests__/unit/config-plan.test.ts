import { describe, expect, it } from '@jest/globals'
import { POLICY_DEFAULTS } from '../../src/config/policy.js'
import { ConfigError } from '../../src/domain/errors.js'
import {
  choosePreferredPlan,
  choosePreferredRow,
  findOverride,
  globSpecificity,
  matchesGlob,
  planImages
} from '../../src/domain/plan.js'
import { compareVersionText } from '../../src/domain/versions.js'
import type {
  Config,
  ImagePlan,
  Matrix,
  MatrixRow,
  Policy,
  PolicyOverride
} from '../../src/domain/types.js'

const DIGEST = `sha256:${'c'.repeat(64)}` as const
const POLICY_FILE = 'ci/rocm_policy.yml'
const MATRIX_FILE = 'ci/rocm_matrix.yml'

function row(version: string, os: string, extra: Partial<MatrixRow> = {}, index = 0): MatrixRow {
  return {
    index,
    version,
    os,
    pin: { kind: 'pinned', digest: DIGEST },
    location: { file: MATRIX_FILE, line: 3 + index * 4, column: 7 },
    ...extra
  }
}

function configOf(
  rows: MatrixRow[],
  policy: Partial<Policy> = {},
  matrix: Partial<Matrix> = {}
): Config {
  return {
    policy: { ...POLICY_DEFAULTS, overrides: [], locations: {}, ...policy },
    matrix: { form: 'rows', rows: rows.map((r, index) => ({ ...r, index })), ...matrix },
    policyPath: POLICY_FILE,
    matrixPath: MATRIX_FILE
  }
}

function configError(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error: unknown) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('planImages: repository and tag', () => {
  it('defaults to ghcr.io/rocm/dev with tag {version}-{os}', () => {
    const [plan] = planImages(configOf([row('6.4.4', 'ubuntu-22.04')]), {})
    expect(plan).toMatchObject({
      registry: 'ghcr.io',
      repositoryPath: 'rocm/dev',
      repository: 'ghcr.io/rocm/dev',
      tag: '6.4.4-ubuntu-22.04',
      reference: 'ghcr.io/rocm/dev:6.4.4-ubuntu-22.04'
    })
  })

  it.each([
    [
      'the row',
      { repository: 'ghcr.io/row/own' },
      'ghcr.io/input/repo',
      'ghcr.io/policy/repo',
      'ghcr.io/row/own'
    ],
    ['the input', {}, 'ghcr.io/input/repo', 'ghcr.io/policy/repo', 'ghcr.io/input/repo'],
    ['the policy', {}, undefined, 'ghcr.io/policy/repo', 'ghcr.io/policy/repo'],
    ['the default', {}, undefined, undefined, 'ghcr.io/rocm/dev']
  ])('takes the repository from %s first', (_source, own, input, policyRepository, expected) => {
    const config = configOf(
      [row('1', 'a', own)],
      policyRepository ? { repository: policyRepository } : {}
    )
    const [plan] = planImages(config, { repositoryInput: input })
    expect(plan?.repository).toBe(expected)
  })

  it("describes Docker Hub's layout with {os} in the repository and {version} as the tag", () => {
    const config = configOf([row('6.4.4', 'ubuntu-22.04')], {
      repository: 'docker.io/rocm/dev-{os}',
      tagTemplate: '{version}'
    })
    expect(planImages(config, {})[0]).toMatchObject({
      registry: 'docker.io',
      repositoryPath: 'rocm/dev-ubuntu-22.04',
      reference: 'docker.io/rocm/dev-ubuntu-22.04:6.4.4'
    })
  })

  it("uses the row's own tag (with placeholders) over the template", () => {
    const config = configOf([row('6.4.4', 'rhel-9', { tag: 'rocm{version}' })], {
      tagTemplate: 'x'
    })
    expect(planImages(config, {})[0]?.tag).toBe('rocm6.4.4')
  })

  it('names single-component and Docker Hub repositories the Docker way', () => {
    const config = configOf([row('1', 'a', { repository: 'ubuntu', tag: '24.04' })])
    expect(planImages(config, {})[0]).toMatchObject({
      registry: 'docker.io',
      repositoryPath: 'library/ubuntu',
      reference: 'docker.io/library/ubuntu:24.04'
    })
  })

  it('keeps a loopback registry with its port', () => {
    const [plan] = planImages(configOf([row('1', 'a')]), {
      repositoryInput: '127.0.0.1:5000/rocm/dev'
    })
    expect(plan).toMatchObject({ registry: '127.0.0.1:5000', repositoryPath: 'rocm/dev' })
  })
})

describe('planImages refuses', () => {
  it.each([
    [
      'a repository input that reads as a flag',
      { repositoryInput: '--insecure' },
      {},
      'repository `--insecure` (from the `repository` input) starts with `-`'
    ],
    [
      'a repository input with whitespace',
      { repositoryInput: 'ghcr.io/a b' },
      {},
      'contains whitespace'
    ],
    [
      'a version that expands to a flag',
      {},
      { version: '-x' },
      'tag `-x-a` (from the policy `tag_template`) starts with `-`'
    ],
    [
      'an OS with a control character, shown escaped',
      {},
      { os: 'a\u0007' },
      'row 1 (1 a\\u0007) at'
    ],
    [
      'an OS that breaks the repository',
      {},
      { os: 'Ubuntu', repository: 'ghcr.io/rocm/{os}' },
      'repository `ghcr.io/rocm/Ubuntu` (from the row) is not a valid repository path'
    ]
  ])('%s, at the row', (_name, options, rowExtra, message) => {
    const config = configOf([row('1', 'a', rowExtra)])
    const error = configError(() => planImages(config, options))
    expect(error.issues).toHaveLength(1)
    expect(error.issues[0]?.code).toBe('bad-reference')
    expect(error.issues[0]?.message).toContain(message)
    expect(error.issues[0]?.message).toContain(`row 1 (`)
    expect(error.issues[0]?.location).toEqual({ file: MATRIX_FILE, line: 3, column: 7 })
  })

  it('two rows that name the same image', () => {
    const config = configOf([
      row('1', 'a'),
      row('1', 'a', { location: { file: MATRIX_FILE, line: 9, column: 7 } })
    ])
    const error = configError(() => planImages(config, {}))
    expect(error.issues).toEqual([
      {
        code: 'duplicate-row',
        message: `row 2 (1 a) at ${MATRIX_FILE}:9:7: \`ghcr.io/rocm/dev:1-a\` is already planned by row 1 (1 a) at ${MATRIX_FILE}:3:7`,
        location: { file: MATRIX_FILE, line: 9, column: 7 }
      }
    ])
  })

  it('a listed image that matches no row, and one that is not a reference', () => {
    const config = configOf([row('1', 'a')])
    const error = configError(() =>
      planImages(config, { images: ['ghcr.io/rocm/dev:2-a', '-x', 'ghcr.io/rocm/dev'] })
    )
    expect(error.issues.map(i => i.code)).toEqual([
      'unknown-image',
      'bad-image-filter',
      'bad-image-filter'
    ])
    expect(error.issues[0]?.message).toBe(
      `listed image \`ghcr.io/rocm/dev:2-a\` (ghcr.io/rocm/dev:2-a) matches no row of ${MATRIX_FILE}`
    )
    expect(error.issues[2]?.message).toContain('expected `repository:tag`')
  })
})

describe('planImages: images filter', () => {
  it('keeps only the listed references, in any spelling of the same repository', () => {
    const config = configOf([
      row('1', 'a', { repository: 'docker.io/library/ubuntu' }),
      row('2', 'b')
    ])
    const plans = planImages(config, { images: ['ubuntu:1-a'] })
    expect(plans.map(p => p.reference)).toEqual(['docker.io/library/ubuntu:1-a'])
  })

  it('plans every row when no list is given', () => {
    expect(planImages(configOf([row('1', 'a'), row('2', 'b')]), {})).toHaveLength(2)
  })
})

describe('planImages: effective policy', () => {
  const overrideAt = (
    match: string,
    settings: Partial<PolicyOverride>,
    line: number
  ): PolicyOverride => ({
    match,
    ...settings,
    location: { file: POLICY_FILE, line, column: 7 }
  })

  it('is the policy itself without overrides, and names only what the file wrote', () => {
    const config = configOf([row('1', 'a')], {
      mode: 'warn',
      requireSignature: true,
      locations: {
        mode: { file: POLICY_FILE, line: 2, column: 3 },
        require_signature: { file: POLICY_FILE, line: 3, column: 3 }
      }
    })
    expect(planImages(config, {})[0]?.policy).toEqual({
      mode: 'warn',
      digestTtlDays: 7,
      requireSignature: true,
      attestMode: 'none',
      attestationType: 'https://slsa.dev/provenance/v1',
      ignoreTlog: false,
      sources: [
        `mode=warn (policy ${POLICY_FILE}:2:3)`,
        `require_signature=true (policy ${POLICY_FILE}:3:3)`
      ]
    })
  })

  it('applies the most specific matching override and says so', () => {
    const config = configOf([row('6.4.4', 'ubuntu-22.04'), row('7.0', 'rhel-9')], {
      overrides: [
        overrideAt('ghcr.io/*', { requireSignature: true, digestTtlDays: 3 }, 10),
        overrideAt(
          'ghcr.io/rocm/dev:*-ubuntu-*',
          { attestMode: 'enforce', requireSignature: false },
          12
        ),
        overrideAt('docker.io/*', { digestTtlDays: 99 }, 14)
      ]
    })
    const [ubuntu, rhel] = planImages(config, {})
    expect(ubuntu?.policy).toMatchObject({
      override: 'ghcr.io/rocm/dev:*-ubuntu-*',
      attestMode: 'enforce',
      requireSignature: false,
      digestTtlDays: 7
    })
    expect(ubuntu?.policy.sources).toEqual([
      `require_signature=false (override "ghcr.io/rocm/dev:*-ubuntu-*" at ${POLICY_FILE}:12:7)`,
      `attest_mode=enforce (override "ghcr.io/rocm/dev:*-ubuntu-*" at ${POLICY_FILE}:12:7)`
    ])
    expect(rhel?.policy).toMatchObject({
      override: 'ghcr.io/*',
      requireSignature: true,
      digestTtlDays: 3
    })
  })

  it("lets the row's provenance settings win over the override", () => {
    const provenance = {
      requireSignature: false,
      attestationType: 'https://example.com/p',
      ignoreTlog: true,
      locations: { require_signature: { file: MATRIX_FILE, line: 7, column: 28 } }
    }
    const config = configOf([row('1', 'a', { provenance })], {
      overrides: [overrideAt('*', { requireSignature: true }, 5)]
    })
    const policy = planImages(config, {})[0]?.policy
    expect(policy).toMatchObject({
      requireSignature: false,
      attestationType: 'https://example.com/p',
      ignoreTlog: true
    })
    expect(policy?.sources).toContain(`require_signature=false (matrix row ${MATRIX_FILE}:7:28)`)
    expect(policy?.sources).toContain(`ignore_tlog=true (matrix row ${MATRIX_FILE}:3:7)`)
  })

  it('carries trusted_root', () => {
    const config = configOf([row('1', 'a')], {
      trustedRoot: 'ci/root.json',
      locations: { trusted_root: { file: POLICY_FILE, line: 4, column: 3 } }
    })
    expect(planImages(config, {})[0]?.policy).toMatchObject({
      trustedRoot: 'ci/root.json',
      sources: [`trusted_root=ci/root.json (policy ${POLICY_FILE}:4:3)`]
    })
  })
})

describe('planImages: signer', () => {
  it.each([
    ['no provenance', undefined, undefined],
    [
      'a key',
      {
        keyPath: 'k.pub',
        keyFingerprint: `sha256:${'a'.repeat(64)}`,
        validFrom: '2026-01-01',
        validUntil: '2027-01-01'
      },
      {
        kind: 'key',
        keyPath: 'k.pub',
        keyFingerprint: `sha256:${'a'.repeat(64)}`,
        validFrom: '2026-01-01',
        validUntil: '2027-01-01'
      }
    ],
    [
      'a keyless identity',
      { identity: '^x$', issuer: 'https://i', issuerIsRegexp: false },
      { kind: 'keyless', identity: '^x$', issuer: 'https://i', issuerIsRegexp: false }
    ],
    [
      'a keyless identity with an issuer pattern',
      { identity: '.*', issuer: '^https://(a|b)$', issuerIsRegexp: true },
      { kind: 'keyless', identity: '.*', issuer: '^https://(a|b)$', issuerIsRegexp: true }
    ],
    ['settings but no signer', { requireSignature: true }, undefined]
  ])('from %s', (_name, provenance, signer) => {
    const config = configOf([row('1', 'a', provenance ? { provenance } : {})])
    expect(planImages(config, {})[0]?.signer).toEqual(signer)
  })
})

describe('matchesGlob and specificity', () => {
  it.each([
    ['ghcr.io/*', 'ghcr.io/rocm/dev:1', true],
    ['*', '', true],
    ['*:6.4.?-*', 'ghcr.io/rocm/dev:6.4.4-ubuntu', true],
    ['*:6.4.?-*', 'ghcr.io/rocm/dev:6.4.10-ubuntu', false],
    ['ghcr.io/rocm/dev:1', 'ghcr.io/rocm/dev:1', true],
    ['ghcr.io/rocm/dev:1', 'ghcr.io/rocm/dev:10', false],
    ['*a*b*c', 'xaxbxcx', false],
    ['a.b', 'axb', false]
  ])('%s on %s is %s', (glob, text, expected) => {
    expect(matchesGlob(glob, text)).toBe(expected)
  })

  it('matches a hostile glob in linear time', () => {
    const started = Date.now()
    expect(matchesGlob(`${'*a'.repeat(50)}b`, 'a'.repeat(5000))).toBe(false)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('counts literal characters; the earliest wins a tie', () => {
    expect(globSpecificity('ghcr.io/*:?')).toBe(9)
    const first = { match: 'a*' }
    const second = { match: '*a' }
    expect(findOverride([first, second], 'aa')).toBe(first)
    expect(findOverride([first, { match: 'aa' }], 'aa')?.match).toBe('aa')
    expect(findOverride([first], 'b')).toBeUndefined()
  })
})

describe('choosePreferredPlan', () => {
  const rows = [
    row('6.4.4', 'ubuntu-22.04'),
    row('6.4.4', 'ubuntu-24.04'),
    row('6.10.0', 'ubuntu-22.04'),
    row('6.2.0', 'rhel-9')
  ]
  const plansOf = (
    preference: Matrix['preference'],
    keep?: (r: MatrixRow) => boolean
  ): [Matrix, ImagePlan[]] => {
    const config = configOf(keep ? rows.filter(keep) : rows, {}, preference ? { preference } : {})
    return [config.matrix, planImages(config, {})]
  }
  const chosen = (
    preference: Matrix['preference'],
    keep?: (r: MatrixRow) => boolean
  ): string | undefined => {
    const [matrix, plans] = plansOf(preference, keep)
    const plan = choosePreferredPlan(matrix, plans)
    return plan && `${plan.row.version} ${plan.row.os}`
  }

  it('takes the first plan without rocm.policy, and nothing without plans', () => {
    expect(chosen(undefined)).toBe('6.4.4 ubuntu-22.04')
    expect(choosePreferredPlan({ form: 'rows', rows: [] }, [])).toBeUndefined()
  })

  it.each([
    [
      'the default version on prefer_os',
      { default: ['6.4.4', 'ubuntu-22.04'], preferOs: 'ubuntu-24.04' },
      undefined,
      '6.4.4 ubuntu-24.04'
    ],
    [
      'the default row when no row has prefer_os',
      { default: ['6.4.4', 'ubuntu-22.04'], preferOs: 'fedora' },
      undefined,
      '6.4.4 ubuntu-22.04'
    ],
    ['the default row alone', { default: ['6.2.0', 'rhel-9'] }, undefined, '6.2.0 rhel-9'],
    [
      'the newest version on prefer_os without a default',
      { preferOs: 'ubuntu-22.04' },
      undefined,
      '6.10.0 ubuntu-22.04'
    ],
    [
      'fallback_os when the default row is filtered out',
      { default: ['6.4.4', 'ubuntu-24.04'], fallbackOs: 'ubuntu-22.04' },
      (r: MatrixRow) => r.os !== 'ubuntu-24.04',
      '6.4.4 ubuntu-22.04'
    ],
    [
      'fallback_version when the default version is gone',
      { default: ['6.4.4', 'ubuntu-22.04'], fallbackVersion: '6.2.0' },
      (r: MatrixRow) => r.version !== '6.4.4',
      '6.2.0 rhel-9'
    ],
    [
      'the first plan when nothing matches',
      { default: ['9', 'x'], preferOs: 'y', fallbackOs: 'z', fallbackVersion: '8' },
      undefined,
      '6.4.4 ubuntu-22.04'
    ]
  ] as const)('chooses %s', (_name, preference, keep, expected) => {
    expect(chosen(preference as Matrix['preference'], keep)).toBe(expected)
  })
})

describe('compareVersionText', () => {
  it.each([
    ['6.10', '6.9', 1],
    ['6.4.4', '6.4.4', 0],
    ['6.4', '6.4.1', -1],
    ['6.4', '6.4.0', 0],
    ['7.0.0-rc1', '7.0.0', -1],
    ['7.0.0-rc10', '7.0.0-rc9', 1],
    ['7.0.0-rc1', '6.4.4', 1]
  ])('%s vs %s is %i', (a, b, sign) => {
    expect(compareVersionText(a, b)).toBe(sign)
  })
})

describe('choosePreferredRow: the best pinned row, and why', () => {
  const placeholder = { pin: { kind: 'not-pinned' as const, raw: 'sha256:TODO_NEXT_RELEASE' } }
  const choose = (rows: MatrixRow[], preference?: Matrix['preference']) => {
    const config = configOf(rows, {}, preference ? { preference } : {})
    return choosePreferredRow(config.matrix, planImages(config, {}))
  }
  const migrating = {
    default: ['6.4.4', 'ubuntu-22.04'] as [string, string],
    preferOs: 'ubuntu-24.04',
    fallbackOs: 'ubuntu-22.04',
    fallbackVersion: '6.4.4'
  }

  it('passes over a preferred row that still holds a placeholder and says so', () => {
    const choice = choose(
      [row('6.4.4', 'ubuntu-22.04'), row('6.4.4', 'ubuntu-24.04', placeholder)],
      migrating
    )
    expect(choice?.plan.row.os).toBe('ubuntu-22.04')
    expect(choice?.reason).toBe(
      '6.4.4 / ubuntu-22.04, chosen by `default`; passed over as not pinned: 6.4.4 / ubuntu-24.04 (prefer_os ubuntu-24.04)'
    )
  })

  it('takes the preferred row when it is pinned', () => {
    const choice = choose([row('6.4.4', 'ubuntu-22.04'), row('6.4.4', 'ubuntu-24.04')], migrating)
    expect(choice?.reason).toBe('6.4.4 / ubuntu-24.04, chosen by prefer_os ubuntu-24.04')
  })

  it('falls back to matrix order past every preference, and to nothing when no row is pinned', () => {
    const choice = choose(
      [
        row('6.4.4', 'ubuntu-22.04', placeholder),
        row('6.4.4', 'ubuntu-24.04', placeholder),
        row('6.2.0', 'rhel-9')
      ],
      migrating
    )
    expect(choice?.plan.row.os).toBe('rhel-9')
    expect(choice?.reason).toMatch(
      /^6\.2\.0 \/ rhel-9, chosen by matrix order; passed over as not pinned: /
    )
    expect(choose([row('6.4.4', 'ubuntu-24.04', placeholder)], migrating)).toBeUndefined()
  })
})
