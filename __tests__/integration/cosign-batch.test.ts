/**
 * Fewer cosign processes, same verdicts: the real pipeline (registry, the
 * real cosign) over a mixed matrix — valid (cosign 3 and cosign 2 formats),
 * unsigned, wrong key, drift, missing digest, attestation present and absent
 * — once with `cosign verify` calls grouped and once one image per call,
 * under one signer per row and under two trusted signers: the reports are
 * the same (timing fields aside), and the grouped runs did group.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { chmodSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAdapters } from '../../src/adapters/create.js'
import { createCosignTools } from '../../src/adapters/cosign/tools.js'
import { createCredentialStore } from '../../src/adapters/registry/credentials.js'
import { verifyImages } from '../../src/app/verify.js'
import { buildReport, type ProvenanceReport } from '../../src/render/report.js'
import {
  attestImage,
  generateKeyPair,
  pushImage,
  retag,
  signImage,
  type KeyPair
} from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, toolPath } from '../helpers/tools.js'
import { STRICT_POLICY, workspaceWith, type Row } from '../helpers/workspace.js'

const NOW = new Date()
const META = {
  actionVersion: '4.0.0',
  policyPath: 'ci/rocm_policy.yml',
  matrixPath: 'ci/rocm_matrix.yml'
}

/** The report without its times (the run's, and signing times that are the run's own). */
function untimed(report: ProvenanceReport): unknown {
  const copy = JSON.parse(JSON.stringify(report)) as {
    timestamp?: string
    run: { startedAt?: string; finishedAt?: string }
    images: { signers?: { signingTime?: string; signingTimeSource?: string }[] }[]
  }
  delete copy.timestamp
  delete copy.run.startedAt
  delete copy.run.finishedAt
  for (const image of copy.images) {
    for (const signer of image.signers ?? []) {
      if (signer.signingTimeSource === 'run') delete signer.signingTime
    }
  }
  return copy
}

/** Attestations required for the two rows that test them; the rest as STRICT_POLICY. */
const ATTESTED = ['6.5.0-ubuntu-22.04', '6.5.1-ubuntu-22.04']
const overrides = (extra = ''): string =>
  '  overrides:\n' +
  ATTESTED.map(tag => `    - match: "*:${tag}"\n      attest_mode: enforce\n${extra}`).join('')
const ROW_SIGNER_POLICY = STRICT_POLICY + overrides()
const TWO_SIGNERS_POLICY =
  STRICT_POLICY +
  [
    '  trusted_signers: [release, other]',
    '  threshold: 1',
    '  signers:',
    '    release:',
    '      key_path: ci/keys/release.pub',
    '    other:',
    '      key_path: ci/keys/other.pub',
    ''
  ].join('\n')

