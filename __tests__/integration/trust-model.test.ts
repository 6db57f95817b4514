/**
 * The trust model of issue 18 against the real cosign 3.1.1, a real registry
 * and (for keyless signers) the loopback Sigstore stand-in: key rotation,
 * N-of-M thresholds counted by distinct signer, mixed key + keyless signers,
 * and what an attestation must say (SLSA builder id, subject digest, SBOM
 * presence, vulnerability scan age) — each through the whole pipeline
 * (config → plan → registry → cosign → decide). cosign runs through a wrapper
 * that logs each call, so the calls per image are counted, not guessed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publicKeyFingerprint } from '../../src/adapters/cosign/key.js'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import { loadConfig } from '../../src/adapters/fs/config-load.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { runUpdate } from '../../src/app/update.js'
import { verifyImages } from '../../src/app/verify.js'
import { planImages } from '../../src/domain/plan.js'
import type { Digest, ImageResult, RunResult } from '../../src/domain/types.js'
import { digestExistsAt, signatureEvidenceAt } from '../helpers/cosign-plans.js'
import {
  GITHUB_ISSUER,
  RELEASE_IDENTITY,
  startKeylessBed,
  type KeylessBed
} from '../helpers/cosign-keyless.js'
import {
  attestImage,
  generateKeyPair,
  pushImage,
  signImage,
  slsaPredicate,
  type KeyPair
} from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, mustRun, toolPath } from '../helpers/tools.js'

const REPO = 'rocm/dev'
const NOW = new Date('2026-11-30T12:00:00Z')
const DAY_MS = 24 * 60 * 60 * 1000
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1'
const SPDX = 'https://spdx.dev/Document'
const SLSA = 'https://slsa.dev/provenance/v1'
const GOOD_BUILDER =
  'https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/tags/v6.4.4'

let registry: TestRegistry
let bed: KeylessBed
let workspace: string
let cosignLog: string
let wrapper: string
const keys: Record<string, KeyPair> = {}
const digests: Record<string, Digest> = {}

async function image(name: string): Promise<string> {
  const digest = (await pushImage(registry.host, REPO, name)) as Digest
  digests[name] = digest
  return `${registry.host}/${REPO}@${digest}`
}

async function attest(
  ref: string,
  key: KeyPair,
  predicate: object,
  type: string,
  legacy = false
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-predicate-'))
  writeFileSync(join(dir, 'predicate.json'), JSON.stringify(predicate))
  await mustRun(
    toolPath('cosign'),
    [
      'attest',
      '--key',
      key.privateKey,
      '--use-signing-config=false',
      '--tlog-upload=false',
      '-y',
      '--allow-http-registry',
      '--allow-insecure-registry',
      ...(legacy ? ['--new-bundle-format=false'] : []),
      '--type',
      type,
      '--predicate',
      join(dir, 'predicate.json'),
      ref
    ],
    { env: hermeticEnv() }
  )
}

function vulnPredicate(finishedDaysAgo: number): object {
  const finished = new Date(NOW.getTime() - finishedDaysAgo * DAY_MS).toISOString()
  return {
    invocation: { uri: 'https://example.invalid/scan', event_id: '1' },
    scanner: { uri: 'pkg:github/aquasecurity/trivy@0.50', version: '0.50', result: {} },
    metadata: { scanStartedOn: finished, scanFinishedOn: finished }
  }
}

const KEY_SIGNERS = `  signers:
    release-2025:
      key_path: ci/keys/old.pub
      valid_until: 2026-06-30
    release-2026:
      key_path: ci/keys/new.pub
      valid_from: 2026-06-01
    a:
      key_path: ci/keys/a.pub
    a-again:
      key_path: ci/keys/a-copy.pub
    b:
      key_path: ci/keys/b.pub
    c:
      key_path: ci/keys/c.pub
    broken:
      key_path: ci/keys/broken.pub
    images-ci:
      identity: '^https://github\\.com/rocm/rocm-images/\\.github/workflows/release\\.yml@.*$'
      issuer: ${GITHUB_ISSUER}
`

/** Runs the pipeline on one row per image named, under `policy` (the signers above are added). */
async function run(policyBody: string, images: string[], now = NOW): Promise<RunResult> {
  const policy = `policy:\n  mode: strict\n  require_signature: true\n  ignore_tlog: true\n  trusted_root: ci/trusted_root.json\n${KEY_SIGNERS}${policyBody}`
  writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy)
  const rows = images.flatMap((name, i) => [
    `    - version: "1.${i}"`,
    `      os: "${name}"`,
    `      repository: ${registry.host}/${REPO}`,
    `      tag: "${name}"`,
    `      digest: "${digests[name]}"`,
    `      added: "2026-11-29"`
  ])
  writeFileSync(
    join(workspace, 'ci', 'rocm_matrix.yml'),
    ['rocm:', '  images:', ...rows, ''].join('\n')
  )
  const credentials = createCredentialStore({})
  const registryClient = new RegistryClient({ credentials, insecureRegistries: [registry.host] })
  const verifier = new CosignVerifier({
    cosignPath: wrapper,
    workspace,
    insecureRegistries: [registry.host],
    env: hermeticEnv({ COSIGN_CALL_LOG: cosignLog }),
    maxAttempts: 1,
    signatureEvidence: signatureEvidenceAt(registry.url),
    digestExists: digestExistsAt(registry.url)
  })
  return verifyImages(
    {
      workspace,
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      images: [],
      concurrency: 1,
      now
    },
    {
      loadConfig,
      registry: registryClient,
      prepareCosign: async () => ({ verifier, version: { gitVersion: 'test', path: wrapper } })
    }
  )
}

