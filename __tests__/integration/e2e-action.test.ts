/**
 * The bundled action, run as the runner runs it under Node 24, against the
 * real registry and the real cosign.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash, createPublicKey } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { runBundledAction } from '../helpers/action-runner.js'
import {
  fakeRuntimeToken,
  readZip,
  startArtifactStandin,
  STANDIN_ARTIFACT_ID
} from '../helpers/artifact-standin.js'
import { startFaultProxy } from '../helpers/fault-proxy.js'
import { htpasswdEntry } from '../helpers/registry-auth-servers.js'
import { STRICT_POLICY, workspaceWith } from '../helpers/workspace.js'
import {
  generateKeyPair,
  pushImage,
  pushIndex,
  retag,
  signImage,
  type KeyPair
} from '../helpers/images.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { reportSchemaErrors } from '../helpers/report-schema.js'
import { hermeticEnv, mustRun, toolPath } from '../helpers/tools.js'

describe('the bundled action under Node 24', () => {
  let registry: TestRegistry
  let key: KeyPair

  beforeAll(async () => {
    registry = await startRegistry()
    key = await generateKeyPair('release')
  })
  afterAll(async () => {
    await registry.stop()
  })

  function inputs(extra: Record<string, string> = {}): Record<string, string> {
    return {
      'insecure-registries': registry.host,
      'cosign-path': toolPath('cosign'),
      'upload-artifact': 'false',
      concurrency: '4',
      ...extra
    }
  }

  it('passes a key-signed image whose pin matches: exit 0, valid', async () => {
    const digest = await pushImage(registry.host, 'rocm/dev', '6.4.4-ubuntu-22.04')
    await signImage(`${registry.host}/rocm/dev@${digest}`, key)
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag: '6.4.4-ubuntu-22.04', digest, keyPath: 'ci/keys/release.pub' }],
      key
    )
    const run = await runBundledAction(workspace, inputs())
    expect(run.outputs['exit-code']).toBe('0')
    expect(run.outputs.decision).toBe('pass')
    expect(run.outputs['trust-status']).toBe('valid')
    expect(run.outputs.image).toBe(`${registry.host}/rocm/dev:6.4.4-ubuntu-22.04@${digest}`)
    expect(run.code).toBe(0)
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.exitCode).toBe(0)
    expect(report.images[0].trustStatus).toBe('valid')
    expect(run.summary).toContain('6.4.4-ubuntu-22.04')
    expect(run.summary).toContain('valid')
  })

  it('fails an unsigned image under require_signature in strict: exit 3, step failed', async () => {
    const digest = await pushImage(registry.host, 'rocm/dev', '6.4.3-ubuntu-22.04')
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag: '6.4.3-ubuntu-22.04', digest, keyPath: 'ci/keys/release.pub' }],
      key
    )
    const run = await runBundledAction(workspace, inputs())
    expect(run.outputs['exit-code']).toBe('3')
    expect(run.outputs.decision).toBe('fail')
    expect(run.outputs['trust-status']).toBe('unsigned')
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain('::error')
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.images[0].trustStatus).toBe('unsigned')
  })

  it('uploads the report as an artifact before failing the step, and sets the artifact outputs', async () => {
    const digest = await pushImage(registry.host, 'rocm/dev', '6.2.4-ubuntu-22.04')
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag: '6.2.4-ubuntu-22.04', digest, keyPath: 'ci/keys/release.pub' }],
      key
    )
    const standin = await startArtifactStandin()
    try {
      const run = await runBundledAction(
        workspace,
        inputs({ 'upload-artifact': 'true', 'artifact-name': 'rocm-provenance' }),
        {
          ACTIONS_RUNTIME_TOKEN: fakeRuntimeToken('run-1', 'job-2'),
          ACTIONS_RESULTS_URL: `${standin.url}/`,
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'example/rocm-app',
          GITHUB_RUN_ID: '77'
        }
      )
      expect(run.outputs.decision).toBe('fail')
      expect(run.code).not.toBe(0)
      expect(run.outputs['artifact-id']).toBe(String(STANDIN_ARTIFACT_ID))
      expect(run.outputs['artifact-url']).toBe(
        `https://github.com/example/rocm-app/actions/runs/77/artifacts/${STANDIN_ARTIFACT_ID}`
      )
      const zip = [...standin.blobs.values()][0]
      const uploaded = readZip(zip).get('rocm_provenance.json')
      expect(uploaded?.equals(readFileSync(join(workspace, 'rocm_provenance.json')))).toBe(true)
      expect(JSON.parse(String(uploaded)).exitCode).toBe(3)
    } finally {
      await standin.stop()
    }
  })

  it('fails a tag moved after pinning: exit 2', async () => {
    const pinned = await pushImage(registry.host, 'rocm/dev', '6.4.2-ubuntu-24.04')
    await signImage(`${registry.host}/rocm/dev@${pinned}`, key)
    const moved = await pushImage(registry.host, 'rocm/dev', 'scratch')
    await retag(registry.host, 'rocm/dev', moved, '6.4.2-ubuntu-24.04')
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag: '6.4.2-ubuntu-24.04', digest: pinned, keyPath: 'ci/keys/release.pub' }],
      key
    )
    const run = await runBundledAction(workspace, inputs())
    expect(run.outputs['exit-code']).toBe('2')
    expect(run.outputs.decision).toBe('fail')
    expect(run.code).not.toBe(0)
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.images[0].currentDigest).toBe(moved)
    expect(report.images[0].pinnedDigest).toBe(pinned)
  })

  it('reports a broken policy file as exit 4 with an annotation at its line, and still writes the report', async () => {
    const digest = await pushImage(registry.host, 'rocm/dev', '6.4.1-ubuntu-22.04')
    const brokenPolicy = ['policy:', '  mode: strict', '  require_signatures: true', ''].join('\n')
    const workspace = workspaceWith(registry, brokenPolicy, [{ tag: '6.4.1-ubuntu-22.04', digest }])
    const run = await runBundledAction(workspace, inputs())
    expect(run.outputs['exit-code']).toBe('4')
    expect(run.outputs.decision).toBe('fail')
    expect(run.code).not.toBe(0)
    expect(run.stdout).toMatch(
      /::error [^\n]*file=ci\/rocm_policy\.yml,line=3,[^\n]*::[^\n]*require_signatures/
    )
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.exitCode).toBe(4)
    expect(report.images).toEqual([])
  })

  it('with command: update, re-pins a moved tag to its new signed digest and reports it', async () => {
    const pinned = await pushImage(registry.host, 'rocm/dev', '6.5.0-ubuntu-24.04')
    await signImage(`${registry.host}/rocm/dev@${pinned}`, key)
    const next = await pushImage(registry.host, 'rocm/dev', 'next')
    await signImage(`${registry.host}/rocm/dev@${next}`, key)
    await retag(registry.host, 'rocm/dev', next, '6.5.0-ubuntu-24.04')
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag: '6.5.0-ubuntu-24.04', digest: pinned, keyPath: 'ci/keys/release.pub' }],
      key
    )
    const before = readFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), 'utf8')
    const run = await runBundledAction(workspace, inputs({ command: 'update' }))
    expect(run.code).toBe(0)
    expect(run.outputs.changed).toBe('true')
    expect(run.outputs['exit-code']).toBe('0')
    const updated = JSON.parse(run.outputs['updated-images'])
    expect(updated).toHaveLength(1)
    expect(updated[0].newDigest).toBe(next)
    expect(JSON.parse(run.outputs['rejected-images'])).toEqual([])
    expect(run.outputs['pr-body']).toContain(next.slice(0, 19))
    const after = readFileSync(join(workspace, 'ci', 'rocm_matrix.yml'), 'utf8')
    // The new digest, and the key's fingerprint (SHA-256 of its DER SPKI) as evidence.
    const der = createPublicKey(readFileSync(key.publicKey)).export({ type: 'spki', format: 'der' })
    const fingerprint = `sha256:${createHash('sha256').update(der).digest('hex')}`
    expect(after).toBe(
      before
        .replace(pinned, next)
        .replace(
          '        key_path: ci/keys/release.pub\n',
          `        key_path: ci/keys/release.pub\n        key_fingerprint: ${fingerprint}\n`
        )
    )
  })

  it('still writes a complete, valid report when the registry fails part-way through the run', async () => {
    const healthy = await pushImage(registry.host, 'rocm/dev', '6.3.0-ubuntu-22.04')
    await signImage(`${registry.host}/rocm/dev@${healthy}`, key)
    const failing = await pushImage(registry.host, 'rocm/dev', '6.3.1-ubuntu-22.04')
    await signImage(`${registry.host}/rocm/dev@${failing}`, key)
    // Every request that concerns the second image is dropped: its tag, its
    // manifest by digest, and its signature artifacts (sha256-<hex> tags).
    const hex = failing.slice('sha256:'.length)
    const proxy = await startFaultProxy(registry.host, [
      {
        when: (_method, path) => path.includes('6.3.1-ubuntu-22.04') || path.includes(hex),
        action: { kind: 'reset' }
      }
    ])
    try {
      const workspace = workspaceWith(
        proxy,
        STRICT_POLICY,
        [
          { tag: '6.3.0-ubuntu-22.04', digest: healthy, keyPath: 'ci/keys/release.pub' },
          { tag: '6.3.1-ubuntu-22.04', digest: failing, keyPath: 'ci/keys/release.pub' }
        ],
        key
      )
      const run = await runBundledAction(workspace, {
        ...inputs(),
        'insecure-registries': proxy.host
      })
      // Unreachable is 2; a required signature whose check could not complete is 3.
      expect(run.outputs['exit-code']).toBe('3')
      expect(run.outputs.decision).toBe('fail')
      expect(run.outputs['trust-status']).toBe('unknown')
      const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
      expect(reportSchemaErrors(report)).toEqual([])
      expect(report.images.map((image: { trustStatus: string }) => image.trustStatus)).toEqual([
        'valid',
        'unknown'
      ])
      expect(report.images.map((image: { code: number }) => image.code)).toEqual([0, 3])
      expect(report.images[1].errors.length).toBeGreaterThan(0)
      expect(proxy.requests.some(request => request.status === -1)).toBe(true)
    } finally {
      await proxy.stop()
    }
  })

  it('still writes the report when the Docker config cannot be read', async () => {
    const workspace = workspaceWith(registry, STRICT_POLICY, [])
    const dockerConfig = mkdtempSync(join(tmpdir(), 'rp-docker-'))
    writeFileSync(join(dockerConfig, 'config.json'), '{ not json')
    const run = await runBundledAction(workspace, inputs(), { DOCKER_CONFIG: dockerConfig })
    expect(run.outputs['exit-code']).toBe('4')
    expect(run.code).not.toBe(0)
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.errors.join('\n')).toContain('DOCKER_CONFIG_UNREADABLE')
  })

  it('refuses a bad input with exit 4 and still writes the report', async () => {
    const workspace = workspaceWith(registry, STRICT_POLICY, [])
    const run = await runBundledAction(workspace, inputs({ concurrency: 'lots' }))
    expect(run.outputs['exit-code']).toBe('4')
    expect(run.code).not.toBe(0)
    expect(run.stdout).toContain("input 'concurrency' must be a whole number")
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    expect(reportSchemaErrors(report)).toEqual([])
    expect(report.exitCode).toBe(4)
  })
})

describe('the bundled action with registry credentials', () => {
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`
  let registry: TestRegistry
  let key: KeyPair

  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: htpasswdEntry('ci-reader', password) })
    key = await generateKeyPair('release')
  })
  afterAll(async () => {
    await registry.stop()
  })

  it('verifies a signed image behind Basic auth and never shows the password', async () => {
    const login = hermeticEnv()
    await mustRun(
      toolPath('crane'),
      ['auth', 'login', registry.host, '-u', 'ci-reader', '--password-stdin'],
      {
        env: login,
        input: password
      }
    )
    const digest = await pushImage(
      registry.host,
      'rocm/dev',
      '6.4.4-ubuntu-22.04',
      undefined,
      login
    )
    await signImage(`${registry.host}/rocm/dev@${digest}`, key, { env: login })
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag: '6.4.4-ubuntu-22.04', digest, keyPath: 'ci/keys/release.pub' }],
      key
    )
    const run = await runBundledAction(workspace, {
      'insecure-registries': registry.host,
      'cosign-path': toolPath('cosign'),
      'upload-artifact': 'false',
      'registry-username': 'ci-reader',
      'registry-password': password
    })
    expect(run.outputs['exit-code']).toBe('0')
    expect(run.outputs['trust-status']).toBe('valid')
    const report = readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8')
    // The runner consumes `::add-mask::` commands (they never reach the log);
    // everything else the step printed must be free of the secret.
    expect(run.stdout).toContain(`::add-mask::${password}\n`)
    const log = run.stdout
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    for (const text of [log, run.stderr, run.summary, JSON.stringify(run.outputs), report]) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(Buffer.from(`ci-reader:${password}`).toString('base64'))
    }
  })
})

describe('the bundled action against a registry that quotes the Authorization it received', () => {
  const password = `pw-${Math.random().toString(36).slice(2)}-echoed`
  const basic = Buffer.from(`ci-reader:${password}`).toString('base64')
  let server: Server
  let host: string

  beforeAll(async () => {
    // Asks for Basic, then refuses it with an error body that quotes the header.
    server = createHttpServer((request, response) => {
      const authorization = request.headers.authorization
      if (!authorization) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="hostile"' })
        response.end()
        return
      }
      if (request.method === 'HEAD') {
        // No digest: the client GETs the manifest, whose error answer has a body.
        response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })
        response.end()
        return
      }
      response.writeHead(403, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({
          errors: [{ code: 'DENIED', message: `denied: you sent Authorization: ${authorization}` }]
        })
      )
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  })

  it('redacts the password and its Basic form from the report, summary, outputs and annotations', async () => {
    const workspace = workspaceWith({ host }, STRICT_POLICY, [
      { tag: '6.4.4-ubuntu-22.04', digest: `sha256:${'5'.repeat(64)}` }
    ])
    const run = await runBundledAction(workspace, {
      'insecure-registries': host,
      'cosign-path': toolPath('cosign'),
      'upload-artifact': 'false',
      'registry-username': 'ci-reader',
      'registry-password': password
    })
    const report = readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8')
    // The hostile answer did reach the report, redacted.
    expect(report).toContain('denied: you sent Authorization: Basic ***')
    const log = run.stdout
      .split('\n')
      .filter(line => !line.startsWith('::add-mask::'))
      .join('\n')
    for (const text of [log, run.stderr, run.summary, JSON.stringify(run.outputs), report]) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(basic)
    }
  })
})

describe('the bundled action with paths planted by an earlier step', () => {
  let registry: TestRegistry
  beforeAll(async () => {
    registry = await startRegistry()
  })
  afterAll(async () => {
    await registry.stop()
  })
  const inputs = (extra: Record<string, string>): Record<string, string> => ({
    'insecure-registries': registry.host,
    'cosign-path': toolPath('cosign'),
    'upload-artifact': 'false',
    ...extra
  })
  const readReport = (workspace: string, path = 'rocm_provenance.json') =>
    JSON.parse(readFileSync(join(workspace, path), 'utf8')) as {
      exitCode: number
      errors: string[]
      configIssues?: { message: string }[]
    }

  it('does not hang on a telemetry-summary that is a FIFO, and warns', async () => {
    const workspace = workspaceWith(registry, STRICT_POLICY, [])
    execFileSync('mkfifo', [join(workspace, 'telemetry.json')])
    const run = await runBundledAction(workspace, inputs({ 'telemetry-summary': 'telemetry.json' }))
    expect(run.stdout).toMatch(
      /::warning::the telemetry summary .*telemetry\.json was not annotated: .*telemetry\.json is not a regular file/
    )
    expect(statSync(join(workspace, 'telemetry.json')).isFIFO()).toBe(true)
    expect(existsSync(join(workspace, 'rocm_provenance.json'))).toBe(true)
  })

  it('does not rewrite a file outside the workspace through a telemetry-summary symlink', async () => {
    const workspace = workspaceWith(registry, STRICT_POLICY, [])
    const outside = join(mkdtempSync(join(tmpdir(), 'rp-outside-')), 'victim.json')
    writeFileSync(outside, '{"keep":"me"}\n')
    symlinkSync(outside, join(workspace, 'telemetry.json'))
    const run = await runBundledAction(workspace, inputs({ 'telemetry-summary': 'telemetry.json' }))
    expect(run.stdout).toMatch(
      /::warning::the telemetry summary .* is a symlink out of the workspace/
    )
    expect(readFileSync(outside, 'utf8')).toBe('{"keep":"me"}\n')
  })

  it.each([
    [
      'a symlink to a device node',
      (w: string) => symlinkSync('/dev/null', join(w, 'out.json')),
      'out.json',
      /is a symlink out of the workspace/
    ],
    [
      'a FIFO',
      (w: string) => execFileSync('mkfifo', [join(w, 'out.json')]),
      'out.json',
      /is not a regular file/
    ],
    ['a path out of the workspace', () => undefined, '../out.json', /leaves the workspace/]
  ])(
    'refuses a provenance-path that is %s: exit 4, the report at the default path',
    async (_name, plant, path, problem) => {
      const workspace = workspaceWith(registry, STRICT_POLICY, [])
      plant(workspace)
      const run = await runBundledAction(workspace, inputs({ 'provenance-path': path }))
      expect(run.outputs['exit-code']).toBe('4')
      const report = readReport(workspace)
      expect(report.errors.join('\n')).toMatch(problem)
      expect(report.errors.join('\n')).toContain("input 'provenance-path'")
      expect(readFileSync('/dev/null', 'utf8')).toBe('')
    }
  )

  it.each([
    ['out of the workspace', () => undefined, '../outside/root.json', /leaves the workspace/],
    [
      'a symlink out of the workspace',
      (w: string) => {
        const outside = join(mkdtempSync(join(tmpdir(), 'rp-outside-')), 'root.json')
        writeFileSync(outside, '{}')
        symlinkSync(outside, join(w, 'root.json'))
      },
      'root.json',
      /is a symlink out of the workspace/
    ],
    [
      'a FIFO',
      (w: string) => execFileSync('mkfifo', [join(w, 'root.json')]),
      'root.json',
      /is not a regular file/
    ]
  ])(
    'holds the trusted-root input to the workspace like the policy: %s → exit 4',
    async (_name, plant, path, problem) => {
      const workspace = workspaceWith(registry, STRICT_POLICY, [])
      plant(workspace)
      const run = await runBundledAction(workspace, inputs({ 'trusted-root': path }))
      expect(run.outputs['exit-code']).toBe('4')
      const text = readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8')
      expect(text).toMatch(
        new RegExp(`input 'trusted-root': \`${path.replace(/[.]/g, '\\.')}\` ${problem.source}`)
      )
    }
  )
})

describe('the bundled action on a multi-arch image whose index alone is signed', () => {
  let registry: TestRegistry
  let key: KeyPair
  beforeAll(async () => {
    registry = await startRegistry()
    key = await generateKeyPair('release')
  })
  afterAll(async () => {
    await registry.stop()
  })

  it('fails unsigned (exit 3) and says the index is signed, the pinned platform manifest not, and what to do', async () => {
    const tag = '6.4.4-ubuntu-22.04'
    const { index, manifests } = await pushIndex(registry.host, 'rocm/dev', tag, [
      'linux/amd64',
      'linux/arm64'
    ])
    await signImage(`${registry.host}/rocm/dev@${index}`, key)
    const workspace = workspaceWith(
      registry,
      STRICT_POLICY,
      [{ tag, digest: manifests['linux/amd64'], keyPath: 'ci/keys/release.pub' }],
      key
    )
    const run = await runBundledAction(workspace, {
      'insecure-registries': registry.host,
      'cosign-path': toolPath('cosign'),
      'upload-artifact': 'false'
    })
    expect(run.outputs['exit-code']).toBe('3')
    expect(run.outputs['trust-status']).toBe('unsigned')
    const report = JSON.parse(readFileSync(join(workspace, 'rocm_provenance.json'), 'utf8'))
    const path: string[] = report.images[0].decisionPath
    const signatureStep = path.find(step => step.startsWith('signature:'))
    expect(signatureStep).toContain(
      `no signature found on the pinned linux/amd64 platform manifest, while the index sha256:${index.slice(7, 19)}`
    )
    expect(signatureStep).toMatch(
      /is signed by sha256:[0-9a-f]+.* — sign the platform manifests too \(`cosign sign --recursive` on the index\) or pin the index digest/
    )
    expect(run.summary).toContain('cosign sign --recursive')
  })
})
