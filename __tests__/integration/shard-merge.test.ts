/**
 * Sharding over a workflow matrix: three shard runs of the real pipeline
 * (registry, cosign) merged by `command: merge` give the report of one
 * unsharded run; missing, duplicated and foreign shards are exit 4 naming the
 * shard — through the use case and through the bundled action.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createAdapters } from '../../src/adapters/create.js'
import { mergeInWorkspace, mergeShardReports, type ShardReportFile } from '../../src/app/merge.js'
import { verifyImages } from '../../src/app/verify.js'
import type { Shard } from '../../src/domain/shard.js'
import { buildReport, type ProvenanceReport } from '../../src/render/report.js'
import { runBundledAction } from '../helpers/action-runner.js'
import { generateKeyPair, pushImage, retag, signImage } from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { reportSchemaErrors } from '../helpers/report-schema.js'
import { PROJECT_ROOT, hermeticEnv, runTool, toolPath } from '../helpers/tools.js'
import { STRICT_POLICY, workspaceWith } from '../helpers/workspace.js'

const META = {
  actionVersion: '4.0.0',
  policyPath: 'ci/rocm_policy.yml',
  matrixPath: 'ci/rocm_matrix.yml'
}

/**
 * A report without what differs between any two runs: its times (the run's,
 * and a signer's signing time when it is the run's own).
 */
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