function byName(result: RunResult, name: string): ImageResult {
  const found = result.images.find(i => i.findings.plan.row.os === name)
  if (!found) throw new Error(`no image ${name}: ${JSON.stringify(result.configIssues)}`)
  return found
}

function signerResults(result: ImageResult): string[] {
  return (result.findings.signature.signers ?? []).map(
    s => `${s.name}:${s.result}${s.counted ? '+' : ''}`
  )
}

/** cosign calls logged for this digest since the log was last cleared. */
function callsFor(name: string): string[] {
  const log = readFileSync(cosignLog, 'utf8').split('\n').filter(Boolean)
  return log.filter(line => line.includes(digests[name]))
}

beforeAll(async () => {
  ;[registry, bed] = await Promise.all([startRegistry(), startKeylessBed()])
  const names = ['old', 'new', 'a', 'b', 'c']
  const pairs = await Promise.all(names.map(n => generateKeyPair(n)))
  names.forEach((n, i) => (keys[n] = pairs[i]))
  workspace = mkdtempSync(join(tmpdir(), 'rp-trust-'))
  mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
  for (const n of names) copyFileSync(keys[n].publicKey, join(workspace, 'ci', 'keys', `${n}.pub`))
  copyFileSync(keys.a.publicKey, join(workspace, 'ci', 'keys', 'a-copy.pub'))
  // A key file cosign cannot use: its signer's check cannot complete.
  writeFileSync(join(workspace, 'ci', 'keys', 'broken.pub'), 'not a PEM public key\n')
  copyFileSync(bed.trustedRootPath, join(workspace, 'ci', 'trusted_root.json'))
  cosignLog = join(workspace, 'cosign-calls.log')
  writeFileSync(cosignLog, '')
  wrapper = join(workspace, 'cosign-wrapper.sh')
  writeFileSync(
    wrapper,
    `#!/bin/sh\nprintf '%s\\n' "$*" >> "$COSIGN_CALL_LOG"\nexec ${toolPath('cosign')} "$@"\n`
  )
  chmodSync(wrapper, 0o755)

  const sign = async (name: string, ...by: string[]): Promise<void> => {
    const ref = await image(name)
    for (const key of by) await signImage(ref, keys[key])
  }
  await Promise.all([
    sign('old-only', 'old'),
    sign('old-and-new', 'old', 'new'),
    sign('new-only', 'new'),
    sign('ab', 'a', 'b'),
    sign('abc', 'a', 'b', 'c'),
    sign('a-only', 'a'),
    (async () => {
      await sign('key-and-keyless', 'a')
      await bed.sign(`${registry.host}/${REPO}@${digests['key-and-keyless']}`)
    })(),
    (async () => {
      const ref = await image('slsa-good')
      await signImage(ref, keys.a)
      await attestImage(ref, keys.a, slsaPredicate(GOOD_BUILDER))
    })(),
    (async () => {
      const ref = await image('slsa-other-builder')
      await signImage(ref, keys.a)
      await attestImage(ref, keys.a, slsaPredicate('https://github.com/evil/"fork"/build.yml'))
    })(),
    (async () => {
      const ref = await image('slsa-no-builder')
      await signImage(ref, keys.a)
      await attestImage(ref, keys.a, { buildDefinition: { buildType: 'x' }, runDetails: {} })
    })(),
    (async () => {
      const ref = await image('sbom')
      await signImage(ref, keys.a)
      await attest(ref, keys.a, { spdxVersion: 'SPDX-2.3', name: 'rocm' }, 'spdxjson')
    })(),
    (async () => {
      const ref = await image('vuln-2-days')
      await signImage(ref, keys.a)
      await attest(ref, keys.a, vulnPredicate(2), VULN)
    })(),
    (async () => {
      const ref = await image('vuln-30-days')
      await signImage(ref, keys.a)
      await attest(ref, keys.a, vulnPredicate(30), VULN)
    })(),
    (async () => {
      // An attestation of another image copied next to this one (cosign 2's
      // `.att` tag): signed by a trusted key, but its subject is not this digest.
      const ref = await image('other-subject')
      await signImage(ref, keys.a, { legacy: true })
      const elsewhere = await image('elsewhere')
      await attest(elsewhere, keys.a, slsaPredicate(GOOD_BUILDER), 'slsaprovenance1', true)
      const tag = (digest: Digest): string =>
        `${registry.host}/${REPO}:${digest.replace(':', '-')}.att`
      await mustRun(
        toolPath('crane'),
        ['copy', '--insecure', tag(digests.elsewhere), tag(digests['other-subject'])],
        { env: hermeticEnv() }
      )
    })()
  ])
}, 240_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), bed?.stop()])
  rmSync(workspace, { recursive: true, force: true })
})

