/**
 * The action's log: `@actions/core`'s functions with every message passed
 * through the one terminal-safe escaping (`terminalSafe`) first, since
 * messages carry text from files, registries and cosign. `core.info` writes
 * raw to stdout, where a line starting with `::` is a workflow command.
 */
import * as core from '@actions/core'
import { terminalSafe } from '../domain/reference.js'

export const log = {
  info: (message: string): void => core.info(terminalSafe(message)),
  debug: (message: string): void => core.debug(terminalSafe(message)),
  notice: (message: string, properties?: core.AnnotationProperties): void =>
    core.notice(terminalSafe(message), properties),
  warning: (message: string, properties?: core.AnnotationProperties): void =>
    core.warning(terminalSafe(message), properties),
  error: (message: string, properties?: core.AnnotationProperties): void =>
    core.error(terminalSafe(message), properties),
  setFailed: (message: string): void => core.setFailed(terminalSafe(message))
}