describe('shards and merge', () => {
  let registry: TestRegistry
  let workspace: string

  beforeAll(async () => {
    registry = await startRegistry()
    const key = await generateKeyPair('release')
    const rows = []
    // Eight rows: signed, one unsigned, one whose tag moved.
    for (const version of ['6.0.0', '6.1.0', '6.2.0', '6.3.0', '6.4.0', '6.4.1', '6.4.2']) {
      const tag = `${version}-ubuntu-22.04`
      const digest = await pushImage(registry.host, 'rocm/dev', tag)
      await signImage(`${registry.host}/rocm/dev@${digest}`, key)
      rows.push({ tag, digest, keyPath: 'ci/keys/release.pub' })
    }
    rows.push({
      tag: '6.4.3-ubuntu-22.04',
      digest: await pushImage(registry.host, 'rocm/dev', '6.4.3-ubuntu-22.04'),
      keyPath: 'ci/keys/release.pub'
    })
    await retag(
      registry.host,
      'rocm/dev',
      await pushImage(registry.host, 'rocm/dev', 'x'),
      '6.4.2-ubuntu-22.04'
    )
    workspace = workspaceWith(registry, STRICT_POLICY, rows, key)
  }, 180_000)
  afterAll(async () => {
    await registry.stop()
  })

  async function reportOf(shard?: Shard, policy = STRICT_POLICY): Promise<ProvenanceReport> {
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), policy)
    const adapters = createAdapters({
      workspace,
      insecureRegistries: [registry.host],
      resolveCosignPath: () => Promise.resolve(toolPath('cosign'))
    })
    const result = await verifyImages(
      {
        workspace,
        policyPath: META.policyPath,
        matrixPath: META.matrixPath,
        images: [],
        concurrency: 4,
        now: new Date(),
        ...(shard && { shard })
      },
      adapters
    )
    return buildReport(result, META)
  }

  const file = (report: ProvenanceReport, source: string): ShardReportFile => ({
    source,
    document: JSON.parse(JSON.stringify(report))
  })

  let single: ProvenanceReport
  let shards: ProvenanceReport[]

  it('three shards split the images between them, each once, and merge into the single run', async () => {
    single = await reportOf()
    shards = [
      await reportOf({ index: 1, count: 3 }),
      await reportOf({ index: 2, count: 3 }),
      await reportOf({ index: 3, count: 3 })
    ]
    expect(single.exitCode).toBe(3)
    const listed = shards.flatMap(report => report.images.map(image => image.reference))
    expect(listed.sort()).toEqual(single.images.map(image => image.reference).sort())
    for (const [index, report] of shards.entries()) {
      expect(report.run.shard).toEqual({ index: index + 1, count: 3 })
      expect(report.run.configDigest).toBe(single.run.configDigest)
      expect(report.preferredImage).toBe(single.preferredImage)
      expect(reportSchemaErrors(report)).toEqual([])
    }
    expect(single.run.configDigest).toMatch(/^sha256:[0-9a-f]{64}$/)

    const merged = buildReport(
      mergeShardReports(
        shards.map((report, index) => file(report, `shard-${index + 1}.json`)).reverse(),
        new Date()
      ),
      META
    )
    expect(reportSchemaErrors(merged)).toEqual([])
    expect(untimed(merged)).toEqual(untimed(single))
  }, 180_000)

  it.each([
    ['a missing shard', () => [shards[0], shards[2]], ['shard 2 of 3 is missing']],
    [
      'a duplicated shard',
      () => [shards[0], shards[1], shards[1], shards[2]],
      ['shard 2 of 3 appears 2 times: b.json, c.json']
    ],
    ['an unsharded report', () => [single, ...shards], ['a.json is the report of an unsharded run']]
  ])('%s is exit 4, naming the shard', (_what, pick, messages) => {
    const files = pick().map((report, index) => file(report, `${'abcd'[index]}.json`))
    const run = mergeShardReports(files, new Date())
    expect(run.exitCode).toBe(4)
    expect(run.images).toEqual([])
    for (const message of messages) {
      expect(run.configIssues.map(issue => issue.message).join('\n')).toContain(message)
    }
  })

  it('a shard judged under another policy is exit 4, naming the shard', async () => {
    const foreign = await reportOf(
      { index: 2, count: 3 },
      STRICT_POLICY.replace('digest_ttl: 7', 'digest_ttl: 8')
    )
    expect(foreign.run.configDigest).not.toBe(shards[0].run.configDigest)
    const run = mergeShardReports(
      [file(shards[0], 'one.json'), file(foreign, 'two.json'), file(shards[2], 'three.json')],
      new Date()
    )
    expect(run.exitCode).toBe(4)
    expect(run.configIssues).toEqual([
      {
        code: 'shard-mismatch',
        message: expect.stringMatching(
          /^shard 2 of 3 \(two\.json\) was judged under another configuration \(sha256:[0-9a-f]{12}\) than shard 1 of 3 \(one\.json, sha256:[0-9a-f]{12}\)$/
        )
      }
    ])
  }, 120_000)

  describe('a merge trusts no shard it cannot tie to this run and this configuration', () => {
    const three = () => shards.map((report, i) => file(report, `shard-${i + 1}.json`))

    it('refuses shards of another workflow run, or of none (e.g. a report committed to the repository)', () => {
      const ours = shards.map(report => ({ ...report, run: { ...report.run, runId: '1001' } }))
      const files = ours.map((report, i) => file(report, `shard-${i + 1}.json`))
      expect(mergeShardReports(files, new Date(), { runId: '1001' }).exitCode).toBe(single.exitCode)
      const theirs = mergeShardReports(files, new Date(), { runId: '2002' })
      expect(theirs.exitCode).toBe(4)
      expect(theirs.configIssues[0]).toEqual({
        code: 'shard-foreign',
        message: 'shard 1 of 3 (shard-1.json) is from workflow run 1001, not this run 2002'
      })
      const committed = mergeShardReports(three(), new Date(), { runId: '2002' })
      expect(committed.configIssues[0].message).toBe(
        'shard 1 of 3 (shard-1.json) is from no workflow run, not this run 2002'
      )
    })

    it("refuses shards judged under another configuration than the workspace's", () => {
      const run = mergeShardReports(three(), new Date(), {
        configDigest: `sha256:${'0'.repeat(64)}`
      })
      expect(run.exitCode).toBe(4)
      expect(run.configIssues.map(issue => issue.code)).toEqual([
        'shard-mismatch',
        'shard-mismatch',
        'shard-mismatch'
      ])
      expect(
        mergeShardReports(three(), new Date(), { configDigest: shards[0].run.configDigest })
          .exitCode
      ).toBe(single.exitCode)
    })

    it('refuses a shard that leaves out one of its images or reports another shard’s', () => {
      const references = single.images.map(image => image.reference)
      expect(mergeShardReports(three(), new Date(), { references }).exitCode).toBe(single.exitCode)
      const at = shards.findIndex(report => report.images.length > 0)
      const dropped = JSON.parse(JSON.stringify(shards[at])) as ProvenanceReport
      const gone = dropped.images.pop()
      const files = shards.map((report, i) =>
        file(i === at ? dropped : report, `shard-${i + 1}.json`)
      )
      const run = mergeShardReports(files, new Date(), { references })
      expect(run.exitCode).toBe(4)
      expect(run.configIssues).toContainEqual({
        code: 'shard-incomplete',
        message: `shard ${at + 1} of 3 (shard-${at + 1}.json) does not report exactly its images under this configuration; missing ${gone?.reference}`
      })
    })

    it('refuses a report claiming to be shard 0, and takes the image output from the workspace, not a shard', async () => {
      const zero = JSON.parse(JSON.stringify(shards[0])) as ProvenanceReport
      zero.run.shard = { index: 0, count: 3 }
      zero.images = []
      const withZero = mergeShardReports([...three(), file(zero, 'zero.json')], new Date())
      expect(withZero.exitCode).toBe(4)
      expect(withZero.configIssues).toContainEqual({
        code: 'shard-mismatch',
        message: 'zero.json claims to be shard 0 of 3'
      })
      writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), STRICT_POLICY)
      const forged = shards.map(report => ({
        ...report,
        preferredImage: `evil.invalid/rocm/dev@sha256:${'e'.repeat(64)}`
      }))
      const adapters = createAdapters({
        workspace,
        insecureRegistries: [registry.host],
        resolveCosignPath: () => Promise.resolve(toolPath('cosign'))
      })
      const run = await mergeInWorkspace(
        forged.map((report, i) => file(report, `shard-${i + 1}.json`)),
        { ...META, workspace, images: [], now: new Date() },
        adapters
      )
      expect(run.configIssues).toEqual([])
      expect(run.preferredImage).toBe(single.preferredImage)
    })

    it('refuses a shard whose recorded codes are not what its findings decide', () => {
      // The shard holding a failing image (which one does depends on the references).
      const at = shards.findIndex(report => report.images.some(i => i.trustStatus !== 'valid'))
      expect(at).toBeGreaterThanOrEqual(0)
      const edited = JSON.parse(JSON.stringify(shards[at])) as ProvenanceReport
      edited.exitCode = 0
      for (const image of edited.images) {
        image.code = 0
        image.rawCode = 0
      }
      const files = shards.map((report, i) =>
        file(i === at ? edited : report, `shard-${i + 1}.json`)
      )
      const run = mergeShardReports(files, new Date())
      expect(run.exitCode).toBe(4)
      expect(run.configIssues).toEqual([
        {
          code: 'shard-inconsistent',
          message: expect.stringMatching(
            new RegExp(
              `^shard ${at + 1} of 3 \\(shard-${at + 1}\\.json\\): .* records code 0 \\(\\w+\\), but its findings decide code [1-3] \\(\\w+\\)$`
            )
          )
        }
      ])
    })
  })

  it('the bundled action merges what download-artifact left: report, outputs, exit code; and names a missing shard', async () => {
    const folder = join(workspace, 'shards')
    mkdirSync(folder, { recursive: true })
    shards.forEach((report, index) =>
      writeFileSync(
        join(folder, `rocm_provenance-shard-${index + 1}-of-3.json`),
        JSON.stringify(report)
      )
    )
    // The workspace's configuration is the one the shards were judged under.
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), STRICT_POLICY)
    const merge = { command: 'merge', reports: 'shards/*.json', 'upload-artifact': 'false' }
    const run = await runBundledAction(workspace, merge)
    expect(run.outputs['exit-code']).toBe('3')
    expect(run.outputs.decision).toBe('fail')
    expect(run.code).not.toBe(0)
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(untimed(report)).toEqual(untimed(single))
    expect(JSON.parse(run.outputs.images)).toHaveLength(single.images.length)
    expect(run.summary).toContain('ROCm image provenance')

    writeFileSync(join(folder, 'rocm_provenance-shard-2-of-3.json'), '{"not": "a report"}')
    const broken = await runBundledAction(workspace, merge)
    expect(broken.outputs['exit-code']).toBe('4')
    expect(broken.stdout).toMatch(
      /::error title=rocm-provenance%3A configuration \(shard-missing\)::shard 2 of 3 is missing/
    )
  }, 120_000)

  it('the command line checks one shard too, and refuses a bad --shard with exit 4', async () => {
    writeFileSync(join(workspace, 'ci', 'rocm_policy.yml'), STRICT_POLICY)
    const cli = (args: string[]) =>
      runTool(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli.js'), 'verify', ...args], {
        cwd: workspace,
        env: hermeticEnv()
      })
    const common = ['--insecure-registry', registry.host, '--cosign-path', toolPath('cosign')]
    const run = await cli([...common, '--shard', '3/3', '--provenance-path', 'cli-shard.json'])
    const report = JSON.parse(readFileSync(join(workspace, 'cli-shard.json'), 'utf8'))
    expect(report.run.shard).toEqual({ index: 3, count: 3 })
    expect(report.images.map((image: { reference: string }) => image.reference)).toEqual(
      shards[2].images.map(image => image.reference)
    )
    expect(run.stdout).toContain('shard 3 of 3')
    expect(run.stdout.match(/no cache service/g)).toHaveLength(1)
    const bad = await cli([...common, '--shard', '4/3'])
    expect(bad.code).toBe(4)
    expect(bad.stderr).toContain('--shard must be k/n')
  }, 120_000)
})