describe('key rotation (release-2025 valid until 2026-06-30, release-2026 from 2026-06-01)', () => {
  const rotation = '  trusted_signers: [release-2025, release-2026]\n'

  it('old key only, past its end: expired; both: valid; new only: valid', async () => {
    const result = await run(rotation, ['old-only', 'old-and-new', 'new-only'])
    const old = byName(result, 'old-only')
    expect(old.decision.trustStatus).toBe('expired')
    expect(old.decision.code).toBe(3)
    expect(signerResults(old)).toEqual(['release-2025:expired', 'release-2026:invalid'])
    const both = byName(result, 'old-and-new')
    expect(both.decision.trustStatus).toBe('valid')
    expect(both.decision.code).toBe(0)
    expect(signerResults(both)).toEqual(['release-2025:expired', 'release-2026:verified+'])
    expect(both.decision.path).toContain(
      'signature: verified, threshold met — 1 of 1 required distinct trusted signer counted (release-2026)'
    )
    expect(both.findings.signature.signers?.[1]).toMatchObject({
      signingTime: NOW.toISOString(),
      signingTimeSource: 'run'
    })
    expect(byName(result, 'new-only').decision.trustStatus).toBe('valid')
  })

  it('before the new key starts, the old key alone is valid and the new key alone is not yet', async () => {
    const result = await run(rotation, ['old-only', 'new-only'], new Date('2026-05-15T12:00:00Z'))
    expect(byName(result, 'old-only').decision.trustStatus).toBe('valid')
    const early = byName(result, 'new-only')
    expect(early.decision.trustStatus).toBe('expired')
    expect(signerResults(early)).toEqual(['release-2025:invalid', 'release-2026:not-yet-valid'])
  })
})

