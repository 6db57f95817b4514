/** The action's entry point: run, and fail the step on anything thrown. */
import * as core from '@actions/core'
import { log } from './log.js'
import { causeChain } from '../domain/errors.js'
import { runAction } from './main.js'

try {
  await runAction()
} catch (error) {
  core.setOutput('exit-code', '4')
  core.setOutput('decision', 'fail')
  log.setFailed(`rocm-provenance: ${causeChain(error).join(': ')}`)
}
