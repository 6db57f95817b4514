/**
 * The updater against the real registry (CNCF Distribution on loopback), the
 * real cosign and the real config loader: tags move, new tags appear, and the
 * matrix file is rewritten only where a digest passed the policy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import { loadConfig } from '../../src/adapters/fs/config-load.js'
import { publicKeyFingerprint } from '../../src/adapters/cosign/key.js'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import { planImages } from '../../src/domain/plan.js'
import { RegistryClient } from '../../src/adapters/registry/client.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { runUpdate, type UpdateResult } from '../../src/app/update.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import {
  attestImage,
  generateKeyPair,
  pushImage,
  pushIndex,
  signImage,
  type KeyPair
} from '../helpers/images.js'
import { hermeticEnv, toolPath } from '../helpers/tools.js'

const NOW = new Date('2026-11-26T09:30:00Z')
const TODAY = '2026-11-26'
const REPOSITORY = 'rocm/dev'

describe('runUpdate against a real registry and cosign', () => {
  let registry: TestRegistry
  let workspace: string
  let trusted: KeyPair
  let stranger: KeyPair
  let env: NodeJS.ProcessEnv
  /** SHA-256 of the trusted public key (DER), as cosign's verifier reports it. */
  let fingerprint = ''
  const digests: Record<string, string> = {}

  /** Pushes an image at `tag`, optionally signed (and attested) by a key, and returns its digest. */
  async function publish(
    tag: string,
    options: { key?: KeyPair; attest?: boolean; repository?: string } = {}
  ): Promise<string> {
    const repository = options.repository ?? REPOSITORY
    const digest = await pushImage(registry.host, repository, tag)
    const ref = `${registry.host}/${repository}@${digest}`
    if (options.key) await signImage(ref, options.key)
    if (options.key && options.attest) await attestImage(ref, options.key)
    return digest
  }

  async function update(
    matrixText: string,
    discover: boolean,
    policyPath = 'ci/rocm_policy.yml'
  ): Promise<UpdateResult> {
    writeFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), matrixText)
    const config = await loadConfig({
      policyPath,
      matrixPath: 'ci/rocm_matrix.yml',
      workspace
    })
    const plans = planImages(config, {})
    // A new client per run, as each action run has: nothing is remembered between runs.
    const client = new RegistryClient({
      credentials: createCredentialStore({ dockerConfigDir: join(workspace, '.docker') }),
      insecureRegistries: [registry.host],
      maxAttempts: 1
    })
    const verifier = new CosignVerifier({
      cosignPath: toolPath('cosign'),
      workspace,
      insecureRegistries: [registry.host],
      maxAttempts: 1,
      env
    })
    try {
      return await runUpdate({
        plans,
        matrixText,
        matrixPath: 'ci/rocm_matrix.yml',
        policy: config.policy,
        registry: client,
        verifier,
        now: NOW,
        discover
      })
    } finally {
      client.close()
    }
  }

  function matrix(): string {
    return `# ROCm images for CI. Reviewed weekly.
rocm:
  images:
    # Stable line, signed by the release key.
    - version: "6.4.4"          # current
      os: "ubuntu-22.04"
      digest: "${digests.stable2204}"   # bot-managed
      added: "2026-11-20"
      provenance:
        key_path: ci/keys/stable.pub   # rotated 2026-09

    - version: '6.4.4'
      os: 'ubuntu-24.04'
      digest: '${digests.stable2404}'
      added: '2026-11-20'
      provenance:
        key_path: ci/keys/stable.pub

    - version: 6.4.3
      os: ubuntu-22.04
      digest: ${digests.old2204}
      added: 2026-11-20
      provenance:
        key_path: ci/keys/stable.pub
  policy:
    default: ["6.4.4", "ubuntu-22.04"]
    prefer_os: "ubuntu-24.04"
# end of matrix
`
  }

  beforeAll(async () => {
    registry = await startRegistry()
    env = hermeticEnv()
    ;[trusted, stranger] = await Promise.all([
      generateKeyPair('trusted'),
      generateKeyPair('stranger')
    ])
    workspace = mkdtempSync(join(tmpdir(), 'rp-update-'))
    mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
    mkdirSync(join(workspace, '.docker'))
    copyFileSync(trusted.publicKey, join(workspace, 'ci', 'keys', 'stable.pub'))
    const policy = (repository: string, extra: string[] = []): string =>
      [
        'policy:',
        '  mode: strict',
        '  digest_ttl: 14',
        '  require_signature: true',
        '  attest_mode: record',
        '  ignore_tlog: true   # no Rekor on loopback',
        `  repository: ${registry.host}/${repository}`,
        ...extra,
        ''
      ].join('\n')
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy(REPOSITORY))
    // Docker Hub's layout: the OS in the repository, the version as the tag.
    writeFileSync(
      join(workspace, 'ci', 'hub_policy.yml'),
      policy('rocm/dev-{os}', ['  tag_template: "{version}"'])
    )
    fingerprint = publicKeyFingerprint(readFileSync(trusted.publicKey, 'utf8'))
    ;[digests.stable2204, digests.stable2404, digests.old2204, digests.stale, digests.placeholder] =
      await Promise.all([
        // Pins that still match are not verified again: these need no signature.
        publish('6.4.4-ubuntu-22.04'),
        publish('6.4.4-ubuntu-24.04'),
        publish('6.4.3-ubuntu-22.04'),
        publish('6.4.2-ubuntu-22.04', { key: trusted }),
        publish('6.4.2-rhel-9', { key: trusted, attest: true })
      ])
  })

  afterAll(async () => {
    await registry?.stop()
    if (workspace) rmSync(workspace, { recursive: true, force: true })
  })

  it('changes nothing while every tag still points at its pin', async () => {
    const text = matrix()
    const result = await update(text, false)
    expect(result.changed).toBe(false)
    expect(result.matrixText).toBe(text)
    expect(result.updated).toEqual([])
    expect(result.rejected).toEqual([])
  })

  it('re-verifies a stale pin and pins a placeholder row, changing only those values', async () => {
    const text = [
      'rocm:',
      '  images:',
      '    - version: "6.4.2"',
      '      os: ubuntu-22.04',
      `      digest: "${digests.stale}"`,
      '      added: "2026-01-05"   # older than digest_ttl',
      '      provenance: {key_path: ci/keys/stable.pub}',
      '    - version: "6.4.2"',
      '      os: rhel-9',
      '      digest: "sha256:TODO_NEXT_RELEASE"',
      '      provenance: {key_path: ci/keys/stable.pub}',
      ''
    ].join('\n')
    const result = await update(text, false)
    expect(result.updated.map(image => [image.reason, image.oldDigest, image.newDigest])).toEqual([
      ['pin-stale', digests.stale, digests.stale],
      ['not-pinned', undefined, digests.placeholder]
    ])
    expect(result.updated[1].attestationDigest).toMatch(/^sha256:[0-9a-f]{64}$/)
    const evidence = (attestation?: string): string =>
      `{key_path: ci/keys/stable.pub, key_fingerprint: ${fingerprint}` +
      (attestation ? `, attestation_digest: ${attestation}}` : '}')
    expect(result.matrixText).toBe(
      [
        'rocm:',
        '  images:',
        '    - version: "6.4.2"',
        '      os: ubuntu-22.04',
        `      digest: "${digests.stale}"`,
        `      added: "${TODAY}"   # older than digest_ttl`,
        `      provenance: ${evidence()}`,
        '    - version: "6.4.2"',
        '      os: rhel-9',
        `      digest: "${digests.placeholder}"`,
        `      added: "${TODAY}"`,
        `      provenance: ${evidence(result.updated[1].attestationDigest)}`,
        ''
      ].join('\n')
    )
    expect((await update(result.matrixText, false)).changed).toBe(false)
  })

  it('discovers new versions in Docker Hub’s layout (rocm/dev-ubuntu-22.04:6.4.4)', async () => {
    // One row takes the layout from the policy, one writes it itself.
    const hub = 'rocm/dev-ubuntu-22.04'
    const own = 'rocm/own-rhel-9'
    const [pinned, newer, ownPinned, ownNewer] = await Promise.all([
      publish('6.4.4', { repository: hub }),
      publish('6.10.0', { key: trusted, repository: hub }),
      publish('6.4.4', { repository: own }),
      publish('6.5', { key: trusted, repository: own }),
      publish('6.9', { repository: 'rocm/dev-ubuntu-24.04' }),
      publish('latest', { repository: hub })
    ])
    const text = [
      'rocm:',
      '  images:',
      '  - version: "6.4.4"',
      '    os: ubuntu-22.04',
      `    digest: "${pinned}"`,
      `    added: "${TODAY}"`,
      '    provenance:',
      '      key_path: ci/keys/stable.pub',
      '  - version: "6.4.4"',
      '    os: rhel-9',
      `    repository: ${registry.host}/rocm/own-{os}`,
      "    tag: '{version}'",
      `    digest: "${ownPinned}"`,
      `    added: "${TODAY}"`,
      '    provenance:',
      '      key_path: ci/keys/stable.pub',
      ''
    ].join('\n')
    const result = await update(text, true, 'ci/hub_policy.yml')
    expect(result.rejected).toEqual([])
    expect(result.updated).toEqual([
      expect.objectContaining({ reference: `${registry.host}/${hub}:6.10.0`, newDigest: newer }),
      expect.objectContaining({ reference: `${registry.host}/${own}:6.5`, newDigest: ownNewer })
    ])
    expect(result.matrixText.startsWith(text)).toBe(true)
    expect(result.matrixText.slice(text.length)).toBe(
      [
        '  - version: "6.10.0"',
        '    os: ubuntu-22.04',
        `    digest: "${newer}"`,
        `    added: "${TODAY}"`,
        '    provenance:',
        '      key_path: ci/keys/stable.pub',
        `      key_fingerprint: ${fingerprint}`,
        '  - version: "6.5"',
        '    os: rhel-9',
        `    repository: ${registry.host}/rocm/own-{os}`,
        "    tag: '{version}'",
        `    digest: "${ownNewer}"`,
        `    added: "${TODAY}"`,
        '    provenance:',
        '      key_path: ci/keys/stable.pub',
        `      key_fingerprint: ${fingerprint}`,
        ''
      ].join('\n')
    )
    expect((await update(result.matrixText, true, 'ci/hub_policy.yml')).changed).toBe(false)
  })

  describe('when tags move and new tags appear', () => {
    const runs: UpdateResult[] = []
    let before = ''

    beforeAll(async () => {
      before = matrix()
      // 6.4.4 on 22.04 moves to a new image signed by the release key, 6.4.4
      // on 24.04 to an unsigned one, 6.4.3 to one signed by another key; a new
      // release tag appears, and tags discovery must pass over (a pre-release,
      // a variant, latest: unsigned, so verifying one would be rejected).
      ;[digests.moved2204, digests.unsigned2404, digests.stranger2204, digests.new2404] =
        await Promise.all([
          publish('6.4.4-ubuntu-22.04', { key: trusted, attest: true }),
          publish('6.4.4-ubuntu-24.04'),
          publish('6.4.3-ubuntu-22.04', { key: stranger }),
          publish('6.5.0-ubuntu-24.04', { key: trusted, attest: true }),
          publish('6.5.0-rc1-ubuntu-24.04'),
          publish('6.5.0-ubuntu-24.04-complete'),
          publish('latest')
        ])
      runs.push(await update(before, false))
      runs.push(await update(runs[0].matrixText, true))
      runs.push(await update(runs[1].matrixText, true))
    })

    it('updates the row whose tag moved to a signed image, and only its values', () => {
      const [first] = runs
      expect(first.changed).toBe(true)
      expect(first.updated).toEqual([
        expect.objectContaining({
          reference: `${registry.host}/${REPOSITORY}:6.4.4-ubuntu-22.04`,
          oldDigest: digests.stable2204,
          newDigest: digests.moved2204,
          trustStatus: 'valid',
          reason: 'tag-moved',
          attestationDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/)
        })
      ])
      const { attestationDigest } = first.updated[0]
      const expected = before
        .replace(
          `      digest: "${digests.stable2204}"   # bot-managed\n      added: "2026-11-20"`,
          `      digest: "${digests.moved2204}"   # bot-managed\n      added: "${TODAY}"`
        )
        .replace(
          '        key_path: ci/keys/stable.pub   # rotated 2026-09\n',
          '        key_path: ci/keys/stable.pub   # rotated 2026-09\n' +
            `        key_fingerprint: ${fingerprint}\n` +
            `        attestation_digest: ${attestationDigest}\n`
        )
      expect(expected).not.toBe(before)
      expect(first.matrixText).toBe(expected)
    })

    it('does not write an unsigned or wrongly signed digest, and reports both', () => {
      const [first] = runs
      expect(first.rejected).toEqual([
        expect.objectContaining({
          reference: `${registry.host}/${REPOSITORY}:6.4.4-ubuntu-24.04`,
          oldDigest: digests.stable2404,
          newDigest: digests.unsigned2404,
          trustStatus: 'unsigned',
          trigger: 'tag-moved',
          reason: expect.stringMatching(/no signature found.*required by require_signature=true/)
        }),
        expect.objectContaining({
          reference: `${registry.host}/${REPOSITORY}:6.4.3-ubuntu-22.04`,
          oldDigest: digests.old2204,
          newDigest: digests.stranger2204,
          trustStatus: 'invalid',
          reason: expect.stringMatching(/signature invalid/)
        })
      ])
      expect(first.matrixText).toContain(`digest: '${digests.stable2404}'`)
      expect(first.matrixText).toContain(`digest: ${digests.old2204}`)
      expect(first.matrixText).not.toContain(digests.unsigned2404)
      expect(first.matrixText).not.toContain(digests.stranger2204)
      expect(first.prBody).toContain('### Not updated (needs a human)')
      expect(first.prBody).toContain(
        `\`${digests.stable2404}\` → \`${digests.unsigned2404}\` | unsigned |`
      )
    })

    it('discovers 6.5.0-ubuntu-24.04 and appends it laid out like the newest 24.04 row', () => {
      const [first, second] = runs
      expect(second.updated).toEqual([
        expect.objectContaining({
          reference: `${registry.host}/${REPOSITORY}:6.5.0-ubuntu-24.04`,
          newDigest: digests.new2404,
          trustStatus: 'valid',
          reason: 'new-tag'
        })
      ])
      // The pre-release, the variant and `latest` were passed over, not tried.
      expect(second.rejected.map(image => image.reference)).toEqual([
        `${registry.host}/${REPOSITORY}:6.4.4-ubuntu-24.04`,
        `${registry.host}/${REPOSITORY}:6.4.3-ubuntu-22.04`
      ])
      const insertAt = first.matrixText.indexOf('  policy:\n')
      expect(second.matrixText.slice(0, insertAt)).toBe(first.matrixText.slice(0, insertAt))
      expect(second.matrixText.endsWith(first.matrixText.slice(insertAt))).toBe(true)
      const added = second.matrixText.slice(
        insertAt,
        second.matrixText.length - (first.matrixText.length - insertAt)
      )
      expect(added).toBe(
        [
          "    - version: '6.5.0'",
          "      os: 'ubuntu-24.04'",
          `      digest: '${digests.new2404}'`,
          `      added: '${TODAY}'`,
          '      provenance:',
          '        key_path: ci/keys/stable.pub',
          `        key_fingerprint: ${fingerprint}`,
          `        attestation_digest: ${second.updated[0].attestationDigest}`,
          ''
        ].join('\n')
      )
      const read = parse(second.matrixText) as { rocm: { images: { version: string }[] } }
      expect(read.rocm.images.map(row => row.version)).toEqual(['6.4.4', '6.4.4', '6.4.3', '6.5.0'])
    })

    it('changes nothing when run again', () => {
      const [, second, third] = runs
      expect(third.changed).toBe(false)
      expect(third.matrixText).toBe(second.matrixText)
      expect(third.updated).toEqual([])
      // What needs a human is still reported, and still not written.
      expect(third.rejected.map(image => image.reference)).toEqual([
        `${registry.host}/${REPOSITORY}:6.4.4-ubuntu-24.04`,
        `${registry.host}/${REPOSITORY}:6.4.3-ubuntu-22.04`
      ])
    })
  })

  describe('a multi-arch tag rebuilt and re-signed with --recursive', () => {
    async function rebuilt(tag: string) {
      const before = await pushIndex(registry.host, REPOSITORY, tag, ['linux/amd64', 'linux/arm64'])
      await signImage(`${registry.host}/${REPOSITORY}@${before.index}`, trusted, {
        recursive: true
      })
      // The tag is rebuilt: new children, a new index, signed the same way.
      const after = await pushIndex(registry.host, REPOSITORY, tag, ['linux/arm64', 'linux/amd64'])
      await signImage(`${registry.host}/${REPOSITORY}@${after.index}`, trusted, {
        recursive: true
      })
      expect(after.index).not.toBe(before.index)
      return { before, after }
    }

    const row = (version: string, digest: string): string =>
      [
        'rocm:',
        '  images:',
        `    - version: "${version}"`,
        '      os: "ubuntu-22.04"',
        `      digest: "${digest}"`,
        '      added: "2026-11-20"',
        '      provenance:',
        '        key_path: ci/keys/stable.pub',
        ''
      ].join('\r\n')

    it('moves a pin of one platform to the same platform in the new index, never to the index', async () => {
      const { before, after } = await rebuilt('7.0.0-ubuntu-22.04')
      const text = row('7.0.0', before.manifests['linux/amd64'])
      const result = await update(text, false)
      expect(result.rejected).toEqual([])
      expect(result.updated.map(i => [i.reason, i.oldDigest, i.newDigest])).toEqual([
        ['tag-moved', before.manifests['linux/amd64'], after.manifests['linux/amd64']]
      ])
      // Only the digest, the date and the key's fingerprint change; CRLF kept.
      expect(result.matrixText).toBe(
        text
          .replace(before.manifests['linux/amd64'], after.manifests['linux/amd64'])
          .replace('2026-11-20', TODAY)
          .replace(
            '        key_path: ci/keys/stable.pub\r\n',
            `        key_path: ci/keys/stable.pub\r\n        key_fingerprint: ${fingerprint}\r\n`
          )
      )
    })

    it('keeps a pin of the index an index', async () => {
      const { before, after } = await rebuilt('7.0.1-ubuntu-22.04')
      const result = await update(row('7.0.1', before.index), false)
      expect(result.rejected).toEqual([])
      expect(result.updated.map(i => [i.reason, i.newDigest])).toEqual([['tag-moved', after.index]])
    })

    it('refuses, saying why, when the new index lacks the pinned platform', async () => {
      const before = await pushIndex(registry.host, REPOSITORY, '7.0.2-ubuntu-22.04', [
        'linux/amd64',
        'linux/arm64'
      ])
      const after = await pushIndex(registry.host, REPOSITORY, '7.0.2-ubuntu-22.04', [
        'linux/arm64'
      ])
      await signImage(`${registry.host}/${REPOSITORY}@${after.index}`, trusted, {
        recursive: true
      })
      const text = row('7.0.2', before.manifests['linux/amd64'])
      const result = await update(text, false)
      expect(result.changed).toBe(false)
      expect(result.matrixText).toBe(text)
      expect(result.rejected).toHaveLength(1)
      expect(result.rejected[0].reason).toBe(
        `the tag's new index ${after.index} has no linux/amd64 manifest (it has linux/arm64)`
      )
    })
  })
})
