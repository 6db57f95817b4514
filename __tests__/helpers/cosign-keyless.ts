/**
 * A keyless Sigstore on loopback for the verifier's tests: Fulcio and Rekor
 * stand-ins (cosign-sigstore-standin.mjs, on Node 24), a trusted root and
 * signing configs made by the real `cosign trusted-root create` /
 * `signing-config create`, and keyless signing with unsigned OIDC tokens.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { hermeticEnv, mustRun, toolPath } from './tools.js'

const STANDIN = join(dirname(fileURLToPath(import.meta.url)), 'cosign-sigstore-standin.mjs')
const REGISTRY_FLAGS = ['--allow-http-registry', '--allow-insecure-registry']

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
export const RELEASE_IDENTITY =
  'https://github.com/rocm/rocm-images/.github/workflows/release.yml@refs/heads/main'

export interface KeylessBed {
  dir: string
  trustedRootPath: string
  /**
   * Signs keylessly. `signedAt`: the time Rekor logs the entry at (and Fulcio
   * issues the certificate at), at most 30 days back; the real time otherwise.
   */
  sign(
    refAtDigest: string,
    options?: { expiredCertificate?: boolean; legacy?: boolean; signedAt?: Date }
  ): Promise<void>
  /**
   * Signs with a key (cosign 3's format), logged in the stand-in's Rekor at
   * `signedAt` (at most 30 days back; the real time otherwise).
   */
  signWithKey(refAtDigest: string, privateKey: string, options?: { signedAt?: Date }): Promise<void>
  stop(): Promise<void>
}

function node24Path(): Promise<string> {
  return new Promise((resolvePath, reject) => {
    execFile(
      'npx',
      ['-y', 'node@24', '-p', 'process.execPath'],
      { timeout: 120_000 },
      (error, stdout) => (error ? reject(error) : resolvePath(String(stdout).trim()))
    )
  })
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let out = ''
    let err = ''
    child.stderr?.on('data', chunk => (err += String(chunk)))
    child.stdout?.on('data', chunk => {
      out += String(chunk)
      const newline = out.indexOf('\n')
      if (newline >= 0) resolveLine(out.slice(0, newline))
    })
    child.once('exit', code => reject(new Error(`stand-in exited ${code}: ${err}`)))
  })
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

export async function startKeylessBed(): Promise<KeylessBed> {
  const dir = mkdtempSync(join(tmpdir(), 'rp-keyless-'))
  const child = spawn(await node24Path(), [STANDIN, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  const urls = JSON.parse(await firstLine(child)) as {
    fulcioUrl: string
    expiredFulcioUrl: string
    rekorUrl: string
  }
  // The trust material is valid from 30 days back (the stand-in's root
  // certificate too), so a signature may be logged at a chosen time since then.
  const start = new Date(Date.now() - 30 * 24 * 60 * 60 * 1000)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
  const cosign = toolPath('cosign')
  const env = hermeticEnv()
  const trustedRootPath = join(dir, 'trusted_root.json')
  await mustRun(
    cosign,
    [
      'trusted-root',
      'create',
      `--fulcio=url=${urls.fulcioUrl},certificate-chain=${join(dir, 'fulcio-root.pem')},start-time=${start}`,
      `--rekor=url=${urls.rekorUrl},public-key=${join(dir, 'rekor.pub')},start-time=${start}`,
      `--ctfe=url=${urls.fulcioUrl},public-key=${join(dir, 'ctfe.pub')},start-time=${start}`,
      '--out',
      trustedRootPath
    ],
    { env }
  )
  const signingConfig = join(dir, 'signing_config.json')
  await mustRun(
    cosign,
    [
      'signing-config',
      'create',
      `--fulcio=url=${urls.fulcioUrl},api-version=1,start-time=${start},operator=test`,
      `--rekor=url=${urls.rekorUrl},api-version=1,start-time=${start},operator=test`,
      '--rekor-config=ANY',
      '--out',
      signingConfig
    ],
    { env }
  )
  let tokens = 0

  /** Moves the stand-in's clock (Rekor, Fulcio, CT log) by `offsetSeconds`. */
  async function setClock(offsetSeconds: number): Promise<void> {
    const answer = await fetch(`${urls.rekorUrl}/clock`, {
      method: 'POST',
      body: JSON.stringify({ offsetSeconds })
    })
    if (answer.status !== 204) throw new Error(`stand-in clock: ${answer.status}`)
  }

  /** Runs `sign` with the stand-in's clock at `signedAt` (when given), then resets it. */
  async function at(signedAt: Date | undefined, sign: () => Promise<void>): Promise<void> {
    if (!signedAt) return sign()
    await setClock(Math.round((signedAt.getTime() - Date.now()) / 1000))
    try {
      await sign()
    } finally {
      await setClock(0)
    }
  }

  const bed: KeylessBed = {
    dir,
    trustedRootPath,
    async signWithKey(refAtDigest, privateKey, options = {}) {
      await at(options.signedAt, async () => {
        // The signing config's Rekor logs the signature; with a key, Fulcio is not asked.
        const args = ['sign', '--yes', '--key', privateKey, ...REGISTRY_FLAGS]
        args.push('--signing-config', signingConfig, '--trusted-root', trustedRootPath, refAtDigest)
        await mustRun(cosign, args, { env: hermeticEnv() })
      })
    },
    async sign(refAtDigest, options = {}) {
      if (options.signedAt) {
        await at(options.signedAt, () => bed.sign(refAtDigest, { ...options, signedAt: undefined }))
        return
      }
      const now = Math.floor(Date.now() / 1000)
      const tokenPath = join(dir, `token-${tokens++}.jwt`)
      const claims = {
        iss: GITHUB_ISSUER,
        sub: RELEASE_IDENTITY,
        aud: 'sigstore',
        iat: now,
        exp: now + 600
      }
      writeFileSync(tokenPath, `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`)
      const args = ['sign', '--yes', '--identity-token', tokenPath, ...REGISTRY_FLAGS]
      if (!options.legacy && !options.expiredCertificate) {
        args.push('--signing-config', signingConfig, '--trusted-root', trustedRootPath, refAtDigest)
        await mustRun(cosign, args, { env: hermeticEnv() })
        return
      }
      // Without a signing config cosign takes the services from flags and the
      // trust material from the environment, and does not check the bundle it
      // made — the only way to attach one whose certificate had expired when
      // it was logged (the expired CA's clock is two hours behind).
      args.push(
        '--use-signing-config=false',
        '--fulcio-url',
        options.expiredCertificate ? urls.expiredFulcioUrl : urls.fulcioUrl,
        '--rekor-url',
        urls.rekorUrl,
        `--new-bundle-format=${options.legacy ? 'false' : 'true'}`,
        refAtDigest
      )
      await mustRun(cosign, args, {
        env: hermeticEnv({
          SIGSTORE_ROOT_FILE: join(dir, 'fulcio-root.pem'),
          SIGSTORE_REKOR_PUBLIC_KEY: join(dir, 'rekor.pub'),
          SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: join(dir, 'ctfe.pub')
        })
      })
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise(resolveExit => child.once('exit', resolveExit))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
  return bed
}
