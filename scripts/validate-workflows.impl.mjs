// Validates action.yml and every workflow file (.github/workflows, examples/workflows)
// against GitHub's own schemas with @actions/workflow-parser, offline. Also
// checks that every `uses: ./` or `uses: clamp/rocm-provenance@…` step passes
// only inputs that action.yml declares.
import { parseWorkflow, NoOperationTraceWriter } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/index'
import { readFileSync, readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { parse as parseYaml } from 'yaml'

const trace = new NoOperationTraceWriter()
let failures = 0

function parse(text) {
  try {
    return parseYaml(text)
  } catch {
    return {} // the schema check above has already reported the syntax error
  }
}

function report(name, result) {
  const errors = result.context.errors.getErrors()
  for (const error of errors) {
    console.error(`${name}: ${error.message}`)
  }
  failures += errors.length
  if (errors.length === 0) console.log(`ok  ${name}`)
}

const actionText = readFileSync('action.yml', 'utf8')
report('action.yml', parseAction({ name: 'action.yml', content: actionText }, trace))
const declared = new Set(Object.keys(parse(actionText).inputs ?? {}))

const folders = ['.github/workflows', 'examples/workflows']
for (const folder of folders) {
  if (!existsSync(folder)) continue
  for (const file of readdirSync(folder)
    .filter(f => /\.ya?ml$/.test(f))
    .sort()) {
    const path = join(folder, file)
    const content = readFileSync(path, 'utf8')
    report(path, parseWorkflow({ name: path, content }, trace))
    for (const [jobName, job] of Object.entries(parse(content).jobs ?? {})) {
      for (const step of job.steps ?? []) {
        if (typeof step.uses !== 'string') continue
        if (step.uses !== './' && !step.uses.startsWith('clamp/rocm-provenance@')) continue
        for (const input of Object.keys(step.with ?? {})) {
          if (!declared.has(input)) {
            console.error(
              `${path}: job ${jobName} passes input '${input}', which action.yml does not declare`
            )
            failures++
          }
        }
      }
    }
  }
}
if (failures > 0) {
  console.error(`${failures} problem(s) in action.yml or workflows`)
  process.exit(1)
}
