/**
 * The adapters verify and update share, in the action and the CLI alike: one
 * credential store, one registry client, and cosign made ready on first use.
 * The action installs cosign through the tool cache and masks every secret it
 * meets; the CLI takes a cosign binary as it is.
 */
import { createHash } from 'node:crypto'
import type { CosignTools, CosignUse, Ports } from '../app/ports.js'
import { groupSizeFor } from './cosign/batch.js'
import { loadConfig } from './fs/config-load.js'
import { matrixFile } from './fs/matrix-file.js'
import { createCosignTools } from './cosign/tools.js'
import { RegistryClient } from './registry/client.js'
import { GitHubAttestations } from './github/attestations.js'
import { createCredentialStore, GHCR_TOKEN_USERNAME } from './registry/credentials.js'
import { SecretRedactor } from '../domain/secrets.js'

interface AdapterOptions {
  workspace: string
  username?: string
  password?: string
  githubToken?: string
  /** `GITHUB_API_URL` (default https://api.github.com): GitHub's attestations API. */
  githubApiUrl?: string
  insecureRegistries: string[]
  /** The cosign binary to run (installing it first, for the action). */
  resolveCosignPath: () => Promise<string>
  maskSecret?: (secret: string) => void
  log?: (message: string) => void
  /** Collects every secret met (inputs, Basic forms, registry tokens) for redaction. */
  secrets?: SecretRedactor
}

export interface Adapters extends Omit<Ports, 'log'> {
  registry: RegistryClient
}

export function createAdapters(options: AdapterOptions): Adapters {
  const secrets = options.secrets ?? new SecretRedactor()
  secrets.addCredential(options.username, options.password)
  secrets.addCredential(GHCR_TOKEN_USERNAME, options.githubToken)
  const maskSecret = (secret: string): void => {
    secrets.add(secret)
    options.maskSecret?.(secret)
  }
  const credentials = createCredentialStore({
    username: options.username,
    password: options.password,
    githubToken: options.githubToken
  })
  const registry = new RegistryClient({
    credentials,
    insecureRegistries: options.insecureRegistries,
    maskSecret,
    log: options.log
  })
  // One attestations client per run: its 30 s rate-limit budget is the run's.
  const attestations = new GitHubAttestations({
    apiUrl: options.githubApiUrl || 'https://api.github.com',
    token: options.githubToken,
    log: options.log
  })
  const prepareCosign = async (use?: CosignUse): Promise<CosignTools> => {
    if (use?.githubSubjects) attestations.expectSubjects(use.githubSubjects)
    return createCosignTools({
      ...(use && { batch: { maxImages: groupSizeFor(use.concurrency) } }),
      cosignPath: await options.resolveCosignPath(),
      workspace: options.workspace,
      insecureRegistries: options.insecureRegistries,
      credentials,
      registry,
      attestations
    })
  }
  const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')
  return { registry, prepareCosign, loadConfig, matrixFile, sha256, schedule: registry }
}