describe('thresholds count distinct signers, never signatures', () => {
  it('2 of 3: met by two keys, not met by one', async () => {
    const result = await run('  trusted_signers: [a, b, c]\n  threshold: 2\n', ['ab', 'a-only'])
    const ab = byName(result, 'ab')
    expect(ab.decision.trustStatus).toBe('valid')
    expect(ab.findings.signature.threshold).toEqual({ required: 2, counted: 2, met: true })
    const one = byName(result, 'a-only')
    expect(one.decision.trustStatus).toBe('invalid')
    expect(one.decision.code).toBe(3)
    expect(one.findings.signature.threshold).toEqual({ required: 2, counted: 1, met: false })
    expect(signerResults(one)).toEqual(['a:verified+', 'b:invalid', 'c:invalid'])
  })

  it('is not met when only one key signed under two names (the same key counts once)', async () => {
    const result = await run('  trusted_signers: [a, a-again, b]\n  threshold: 2\n', ['a-only'])
    const twice = byName(result, 'a-only')
    expect(signerResults(twice)).toEqual(['a:verified+', 'a-again:verified', 'b:invalid'])
    expect(twice.findings.signature.threshold).toEqual({ required: 2, counted: 1, met: false })
    expect(twice.decision.trustStatus).toBe('invalid')
    expect(twice.decision.path.join('\n')).toContain(
      '; not counted: the same signer as a (key sha256:'
    )
  })

  it('is unknown when a signer that could not be checked would have made the difference', async () => {
    const result = await run('  trusted_signers: [a, broken]\n  threshold: 2\n', ['ab'])
    const image = byName(result, 'ab')
    expect(signerResults(image)).toEqual(['a:verified+', 'broken:could-not-complete'])
    expect(image.findings.signature.outcome).toBe('tool-error')
    expect(image.decision.trustStatus).toBe('unknown')
    expect(image.decision.code).toBe(3)
    // It makes no difference when the others already fall short of the threshold.
    const short = await run('  trusted_signers: [a, b, broken]\n  threshold: 3\n', ['a-only'])
    expect(byName(short, 'a-only').decision.trustStatus).toBe('invalid')
  })

  it('needs one cosign call per signer and image (1, 2 and 3 signers, all signed)', async () => {
    const counts: number[] = []
    for (const signers of [['a'], ['a', 'b'], ['a', 'b', 'c']]) {
      writeFileSync(cosignLog, '')
      const result = await run(
        `  trusted_signers: [${signers.join(', ')}]\n  threshold: ${signers.length}\n`,
        ['abc']
      )
      expect(byName(result, 'abc').decision.trustStatus).toBe('valid')
      counts.push(callsFor('abc').length)
    }
    expect(counts).toEqual([1, 2, 3])
  })
})

