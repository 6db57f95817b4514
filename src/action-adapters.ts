/**
 * The adapters the action's commands share, built from its inputs: one
 * credential store, one registry client (masking every secret it meets), and
 * cosign installed through the tool cache (or the given binary) on first use.
 */
import * as core from '@actions/core'
import { installCosign } from './cosign/install.js'
import { createCosignTools } from './cosign-tools.js'
import type { ActionInputs } from './inputs.js'
import type { CosignTools } from './pipeline.js'
import { RegistryClient } from './registry/client.js'
import { createCredentialStore } from './registry/credentials.js'

export interface ActionAdapters {
  registry: RegistryClient
  prepareCosign: () => Promise<CosignTools>
}

export function createActionAdapters(inputs: ActionInputs, workspace: string): ActionAdapters {
  const credentials = createCredentialStore({
    username: inputs.registryUsername,
    password: inputs.registryPassword,
    githubToken: inputs.githubToken
  })
  const registry = new RegistryClient({
    credentials,
    insecureRegistries: inputs.insecureRegistries,
    maskSecret: secret => core.setSecret(secret),
    log: message => core.debug(message)
  })
  const prepareCosign = async (): Promise<CosignTools> => {
    const cosignPath =
      inputs.cosignPath ??
      (await installCosign({
        version: inputs.cosignVersion,
        sha256: inputs.cosignSha256,
        releaseUrl: inputs.cosignReleaseUrl
      }))
    return createCosignTools({
      cosignPath,
      workspace,
      insecureRegistries: inputs.insecureRegistries,
      credentials,
      registry
    })
  }
  return { registry, prepareCosign }
}
