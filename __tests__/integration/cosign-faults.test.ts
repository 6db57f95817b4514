/**
 * The verifier against the real cosign 3.1.1 and a real registry on loopback,
 * when things go wrong around it: registry down, never answering, blobs
 * failing with 503, credentials required. Apart from cosign-verify.test.ts so
 * the two run side by side (cosign's own 503 backoff is mostly waiting).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  chmodSync,
  existsSync
} from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CosignVerifier, type CosignVerifierOptions } from '../../src/adapters/cosign/verifier.js'
import type { Digest, SignerExpectation } from '../../src/domain/types.js'
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js'
import { generateKeyPair, type KeyPair } from '../helpers/images.js'
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js'
import { hermeticEnv, mustRun, toolPath } from '../helpers/tools.js'
import { htpasswdEntry } from '../helpers/registry-auth-servers.js'
import {
  imagePlan,
  signatureEvidenceAt,
  signedImage as signedImageIn,
  testVerifier
} from '../helpers/cosign-plans.js'

const REPO = 'rocm/dev'
const NOW = new Date()

let registry: TestRegistry
let workspace: string
let keyA: KeyPair

const keySigner = (path: string): SignerExpectation => ({ kind: 'key', keyPath: path })

const verifier = (options: Partial<CosignVerifierOptions> = {}): CosignVerifier =>
  testVerifier(registry, workspace, options)

const signedImage = (key: KeyPair): Promise<Digest> => signedImageIn(registry, REPO, key)

beforeAll(async () => {
  registry = await startRegistry()
  keyA = await generateKeyPair('a')
  workspace = mkdtempSync(join(tmpdir(), 'rp-workspace-'))
  mkdirSync(join(workspace, 'keys'))
  copyFileSync(keyA.publicKey, join(workspace, 'keys', 'a.pub'))
})

afterAll(async () => {
  await registry.stop()
  rmSync(workspace, { recursive: true, force: true })
})

describe('faults', () => {
  let proxy: FaultProxy
  beforeAll(async () => {
    proxy = await startFaultProxy(registry.host)
  })
  afterAll(async () => {
    await proxy.stop()
  })

  it('calls a registry that is down transient after bounded retries', async () => {
    const host = `127.0.0.1:${await freePort()}`
    const digest = `sha256:${'2'.repeat(64)}` as Digest
    const started = Date.now()
    const finding = await verifier({ insecureRegistries: [host], maxAttempts: 3 }).verifySignature(
      imagePlan(host, REPO, digest, keySigner('keys/a.pub')),
      digest,
      NOW
    )
    expect(finding.outcome).toBe('transient')
    expect(finding.attempts).toBe(3)
    expect(finding.message).toContain('connection refused')
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  it('kills cosign when a registry accepts and never answers: tool-error, not a hang', async () => {
    const sockets: Socket[] = []
    const server: Server = createServer(socket => sockets.push(socket))
    await new Promise<void>(listening => server.listen(0, '127.0.0.1', () => listening()))
    const address = server.address()
    const host = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    const digest = `sha256:${'3'.repeat(64)}` as Digest
    try {
      const started = Date.now()
      const finding = await verifier({
        insecureRegistries: [host],
        timeoutMs: 1_500
      }).verifySignature(imagePlan(host, REPO, digest, keySigner('keys/a.pub')), digest, NOW)
      expect(finding.outcome).toBe('tool-error')
      expect(finding.message).toBe('cosign verify did not finish in time and was killed')
      expect(finding.attempts).toBe(1)
      expect(Date.now() - started).toBeLessThan(6_000)
      const running = execFileSync('ps', ['-eo', 'args']).toString()
      expect(running).not.toContain(`${host}/${REPO}@`)
    } finally {
      sockets.forEach(socket => socket.destroy())
      server.close()
    }
  })

  it('ends verified after blob 503s for a while, never unsigned', async () => {
    const digest = await signedImage(keyA)
    proxy.reset()
    proxy.rules = [
      {
        when: (method, path) => method === 'GET' && path.includes('/blobs/'),
        action: { kind: 'status', status: 503 },
        times: 3
      }
    ]
    const finding = await verifier({
      insecureRegistries: [proxy.host],
      maxAttempts: 5,
      signatureEvidence: signatureEvidenceAt(registry.url)
    }).verifySignature(imagePlan(proxy.host, REPO, digest, keySigner('keys/a.pub')), digest, NOW)
    expect(proxy.requests.filter(request => request.status === 503).length).toBeGreaterThan(0)
    expect(finding.outcome).toBe('verified')
    expect(finding.attempts).toBeGreaterThan(1)
  })

  it('calls blob 503s that never stop transient, never unsigned', async () => {
    const digest = await signedImage(keyA)
    proxy.reset()
    proxy.rules = [
      {
        when: (method, path) => method === 'GET' && path.includes('/blobs/'),
        action: { kind: 'status', status: 503 }
      }
    ]
    const finding = await verifier({
      insecureRegistries: [proxy.host],
      maxAttempts: 2,
      signatureEvidence: signatureEvidenceAt(registry.url)
    }).verifySignature(imagePlan(proxy.host, REPO, digest, keySigner('keys/a.pub')), digest, NOW)
    expect(finding.outcome).toBe('transient')
    expect(finding.attempts).toBe(2)
  })
})

describe('registry credentials', () => {
  const USER = 'rocm-ci'
  const PASSWORD = 's3cret-pass'
  const HTPASSWD = htpasswdEntry(USER, PASSWORD)
  let secured: TestRegistry
  let digest: Digest
  let wrapper: string
  let wrapperLog: string

  beforeAll(async () => {
    secured = await startRegistry({ htpasswd: HTPASSWD })
    // Sign on the open registry, then copy image and signature across with credentials.
    digest = await signedImage(keyA)
    const config = mkdtempSync(join(tmpdir(), 'rp-docker-'))
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64')
    writeFileSync(
      join(config, 'config.json'),
      JSON.stringify({ auths: { [secured.host]: { auth } } })
    )
    const env = hermeticEnv({ DOCKER_CONFIG: config })
    for (const reference of [`@${digest}`, `:${digest.replace(':', '-')}`]) {
      await mustRun(
        toolPath('crane'),
        [
          'copy',
          '--insecure',
          `${registry.host}/${REPO}${reference}`,
          `${secured.host}/${REPO}${reference}`
        ],
        { env }
      )
    }
    rmSync(config, { recursive: true, force: true })
    // A wrapper that records what cosign was given, then becomes cosign.
    const dir = mkdtempSync(join(tmpdir(), 'rp-wrapper-'))
    wrapper = join(dir, 'cosign')
    wrapperLog = join(dir, 'calls.log')
    writeFileSync(
      wrapper,
      [
        '#!/bin/sh',
        `{ printf 'args:%s\\n' "$*"; printf 'config:%s\\n' "$DOCKER_CONFIG"; stat -c 'mode:%a' "$DOCKER_CONFIG" "$DOCKER_CONFIG/config.json" 2>/dev/null; } >> '${wrapperLog}'`,
        `exec '${toolPath('cosign')}' "$@"`
      ].join('\n') + '\n'
    )
    chmodSync(wrapper, 0o755)
  })

  afterAll(async () => {
    await secured.stop()
  })

  it('calls a registry that needs credentials, asked without them, registry-auth', async () => {
    const finding = await verifier({
      insecureRegistries: [secured.host],
      signatureEvidence: undefined,
      digestExists: undefined
    }).verifySignature(imagePlan(secured.host, REPO, digest, keySigner('keys/a.pub')), digest, NOW)
    expect(finding.outcome).toBe('registry-auth')
    expect(finding.message).toContain('UNAUTHORIZED')
  })

  it('hands credentials over through a private DOCKER_CONFIG, never arguments, and removes it', async () => {
    const runnerTemp = mkdtempSync(join(tmpdir(), 'rp-runner-temp-'))
    const finding = await verifier({
      cosignPath: wrapper,
      env: hermeticEnv({ RUNNER_TEMP: runnerTemp }),
      insecureRegistries: [secured.host],
      signatureEvidence: undefined,
      digestExists: undefined,
      credentials: {
        get: host => (host === secured.host ? { username: USER, password: PASSWORD } : undefined)
      }
    }).verifySignature(imagePlan(secured.host, REPO, digest, keySigner('keys/a.pub')), digest, NOW)
    expect(finding.outcome).toBe('verified')
    const log = readFileSync(wrapperLog, 'utf8')
    expect(log).not.toContain(PASSWORD)
    expect(log).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'))
    expect(log).toMatch(/args:verify .* -- 127\.0\.0\.1:\d+\/rocm\/dev@sha256:[0-9a-f]{64}\n/)
    expect(log).toContain('mode:700\nmode:600\n')
    const config = /config:(.*)\n/.exec(log)?.[1] ?? ''
    expect(config).not.toBe('')
    expect(config.startsWith(runnerTemp)).toBe(true)
    expect(existsSync(config)).toBe(false)
    expect(readdirSync(runnerTemp)).toEqual([])
    expect(JSON.stringify(finding)).not.toContain(PASSWORD)
  })
})