describe('mixed key and keyless signers', () => {
  it('2 of 2 (key + keyless identity): the keyless signer is checked against the log even with ignore_tlog', async () => {
    writeFileSync(cosignLog, '')
    const result = await run('  trusted_signers: [a, images-ci]\n  threshold: 2\n', [
      'key-and-keyless',
      'a-only'
    ])
    const both = byName(result, 'key-and-keyless')
    expect(signerResults(both)).toEqual(['a:verified+', 'images-ci:verified+'])
    expect(both.decision.trustStatus).toBe('valid')
    const keyless = both.findings.signature.signers?.[1]
    // cosign 3's `verify` does not say which bundle it verified: the signer's
    // bundle is verified once more on its own (verify-blob-attestation), and
    // its identity and log time are those cosign verified.
    expect(keyless).toMatchObject({
      kind: 'keyless',
      identity: RELEASE_IDENTITY,
      signingTimeSource: 'tlog'
    })
    expect(keyless?.detailsUnverified).toBeUndefined()
    expect(keyless?.signingTime).toBe(keyless?.signedAt)
    // It names the digest by its hex (`--digest`), one call for the one bundle.
    const hex = digests['key-and-keyless'].slice('sha256:'.length)
    const blob = readFileSync(cosignLog, 'utf8')
      .split('\n')
      .filter(line => line.startsWith('verify-blob-attestation ') && line.includes(hex))
    expect(blob).toHaveLength(1)
    expect(blob[0]).toContain('--type https://sigstore.dev/cosign/sign/v1')
    expect(blob[0]).toContain('--certificate-identity-regexp')
    const calls = callsFor('key-and-keyless').filter(line => line.startsWith('verify '))
    expect(calls.filter(line => line.includes('--key '))[0]).toContain('--insecure-ignore-tlog')
    expect(calls.filter(line => line.includes('--certificate-identity-regexp'))[0]).not.toContain(
      '--insecure-ignore-tlog'
    )
    const keyOnly = byName(result, 'a-only')
    expect(signerResults(keyOnly)).toEqual(['a:verified+', 'images-ci:invalid'])
    expect(keyOnly.decision.trustStatus).toBe('invalid')
    // A log vouched for what counted: the keyless signer's, not the key's (ignore_tlog).
    expect(both.findings.signature.tlogChecked).toBe(true)
    expect(keyOnly.findings.signature.tlogChecked).toBe(false)
  })
})

describe('what an attestation must say', () => {
  const slsa = `  trusted_signers: [a]
  attestations:
    - type: ${SLSA}
      where:
        predicate.runDetails.builder.id: '^https://github\\.com/rocm/rocm-images/\\.github/workflows/release\\.yml@refs/tags/v.*$'
`
  it('SLSA provenance: builder id matches (met), does not match or is absent (unmet, exit 3 under enforce)', async () => {
    const result = await run(slsa, ['slsa-good', 'slsa-other-builder', 'slsa-no-builder'])
    const good = byName(result, 'slsa-good')
    expect(good.findings.requirements?.[0]).toMatchObject({ result: 'met', signedBy: 'a' })
    expect(good.findings.requirements?.[0].statementDigest).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(good.decision.code).toBe(0)

    const other = byName(result, 'slsa-other-builder')
    expect(other.findings.requirements?.[0]).toMatchObject({
      result: 'unmet',
      conditions: [
        {
          path: 'predicate.runDetails.builder.id',
          value: 'https://github.com/evil/"fork"/build.yml',
          met: false
        }
      ]
    })
    expect(other.decision.code).toBe(3)
    expect(other.decision.trustStatus).toBe('invalid')
    // The path names the path, the pattern and the value found, quoted and escaped.
    expect(other.decision.path.join('\n')).toContain(
      'predicate.runDetails.builder.id fails "^https://github\\\\.com/rocm/rocm-images/\\\\.github/workflows/release\\\\.yml@refs/tags/v.*$" (value "https://github.com/evil/\\"fork\\"/build.yml")'
    )

    const none = byName(result, 'slsa-no-builder')
    expect(none.findings.requirements?.[0]).toMatchObject({
      result: 'unmet',
      conditions: [{ path: 'predicate.runDetails.builder.id', met: false }]
    })
    expect(none.findings.requirements?.[0].conditions[0].value).toBeUndefined()
    expect(none.decision.path.join('\n')).toContain('(value missing)')
  })

  it('an attestation whose subject is another digest is not counted', async () => {
    const result = await run(slsa, ['other-subject'])
    const image = byName(result, 'other-subject')
    // cosign 3.1.1 itself refuses it here ("no matching subject digest found");
    // the action's own subject check (judgeRequirement) is unit-tested.
    expect(image.findings.requirements?.[0]).toMatchObject({ result: 'unmet' })
    expect(image.findings.requirements?.[0].message).toContain('subject digest')
    expect(image.decision.code).toBe(3)
  })

  it('SBOM present or absent, under enforce (3) and record (recorded, 0)', async () => {
    const sbom = (mode: string): string =>
      `  trusted_signers: [a]\n  attest_mode: ${mode}\n  attestations:\n    - type: ${SPDX}\n`
    const enforced = await run(sbom('enforce'), ['sbom', 'a-only'])
    expect(byName(enforced, 'sbom').findings.requirements?.[0].result).toBe('met')
    expect(byName(enforced, 'sbom').decision.code).toBe(0)
    expect(byName(enforced, 'a-only').findings.requirements?.[0].result).toBe('absent')
    expect(byName(enforced, 'a-only').decision.code).toBe(3)
    const recorded = await run(sbom('record'), ['a-only'])
    expect(byName(recorded, 'a-only').findings.requirements?.[0].result).toBe('absent')
    expect(byName(recorded, 'a-only').decision.code).toBe(0)
    expect(byName(recorded, 'a-only').decision.path.join('\n')).toContain('recorded only')
  })

  it('a vulnerability scan 2 days old meets max_age_days 7; 30 days old does not', async () => {
    const result = await run(
      `  trusted_signers: [a]\n  attestations:\n    - type: ${VULN}\n      max_age_days: 7\n`,
      ['vuln-2-days', 'vuln-30-days']
    )
    expect(byName(result, 'vuln-2-days').findings.requirements?.[0]).toMatchObject({
      result: 'met',
      conditions: [
        { path: 'predicate.metadata.scanFinishedOn', pattern: '<= 7 days old', met: true }
      ]
    })
    const stale = byName(result, 'vuln-30-days')
    expect(stale.findings.requirements?.[0]).toMatchObject({ result: 'unmet' })
    expect(stale.decision.code).toBe(3)
  })
})

