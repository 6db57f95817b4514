/**
 * A real OCI registry (CNCF Distribution, `docker-registry`) on a free
 * loopback port, started for a test and stopped after it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toolPath } from './tools.js'

export interface RegistryOptions {
  /** htpasswd file contents (bcrypt entries) for Basic auth. */
  htpasswd?: string
  /** Token auth: the registry trusts tokens signed by this certificate bundle. */
  token?: { realm: string; service: string; issuer: string; rootCertBundlePath: string }
}

export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string
  url: string
  dataDir: string
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

async function waitForRegistry(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`)
    try {
      const response = await fetch(`${url}/v2/`)
      if (response.status === 200 || response.status === 401) return
    } catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`docker-registry did not start at ${url}: ${log()}`)
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'rp-registry-'))
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`
  ]
  if (options.htpasswd !== undefined) {
    writeFileSync(join(dir, 'htpasswd'), options.htpasswd)
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: test-registry',
      `    path: ${join(dir, 'htpasswd')}`
    )
  } else if (options.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${options.token.realm}`,
      `    service: ${options.token.service}`,
      `    issuer: ${options.token.issuer}`,
      `    rootcertbundle: ${options.token.rootCertBundlePath}`
    )
  }
  const configPath = join(dir, 'config.yml')
  writeFileSync(configPath, lines.join('\n') + '\n')
  let output = ''
  const child = spawn(toolPath('docker-registry'), ['serve', configPath], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout?.on('data', d => (output += String(d)))
  child.stderr?.on('data', d => (output += String(d)))
  const host = `127.0.0.1:${port}`
  const url = `http://${host}`
  await waitForRegistry(url, child, () => output)
  return {
    host,
    url,
    dataDir: join(dir, 'data'),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise(r => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
