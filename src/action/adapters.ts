/** The action's adapters: cosign from `cosign-path` or the tool cache, secrets masked. */
import * as core from '@actions/core'
import { log } from './log.js'
import { createAdapters, type Adapters } from '../adapters/create.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cosignAssetName, sha256File } from '../adapters/cosign/binary.js'
import { pinnedCosignSha256 } from '../adapters/cosign/checksums.js'
import { cosignIdentity, createActionsVerdictCache } from '../adapters/github/cache.js'
import type { VerdictCache } from '../app/ports.js'
import type { ActionInputs } from './inputs.js'
import type { SecretRedactor } from '../domain/secrets.js'

/** The verification cache on GitHub's cache service, in a fixed folder of the runner's temp. */
export function actionVerdictCache(
  inputs: ActionInputs,
  workspace: string,
  env: NodeJS.ProcessEnv
): VerdictCache {
  return createActionsVerdictCache({
    workspace,
    directory: join(env.RUNNER_TEMP || tmpdir(), 'rocm-provenance-verdicts'),
    cosignIdentity: () =>
      cosignIdentity(
        inputs.cosignPath !== undefined
          ? { cosignPath: inputs.cosignPath }
          : {
              version: inputs.cosignVersion,
              sha256:
                inputs.cosignSha256 ??
                pinnedCosignSha256(
                  inputs.cosignVersion,
                  cosignAssetName(process.platform, process.arch)
                ) ??
                'unpinned'
            },
        sha256File
      )
  })
}

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
    githubApiUrl: process.env.GITHUB_API_URL,
    insecureRegistries: inputs.insecureRegistries,
    // The tool cache is loaded only when cosign is installed (start-up).
    resolveCosignPath: async () => {
      if (inputs.cosignPath !== undefined) return inputs.cosignPath
      const { installCosign } = await import('../adapters/cosign/install.js')
      return installCosign({
        version: inputs.cosignVersion,
        sha256: inputs.cosignSha256,
        releaseUrl: inputs.cosignReleaseUrl
      })
    },
    maskSecret: secret => core.setSecret(secret),
    log: message => log.debug(message)
  })
}
