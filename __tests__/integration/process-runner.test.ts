/**
 * The one process runner (src/adapters/process.ts) and what the cosign
 * verifier gives the processes it starts: a time limit that ends the whole
 * process group without waiting for pipes a grandchild holds, and an
 * environment without the action's inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { minimalEnv, runProcess } from '../../src/adapters/process.js'
import { CosignVerifier } from '../../src/adapters/cosign/verifier.js'
import type { Digest } from '../../src/domain/types.js'
import { imagePlan } from '../helpers/cosign-plans.js'
import { node24Path } from '../helpers/action-runner.js'
import { PROJECT_ROOT, runTool } from '../helpers/tools.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rp-process-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function script(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, ['#!/bin/sh', ...lines].join('\n') + '\n')
  chmodSync(path, 0o755)
  return path
}

function running(marker: string): boolean {
  return execFileSync('ps', ['-eo', 'args']).toString().includes(marker)
}

describe('runProcess', () => {
  it('kills the process group at the limit and does not wait for a grandchild holding stdout', async () => {
    const marker = `sleep 299.${process.pid}1`
    const file = script('holds-stdout', [`${marker} &`, 'echo started', 'sleep 300'])
    const run = await runProcess(file, [], { env: minimalEnv(process.env), timeoutMs: 1_000 })
    expect(run).toMatchObject({ timedOut: true, exitCode: null, stdout: 'started\n' })
    expect(running(marker)).toBe(false)
  })

  it('stops waiting for pipes a grandchild holds after the process itself exits', async () => {
    const marker = `sleep 299.${process.pid}2`
    const file = script('exits-early', [`${marker} &`, 'echo done'])
    const run = await runProcess(file, [], { env: minimalEnv(process.env), timeoutMs: 60_000 })
    expect(run).toMatchObject({ timedOut: false, exitCode: 0, stdout: 'done\n' })
    expect(running(marker)).toBe(false)
  })

  it('gives the child standard input and only the environment it was given', async () => {
    const file = script('echo-env', ['cat', 'env'])
    const run = await runProcess(file, [], {
      env: minimalEnv({ PATH: process.env.PATH, 'INPUT_REGISTRY-PASSWORD': 'hunter2' }),
      timeoutMs: 10_000,
      input: 'https://registry.example\n'
    })
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('https://registry.example\n')
    expect(run.stdout).toContain(`PATH=${process.env.PATH}`)
    expect(run.stdout).not.toContain('hunter2')
  })

  it.each(['SIGTERM', 'SIGINT'])(
    'kills the groups it started when this process is stopped with %s (the runner cancelling a step)',
    async signal => {
      const marker = `sleep 299.${process.pid}${signal === 'SIGTERM' ? 5 : 6}`
      const main = join(dir, `stopped-${signal}.mjs`)
      // Node 24 strips the types of process.ts, which imports node built-ins only.
      writeFileSync(
        main,
        [
          `import { minimalEnv, runProcess } from ${JSON.stringify(join(PROJECT_ROOT, 'src/adapters/process.ts'))}`,
          `runProcess('/bin/sh', ['-c', '${marker}'], { env: minimalEnv(process.env), timeoutMs: 60000 })`,
          `setTimeout(() => process.kill(process.pid, '${signal}'), 1000)`
        ].join('\n')
      )
      const run = await runTool(node24Path(), [main], { timeoutMs: 30_000 })
      expect(run.code).not.toBe(0)
      expect(running(marker)).toBe(false)
    }
  )

  it('reports a program that cannot be started', async () => {
    const run = await runProcess(join(dir, 'absent'), [], { env: {}, timeoutMs: 1_000 })
    expect(run.spawnError).toMatch(/ENOENT/)
  })
})

describe('the cosign verifier', () => {
  it("starts cosign without the action's inputs or any other secret in its environment", async () => {
    const log = join(dir, 'cosign-env.log')
    const fake = script('fake-cosign', [
      `env > '${log}'`,
      'echo "Error: no signatures found" >&2',
      'exit 1'
    ])
    const digest = `sha256:${'4'.repeat(64)}` as Digest
    const verifier = new CosignVerifier({
      cosignPath: fake,
      workspace: dir,
      insecureRegistries: [],
      maxAttempts: 1,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        'INPUT_REGISTRY-PASSWORD': 'registry-secret-1',
        'INPUT_GITHUB-TOKEN': 'ghs_secret2',
        GITHUB_TOKEN: 'ghs_secret3',
        COSIGN_PASSWORD: 'key-secret-4',
        COSIGN_REPOSITORY: 'example.test/signatures',
        HTTPS_PROXY: 'http://127.0.0.1:9'
      }
    })
    await verifier.verifySignature(
      imagePlan('example.test', 'rocm/dev', digest, {
        kind: 'keyless',
        identity: '^https://github.com/ROCm/',
        issuer: 'https://token.actions.githubusercontent.com',
        issuerIsRegexp: false
      }),
      digest,
      new Date()
    )
    const env = readFileSync(log, 'utf8')
    for (const secret of ['registry-secret-1', 'ghs_secret2', 'ghs_secret3', 'key-secret-4'])
      expect(env).not.toContain(secret)
    expect(env).not.toMatch(/^INPUT_/m)
    expect(env).toContain('COSIGN_REPOSITORY=example.test/signatures')
    expect(env).toContain('HTTPS_PROXY=http://127.0.0.1:9')
    expect(env).toMatch(/^TUF_ROOT=/m)
  })

  it('kills a cosign whose child holds its stdout at the limit: tool-error, the child gone, no wait for it', async () => {
    const marker = `sleep 299.${process.pid}3`
    const fake = script('cosign-with-orphan', [`${marker} &`, 'sleep 300'])
    const digest = `sha256:${'6'.repeat(64)}` as Digest
    const verifier = new CosignVerifier({
      cosignPath: fake,
      workspace: dir,
      insecureRegistries: [],
      maxAttempts: 1,
      timeoutMs: 1_000,
      env: { PATH: process.env.PATH, HOME: dir }
    })
    const finding = await verifier.verifySignature(
      imagePlan('example.test', 'rocm/dev', digest, {
        kind: 'keyless',
        identity: '^https://github.com/ROCm/',
        issuer: 'https://token.actions.githubusercontent.com',
        issuerIsRegexp: false
      }),
      digest,
      new Date()
    )
    expect(finding).toMatchObject({
      outcome: 'tool-error',
      message: 'cosign verify did not finish in time and was killed'
    })
    expect(running(marker)).toBe(false)
  })
})