describe('the updater', () => {
  it('pins a new digest only when it meets the same signers and threshold', async () => {
    writeFileSync(
      join(workspace, 'ci', 'rocm_policy.yml'),
      `policy:\n  mode: strict\n  require_signature: true\n  ignore_tlog: true\n${KEY_SIGNERS}  trusted_signers: [b]\n  threshold: 2\n`
    )
    const matrixText = ['ab', 'a-only']
      .flatMap((name, i) => [
        `    - version: "2.${i}"`,
        `      os: "${name}"`,
        `      repository: ${registry.host}/${REPO}`,
        `      tag: "${name}"`,
        '      digest: "sha256:TODO_NEXT_RELEASE"',
        // The row's own signer (`provenance`) is the second of the two.
        '      provenance:',
        '        key_path: ci/keys/a.pub'
      ])
      .join('\n')
    const text = `rocm:\n  images:\n${matrixText}\n`
    writeFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), text)
    const config = await loadConfig({
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      workspace
    })
    const client = new RegistryClient({
      credentials: createCredentialStore({}),
      insecureRegistries: [registry.host],
      maxAttempts: 1
    })
    try {
      const result = await runUpdate({
        plans: planImages(config, {}),
        matrixText: text,
        matrixPath: 'ci/rocm_matrix.yml',
        policy: config.policy,
        registry: client,
        verifier: new CosignVerifier({
          cosignPath: toolPath('cosign'),
          workspace,
          insecureRegistries: [registry.host],
          env: hermeticEnv(),
          maxAttempts: 1
        }),
        now: NOW,
        discover: false
      })
      expect(result.updated.map(u => [u.os, u.newDigest, u.trustStatus])).toEqual([
        ['ab', digests.ab, 'valid']
      ])
      expect(result.rejected.map(r => [r.os, r.newDigest, r.trustStatus])).toEqual([
        ['a-only', digests['a-only'], 'invalid']
      ])
      expect(result.rejected[0].reason).toContain('1 of 2 required distinct trusted signers')
      expect(result.matrixText).toContain(digests.ab)
      // The evidence written is the row's own signer's (key a), never signer b's.
      const fingerprintOf = (name: string): string =>
        publicKeyFingerprint(readFileSync(keys[name].publicKey, 'utf8'))
      expect(result.matrixText).toContain(`key_fingerprint: ${fingerprintOf('a')}`)
      expect(result.matrixText).not.toContain(fingerprintOf('b'))
      expect(result.matrixText).not.toContain(digests['a-only'])
    } finally {
      client.close()
    }
  })
})
