/**
 * The adapters verify and update share, in the action and the CLI alike: one
 * credential store, one registry client, and cosign made ready on first use.
 * The action installs cosign through the tool cache and masks every secret it
 * meets; the CLI takes a cosign binary as it is.
 */
import * as core from '@actions/core'
import { installCosign } from './cosign/install.js'
import type { ActionInputs } from './inputs.js'
import type { CosignTools } from './pipeline.js'
import { createCosignTools } from './cosign-tools.js'
import { RegistryClient } from './registry/client.js'
import { createCredentialStore } from './registry/credentials.js'

export interface AdapterOptions {
  workspace: string
  username?: string
  password?: string
  githubToken?: string
  insecureRegistries: string[]
  /** The cosign binary to run (installing it first, for the action). */
  resolveCosignPath: () => Promise<string>
  maskSecret?: (secret: string) => void
  log?: (message: string) => void
}

export interface Adapters {
  registry: RegistryClient
  prepareCosign: () => Promise<CosignTools>
}

export function createAdapters(options: AdapterOptions): Adapters {
  const credentials = createCredentialStore({
    username: options.username,
    password: options.password,
    githubToken: options.githubToken
  })
  const registry = new RegistryClient({
    credentials,
    insecureRegistries: options.insecureRegistries,
    maskSecret: options.maskSecret,
    log: options.log
  })
  const prepareCosign = async (): Promise<CosignTools> =>
    createCosignTools({
      cosignPath: await options.resolveCosignPath(),
      workspace: options.workspace,
      insecureRegistries: options.insecureRegistries,
      credentials,
      registry
    })
  return { registry, prepareCosign }
}

/** The action's adapters: cosign from `cosign-path` or the tool cache, secrets masked. */
export function actionAdapters(inputs: ActionInputs, workspace: string): Adapters {
  return createAdapters({
    workspace,
    username: inputs.registryUsername,
    password: inputs.registryPassword,
    githubToken: inputs.githubToken,
    insecureRegistries: inputs.insecureRegistries,
    resolveCosignPath: async () =>
      inputs.cosignPath ??
      installCosign({
        version: inputs.cosignVersion,
        sha256: inputs.cosignSha256,
        releaseUrl: inputs.cosignReleaseUrl
      }),
    maskSecret: secret => core.setSecret(secret),
    log: message => core.debug(message)
  })
}
