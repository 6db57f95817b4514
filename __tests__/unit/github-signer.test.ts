/**
 * The `github:` signer kind (issue 13): read from a real policy file (defaults,
 * every config error at its line and column), planned into trusted_signers and
 * requirements, and its pure checks — the identity cosign is given, what the
 * certificate's GitHub extensions and the statement must say, and one
 * signer's result from the bundles found.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { ConfigError } from '../../src/domain/errors.js'
import {
  checkGitHubBundle,
  combineGitHubBundles,
  fromRepository,
  gitHubApiSubjects,
  gitHubSigningTime,
  identityRegexpFor,
  notACandidate,
  timestampToRead,
  timestampVariants,
  timeVerificationFor,
  type GitHubCertificateClaims,
  type JudgedBundle
} from '../../src/domain/github-signer.js'
import {
  bundleTimeEvidence,
  protojsonNames,
  trustedRootHasCtLogs
} from '../../src/domain/sigstore-bundle.js'
import { planImages } from '../../src/domain/plan.js'
import type { Digest, GitHubSignerExpectation } from '../../src/domain/types.js'
import {
  issuesFor,
  loadFrom,
  makeWorkspace,
  MINIMAL_MATRIX,
  PINNED_DIGEST,
  POLICY_PATH,
  type ConfigWorkspace
} from '../helpers/config-workspace.js'

let workspace: ConfigWorkspace
beforeAll(async () => {
  workspace = await makeWorkspace()
})
afterAll(async () => {
  await workspace.remove()
})

const POLICY = `policy:
  signers:
    images-ci:
      github:
        repository: rocm/images
        signer_workflow: '^https://github\\.com/rocm/images/\\.github/workflows/release\\.yml@refs/tags/v'
        source_ref: '^refs/tags/v'
    self-hosted-ok:
      github:
        repository: rocm/images
        hosted_runners_only: false
        predicate_type: https://in-toto.io/attestation/release/v0.1
  trusted_signers: [images-ci]
  attestations:
    - type: https://slsa.dev/provenance/v1
      signers: [images-ci]
`

describe('reading `github:` signers', () => {
  it('reads every key, with defaults, and plans them as trusted signers and requirement signers', async () => {
    const config = await loadFrom(workspace, POLICY, MINIMAL_MATRIX)
    expect(config.policy.signers?.['images-ci']).toMatchObject({
      kind: 'github',
      name: 'images-ci',
      repository: 'rocm/images',
      signerWorkflow:
        '^https://github\\.com/rocm/images/\\.github/workflows/release\\.yml@refs/tags/v',
      sourceRef: '^refs/tags/v',
      hostedRunnersOnly: true,
      predicateType: 'https://slsa.dev/provenance/v1'
    })
    expect(config.policy.signers?.['self-hosted-ok']).toMatchObject({
      hostedRunnersOnly: false,
      predicateType: 'https://in-toto.io/attestation/release/v0.1'
    })
    const [plan] = planImages(config, {})
    expect(plan.trustModel).toBe('signers')
    expect(plan.signers?.map(s => `${s.name}:${s.kind}`)).toEqual(['images-ci:github'])
    expect(plan.requirements?.[0].signers.map(s => s.name)).toEqual(['images-ci'])
  })

  it('config errors at their line and column: no repository, a bad RE2, a key next to github', async () => {
    const issues = await issuesFor(
      workspace,
      `policy:
  signers:
    no-repo:
      github:
        source_ref: '^refs/tags/v'
    bad-regexp:
      github:
        repository: rocm/images
        signer_workflow: '^(?=lookahead)'
    both:
      key_path: ci/keys/k.pub
      github:
        repository: rocm/images
    bad-name:
      github:
        repository: 'not a repository'
`,
      MINIMAL_MATRIX
    )
    const placed = issues.map(
      i => `${i.location?.file}:${i.location?.line}:${i.location?.column} ${i.code}`
    )
    expect(placed).toEqual([
      `${POLICY_PATH}:5:9 missing-key`,
      `${POLICY_PATH}:9:26 bad-regexp`,
      `${POLICY_PATH}:11:7 conflicting-keys`,
      `${POLICY_PATH}:16:21 bad-value`
    ])
  })

  it('an undefined signer name is still an error when the others are github signers', async () => {
    const config = await loadFrom(
      workspace,
      POLICY.replace('trusted_signers: [images-ci]', 'trusted_signers: [images-ci, nobody]'),
      MINIMAL_MATRIX
    ).catch((error: unknown) => error)
    expect(config).toBeInstanceOf(ConfigError)
  })
})

const SIGNER: GitHubSignerExpectation = {
  kind: 'github',
  repository: 'rocm/images',
  signerWorkflow: '^https://github\\.com/rocm/images/\\.github/workflows/release\\.yml@',
  sourceRef: '^refs/tags/v',
  hostedRunnersOnly: true,
  predicateType: 'https://slsa.dev/provenance/v1'
}
const PIN = PINNED_DIGEST as Digest
const CLAIMS: GitHubCertificateClaims = {
  subjectAlternativeName:
    'https://github.com/rocm/images/.github/workflows/release.yml@refs/tags/v1',
  buildSignerUri: 'https://github.com/rocm/images/.github/workflows/release.yml@refs/tags/v1',
  runnerEnvironment: 'github-hosted',
  sourceRepositoryUri: 'https://github.com/rocm/images',
  sourceRepositoryRef: 'refs/tags/v1'
}
const STATEMENT = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'x', digest: { sha256: 'a'.repeat(64) } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {}
}

describe('fromRepository', () => {
  it('compares ASCII names without case, and nothing else without case', () => {
    const uri = (name: string) => ({ sourceRepositoryUri: `https://github.com/${name}` })
    expect(fromRepository(uri('KERNEL/Images'), 'kernel/images')).toBe(true)
    // U+212A KELVIN SIGN lower-cases to `k` in Unicode; GitHub's names are ASCII.
    expect(fromRepository(uri('\u212aernel/images'), 'kernel/images')).toBe(false)
    expect(fromRepository({}, 'kernel/images')).toBe(false)
  })
})

describe('gitHubApiSubjects', () => {
  it('names each (repository, pin, predicate type URI) the github signers will ask, once', async () => {
    const policy = POLICY.replace(
      'trusted_signers: [images-ci]',
      'trusted_signers: [images-ci, self-hosted-ok]'
    ).replace('- type: https://slsa.dev/provenance/v1', '- type: slsaprovenance1')
    const plans = planImages(await loadFrom(workspace, policy, MINIMAL_MATRIX), {})
    expect(gitHubApiSubjects([...plans, ...plans])).toEqual([
      { repository: 'rocm/images', digest: PIN, predicateType: 'https://slsa.dev/provenance/v1' },
      {
        repository: 'rocm/images',
        digest: PIN,
        predicateType: 'https://in-toto.io/attestation/release/v0.1'
      }
    ])
  })

  it('asks nothing for an unpinned row or a row without github signers', async () => {
    const plans = planImages(await loadFrom(workspace, POLICY, MINIMAL_MATRIX), {})
    const unpinned = plans.map(plan => ({
      ...plan,
      row: { ...plan.row, pin: { kind: 'not-pinned' as const, raw: 'sha256:TODO' } }
    }))
    expect(gitHubApiSubjects(unpinned as typeof plans)).toEqual([])
    const keyOnly = planImages(
      await loadFrom(workspace, 'policy:\n  mode: warn\n', MINIMAL_MATRIX),
      {}
    )
    expect(gitHubApiSubjects(keyOnly)).toEqual([])
  })
})

describe('checkGitHubBundle', () => {
  it('accepts the signer’s own attestation of the pin', () => {
    expect(checkGitHubBundle(SIGNER, CLAIMS, STATEMENT, PIN, 'slsaprovenance1')).toBeUndefined()
  })

  it.each([
    ['another subject', CLAIMS, { ...STATEMENT, subject: [] }, /subject is \(none\)/],
    [
      'another predicate type',
      CLAIMS,
      { ...STATEMENT, predicateType: 'https://slsa.dev/provenance/v0.2' },
      /predicateType is "https:\/\/slsa\.dev\/provenance\/v0\.2"/
    ],
    [
      'another repository',
      { ...CLAIMS, sourceRepositoryUri: 'https://github.com/evil/images' },
      STATEMENT,
      /Source Repository URI is https:\/\/github\.com\/evil\/images/
    ],

    [
      'a branch',
      { ...CLAIMS, sourceRepositoryRef: 'refs/heads/main' },
      STATEMENT,
      /Source Repository Ref refs\/heads\/main does not match/
    ],
    [
      'another workflow',
      { ...CLAIMS, buildSignerUri: 'https://github.com/rocm/images/.github/workflows/x.yml@v' },
      STATEMENT,
      /Build Signer URI .* does not match signer_workflow/
    ],
    [
      'a self-hosted runner',
      { ...CLAIMS, runnerEnvironment: 'self-hosted' },
      STATEMENT,
      /self-hosted runner/
    ],
    [
      'no runner environment',
      { ...CLAIMS, runnerEnvironment: undefined },
      STATEMENT,
      /unknown runner/
    ]
  ])('refuses %s', (_what, claims, statement, reason) => {
    expect(checkGitHubBundle(SIGNER, claims, statement, PIN, SIGNER.predicateType)).toMatch(reason)
  })

  it('the default identity is any workflow of the repository, escaped for RE2', () => {
    expect(identityRegexpFor({ ...SIGNER, signerWorkflow: undefined })).toBe(
      '(?i)^https://github\\.com/rocm/images/'
    )
  })
})

describe('combineGitHubBundles', () => {
  const where = { source: 'API' as const, locator: 'repos/rocm/images/attestations/x #1' }
  const invalid: JudgedBundle = { ...where, result: 'invalid', message: 'not ours' }

  it('none found: absent (unsigned)', () => {
    expect(combineGitHubBundles([], [], 0).result).toBe('absent')
  })

  it('a source that could not be read outweighs an invalid bundle: could not complete', () => {
    const check = combineGitHubBundles([invalid], ['GitHub attestations API: rate-limited'], 1)
    expect(check).toMatchObject({ result: 'could-not-complete' })
    expect(check.message).toContain('rate-limited')
  })

  it('only bundles that are not this signer’s: invalid, naming the source', () => {
    const check = combineGitHubBundles([invalid], [], 1)
    expect(check).toMatchObject({ result: 'invalid', source: 'API' })
    expect(check.message).toBe('API bundle repos/rocm/images/attestations/x #1: not ours')
  })

  it('names each bundle’s own reason, up to three, then counts the rest', () => {
    const judged = ['key', 'self-hosted', 'branch', 'fork', 'other'].map(
      (message, i): JudgedBundle => ({ ...where, locator: `#${i + 1}`, result: 'invalid', message })
    )
    expect(combineGitHubBundles(judged, [], 5).message).toBe(
      "API bundle #1: key; API bundle #2: self-hosted; API bundle #3: branch (and 2 more bundle(s), none this signer's)"
    )
  })

  it('absent says how many registry bundles of other kinds were passed over', () => {
    expect(combineGitHubBundles([], [], 0, 2).message).toContain(
      '(2 bundle referrer(s) of other kinds passed over'
    )
  })
})

describe('notACandidate (routing registry bundles to a github signer)', () => {
  const payload = (predicateType: string) =>
    Buffer.from(JSON.stringify({ predicateType })).toString('base64')
  const certificate = { certificate: { rawBytes: 'MA==' } }
  const SLSA1 = 'https://slsa.dev/provenance/v1'

  it.each([
    [
      'a cosign message signature',
      { verificationMaterial: certificate, messageSignature: {} },
      'a signature, not an attestation'
    ],
    [
      'a key-signed attestation',
      {
        verificationMaterial: { publicKey: { hint: 'k' } },
        dsseEnvelope: { payload: payload(SLSA1) }
      },
      'signed with a key, not a Fulcio certificate'
    ],
    [
      'an attestation of another predicate type',
      {
        verificationMaterial: certificate,
        dsseEnvelope: { payload: payload('https://spdx.dev/Document') }
      },
      'an attestation of https://spdx.dev/Document'
    ]
  ])('passes over %s', (_what, bundle, reason) => {
    expect(notACandidate(bundle, 'slsaprovenance1')).toBe(reason)
  })

  it.each([
    [
      'a DSSE attestation of the type, with a certificate chain',
      {
        verificationMaterial: { x509CertificateChain: { certificates: [] } },
        dsseEnvelope: { payload: payload(SLSA1) }
      }
    ],
    [
      'a payload that is not base64 JSON (cosign refuses it)',
      { verificationMaterial: certificate, dsseEnvelope: { payload: '%%%' } }
    ]
  ])('keeps %s', (_what, bundle) => {
    expect(notACandidate(bundle, SLSA1)).toBeUndefined()
  })
})

describe('protojsonNames (a bundle read by the field names cosign reads)', () => {
  it('reads a field under its protobuf name as under its JSON name, as protojson does', () => {
    const named = protojsonNames({
      dsse_envelope: { payload: 'e30=' },
      verification_material: {
        tlog_entries: [{ integrated_time: '1' }],
        timestamp_verification_data: {
          rfc3161_timestamps: [{ signedTimestamp: 'A' }, { signed_timestamp: 'B' }]
        }
      }
    })
    expect(named).toEqual({
      bundle: {
        dsseEnvelope: { payload: 'e30=' },
        verificationMaterial: {
          tlogEntries: [{ integratedTime: '1' }],
          timestampVerificationData: {
            rfc3161Timestamps: [{ signedTimestamp: 'A' }, { signedTimestamp: 'B' }]
          }
        }
      }
    })
    expect(bundleTimeEvidence('bundle' in named ? named.bundle : undefined)).toEqual({
      tlogEntries: 1,
      signedTimestamps: ['A', 'B']
    })
  })

  it('refuses a field named both ways in one object (protojson does too)', () => {
    expect(
      protojsonNames({ verificationMaterial: { tlogEntries: [], tlog_entries: [{}] } })
    ).toEqual({ problem: 'the bundle names its field tlogEntries twice' })
  })

  it('leaves other names as they are, and a __proto__ key a plain field', () => {
    const named = protojsonNames(JSON.parse('{"__proto__": {"x": 1}, "Tlog_Entries": []}'))
    expect(named).toEqual({ bundle: expect.anything() })
    const bundle = (named as { bundle: Record<string, unknown> }).bundle
    expect(Object.keys(bundle)).toEqual(['__proto__', 'Tlog_Entries'])
    expect(Object.getPrototypeOf(bundle)).toBeNull()
  })

  it('a DSSE attestation under protobuf names is a candidate, not a signature passed over', () => {
    const payload = Buffer.from(
      JSON.stringify({ predicateType: 'https://slsa.dev/provenance/v1' })
    ).toString('base64')
    const bundle = {
      verification_material: { certificate: { raw_bytes: 'MA==' } },
      dsse_envelope: { payload }
    }
    expect(notACandidate(bundle, 'slsaprovenance1')).toBe('a signature, not an attestation')
    const named = protojsonNames(bundle)
    expect(notACandidate('bundle' in named && named.bundle, 'slsaprovenance1')).toBeUndefined()
  })
})

describe('the signing time of a bundle: log entry or signed timestamp', () => {
  const stamped = (...timestamps: string[]) => ({
    verificationMaterial: {
      timestampVerificationData: {
        rfc3161Timestamps: timestamps.map(signedTimestamp => ({ signedTimestamp }))
      }
    }
  })
  const logged = { verificationMaterial: { tlogEntries: [{ integratedTime: '1' }] } }
  const github = { given: true as const, hasCtLogs: false }

  it('reads the log entries and the signed timestamps a bundle carries', () => {
    expect(bundleTimeEvidence(logged)).toEqual({ tlogEntries: 1, signedTimestamps: [] })
    expect(bundleTimeEvidence(stamped('MII'))).toEqual({
      tlogEntries: 0,
      signedTimestamps: ['MII']
    })
    expect(bundleTimeEvidence({ verificationMaterial: 'junk' })).toEqual({
      tlogEntries: 0,
      signedTimestamps: []
    })
  })

  it('a log entry: cosign’s default (the log is verified)', () => {
    expect(timeVerificationFor(bundleTimeEvidence(logged), github)).toEqual({ args: [] })
  })

  it('only a signed timestamp, with a trusted root: signed timestamps, never the log alone', () => {
    expect(timeVerificationFor(bundleTimeEvidence(stamped('MII')), github)).toEqual({
      args: ['--use-signed-timestamps', '--insecure-ignore-tlog', '--insecure-ignore-sct']
    })
    // A trusted root that lists a CT log keeps the SCT required.
    expect(
      timeVerificationFor(bundleTimeEvidence(stamped('MII')), { given: true, hasCtLogs: true })
    ).toEqual({ args: ['--use-signed-timestamps', '--insecure-ignore-tlog'] })
  })

  it('neither a log entry nor a timestamp, or a timestamp without a trusted root: refused', () => {
    expect(timeVerificationFor(bundleTimeEvidence({}), github)).toEqual({
      problem: 'the bundle has neither a transparency-log entry nor a signed timestamp'
    })
    expect(timeVerificationFor(bundleTimeEvidence(stamped('MII')), { given: false })).toMatchObject(
      { problem: expect.stringContaining('only against trusted_root') }
    )
  })

  it('the timestamp read for the time: the only one, never one of several', () => {
    expect(timestampToRead(bundleTimeEvidence(stamped('A')))).toBe('A')
    expect(timestampToRead(bundleTimeEvidence(stamped('A', 'B')))).toBeUndefined()
  })

  it('several timestamps: cosign is given each alone, so the one read is the one it verified', () => {
    const bundle = { ...stamped('A', 'B'), dsseEnvelope: { payload: 'e30=' } }
    expect(timestampVariants(bundle, bundleTimeEvidence(bundle))).toEqual({
      bundles: [
        { ...stamped('A'), dsseEnvelope: { payload: 'e30=' } },
        { ...stamped('B'), dsseEnvelope: { payload: 'e30=' } }
      ]
    })
    expect(timestampVariants(stamped('A'), bundleTimeEvidence(stamped('A')))).toEqual({
      bundles: [stamped('A')]
    })
    // A logged bundle is verified by its log, its timestamps as they are.
    const both = {
      verificationMaterial: {
        ...logged.verificationMaterial,
        ...stamped('A', 'B').verificationMaterial
      }
    }
    expect(timestampVariants(both, bundleTimeEvidence(both))).toEqual({ bundles: [both] })
    const many = stamped('A', 'B', 'C', 'D', 'E')
    expect(timestampVariants(many, bundleTimeEvidence(many))).toEqual({
      problem: 'the bundle has 5 signed timestamps; at most 4 are verified'
    })
  })

  it('a trusted root lists CT logs only when its ctlogs has one', () => {
    expect(trustedRootHasCtLogs({ ctlogs: [{}] })).toBe(true)
    expect(trustedRootHasCtLogs({ ctlogs: [] })).toBe(false)
    expect(trustedRootHasCtLogs({ timestampAuthorities: [{}] })).toBe(false)
  })

  it('the window is judged at the time the bundle says, by its source, else the run’s', () => {
    const now = new Date('2026-07-01T00:00:00Z')
    expect(
      gitHubSigningTime({ signedAt: '2026-06-01T00:00:00.000Z', signedAtSource: 'tsa' }, now)
    ).toEqual({ at: new Date('2026-06-01T00:00:00Z'), source: 'tsa' })
    expect(gitHubSigningTime({}, now)).toEqual({ at: now, source: 'run' })
  })
})
