/** The action's adapters: cosign from `cosign-path` or the tool cache, secrets masked. */
import * as core from '@actions/core'
import { log } from './log.js'
import { createAdapters, type Adapters } from '../adapters/create.js'
import { installCosign } from '../adapters/cosign/install.js'
import type { ActionInputs } from './inputs.js'
import type { SecretRedactor } from '../domain/secrets.js'

export function actionAdapters(
  inputs: ActionInputs,
  workspace: string,
  secrets?: SecretRedactor
): Adapters {
  return createAdapters({
    secrets,
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
    log: message => log.debug(message)
  })
}