describe('grouped cosign verify calls', () => {
  let registry: TestRegistry
  let workspace: string

  beforeAll(async () => {
    registry = await startRegistry()
    const [release, other]: KeyPair[] = await Promise.all([
      generateKeyPair('release'),
      generateKeyPair('other')
    ])
    const rows: Row[] = []
    const keyPath = 'ci/keys/release.pub'
    const push = async (tag: string): Promise<string> => {
      const digest = await pushImage(registry.host, 'rocm/dev', tag)
      rows.push({ tag, digest, keyPath })
      return `${registry.host}/rocm/dev@${digest}`
    }
    for (const version of ['6.0.0', '6.0.1', '6.0.2', '6.0.3'])
      await signImage(await push(`${version}-ubuntu-22.04`), release)
    await signImage(await push('6.1.0-ubuntu-22.04'), release, { legacy: true })
    await push('6.2.0-ubuntu-22.04') // unsigned
    await signImage(await push('6.3.0-ubuntu-22.04'), other) // another key
    await signImage(await push('6.4.0-ubuntu-22.04'), release) // the tag moves on
    await retag(
      registry.host,
      'rocm/dev',
      await pushImage(registry.host, 'rocm/dev', 'x'),
      '6.4.0-ubuntu-22.04'
    )
    rows.push({ tag: '6.4.1-ubuntu-22.04', digest: `sha256:${'ab'.repeat(32)}`, keyPath })
    await pushImage(registry.host, 'rocm/dev', '6.4.1-ubuntu-22.04') // the pin does not exist
    const attested = await push(ATTESTED[0])
    await signImage(attested, release)
    await attestImage(attested, release)
    await signImage(await push(ATTESTED[1]), release) // no attestation
    workspace = workspaceWith(registry, ROW_SIGNER_POLICY, rows, release)
    copyFileSync(other.publicKey, join(workspace, 'ci', 'keys', 'other.pub'))
  }, 240_000)
  afterAll(async () => {
    await registry.stop()
  })

  async function reportOf(
    policy: string,
    batched: boolean
  ): Promise<{ report: ProvenanceReport; groups: number[] }> {
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy)
    const groups: number[] = []
    const adapters = createAdapters({
      workspace,
      insecureRegistries: [registry.host],
      resolveCosignPath: () => Promise.resolve(toolPath('cosign'))
    })
    const prepareCosign = () =>
      createCosignTools({
        cosignPath: toolPath('cosign'),
        workspace,
        insecureRegistries: [registry.host],
        credentials: createCredentialStore({}),
        registry: adapters.registry,
        env: hermeticEnv(),
        batch: batched ? { windowMs: 50, onGroup: size => groups.push(size) } : false
      })
    const result = await verifyImages(
      {
        workspace,
        policyPath: META.policyPath,
        matrixPath: META.matrixPath,
        images: [],
        concurrency: 8,
        cache: false,
        now: NOW
      },
      { ...adapters, prepareCosign }
    )
    return { report: buildReport(result, META), groups }
  }

  it.each([
    ['one signer per row', ROW_SIGNER_POLICY],
    ['two trusted signers per image', TWO_SIGNERS_POLICY]
  ])(
    '%s: every verdict is the one of verifying image by image',
    async (_what, policy) => {
      const alone = await reportOf(policy, false)
      const grouped = await reportOf(policy, true)
      expect(alone.groups).toEqual([])
      expect(grouped.groups.length).toBeGreaterThan(0)
      expect(Math.max(...grouped.groups)).toBeGreaterThan(1)
      expect(untimed(grouped.report)).toEqual(untimed(alone.report))
      // The matrix is mixed indeed: each kind of outcome is there.
      const outcomes = new Set(alone.report.images.map(image => image.signature.status))
      expect([...outcomes].sort()).toEqual(
        expect.arrayContaining(['not-found', 'unsigned', 'verified'])
      )
      expect(alone.report.exitCode).not.toBe(0)
    },
    240_000
  )

  it('the adapters the action and the CLI share group by concurrency: from 8 up, fewer cosign verify processes, the same report', async () => {
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), ROW_SIGNER_POLICY)
    // A cosign that notes each call's command and reference count, then runs the real one.
    const log = join(workspace, 'cosign-calls.log')
    const wrapper = join(workspace, 'cosign-counting')
    writeFileSync(
      wrapper,
      `#!/bin/bash\nn=0; for a in "$@"; do [[ $a == *@sha256:* ]] && n=$((n+1)); done\n` +
        `echo "$1 $n" >>'${log}'\nexec '${toolPath('cosign')}' "$@"\n`
    )
    chmodSync(wrapper, 0o755)
    const run = async (concurrency: number): Promise<{ report: unknown; calls: string[] }> => {
      writeFileSync(log, '')
      const adapters = createAdapters({
        workspace,
        insecureRegistries: [registry.host],
        resolveCosignPath: () => Promise.resolve(wrapper)
      })
      const result = await verifyImages(
        {
          workspace,
          policyPath: META.policyPath,
          matrixPath: META.matrixPath,
          images: [],
          concurrency,
          cache: false,
          now: NOW
        },
        adapters
      )
      const calls = readFileSync(log, 'utf8').trim().split('\n')
      return { report: untimed(buildReport(result, META)), calls }
    }
    const verifies = (calls: string[]): number[] =>
      calls.filter(call => call.startsWith('verify ')).map(call => Number(call.split(' ')[1]))
    const four = await run(4)
    const sixteen = await run(16)
    expect(Math.max(...verifies(four.calls))).toBe(1)
    expect(Math.max(...verifies(sixteen.calls))).toBeGreaterThan(1)
    expect(verifies(sixteen.calls).length).toBeLessThan(verifies(four.calls).length)
    expect(sixteen.report).toEqual(four.report)
  }, 240_000)
})
