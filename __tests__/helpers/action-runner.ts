/**
 * Runs the bundled action (dist/index.js) exactly as the runner does: a Node 24
 * process, inputs as INPUT_* variables, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY
 * files to read the outputs and the job summary back from.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROJECT_ROOT, hermeticEnv, runTool } from './tools.js'

let node24: string | undefined

/** The Node 24 binary GitHub runs `using: node24` actions with (from the npm registry's `node` package). */
export function node24Path(): string {
  node24 ??= execFileSync('npx', ['-y', 'node@24', '-p', 'process.execPath'], {
    encoding: 'utf8',
    timeout: 300_000
  }).trim()
  return node24
}

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Parses the runner's `name<<delimiter` … `delimiter` output file format. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i])
      outputs[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return outputs
}

export async function runBundledAction(
  workspace: string,
  inputs: Record<string, string>,
  env: Record<string, string> = {}
): Promise<ActionRun> {
  const runnerDir = mkdtempSync(join(tmpdir(), 'rp-runner-'))
  const outputPath = join(runnerDir, 'output')
  const summaryPath = join(runnerDir, 'summary.md')
  writeFileSync(outputPath, '')
  writeFileSync(summaryPath, '')
  mkdirSync(join(runnerDir, 'tool-cache'))
  mkdirSync(join(runnerDir, 'temp'))
  const inputEnv: Record<string, string> = {}
  for (const [name, value] of Object.entries(inputs)) {
    inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  const result = await runTool(node24Path(), [join(PROJECT_ROOT, 'dist', 'index.js')], {
    cwd: workspace,
    timeoutMs: 120_000,
    env: hermeticEnv({
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      RUNNER_TEMP: join(runnerDir, 'temp'),
      RUNNER_TOOL_CACHE: join(runnerDir, 'tool-cache'),
      ...inputEnv,
      ...env
    })
  })
  return {
    ...result,
    outputs: parseOutputFile(readFileSync(outputPath, 'utf8')),
    summary: readFileSync(summaryPath, 'utf8')
  }
}
