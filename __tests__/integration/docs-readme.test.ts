/**
 * The documentation stays true to the code: the README's input and output
 * tables match action.yml, its CLI section names only commands and options
 * the CLI has (and every command it has), its policy-key table matches the
 * policy schema, and the examples and YAML snippets pass the same validation
 * the action runs.
 */
import { describe, expect, it } from '@jest/globals'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { main } from '../../src/cli/commands.js'
import { loadConfig, validateConfigFiles } from '../../src/adapters/fs/config-load.js'
import { PROJECT_ROOT } from '../helpers/tools.js'

const README = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8')
const DOCS = [
  'README.md',
  'docs/provenance_overview.md',
  'docs/Clamp_Integrity_v4_Spec.md',
  'docs/migrating-from-python-verifier.md',
  'CONTRIBUTING.md'
]
const EXAMPLES = join(PROJECT_ROOT, 'examples')
const EXAMPLE_KEY = join(EXAMPLES, 'ci', 'provenance_keys', 'rocm-stable.pub')

interface ActionMetadata {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
}

const action = parseYaml(readFileSync(join(PROJECT_ROOT, 'action.yml'), 'utf8')) as ActionMetadata

/** The text of a `## heading` section, up to the next heading of the same level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n')
  const start = lines.findIndex(line => line.trim() === `## ${heading}`)
  if (start === -1) throw new Error(`README.md has no "## ${heading}" section`)
  const end = lines.findIndex((line, i) => i > start && /^## /.test(line))
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n')
}

/** The rows of the first Markdown table in `text`, as cells (header and rule dropped). */
function firstTable(text: string): string[][] {
  const lines = text.split('\n')
  const start = lines.findIndex(line => line.startsWith('|'))
  if (start === -1) return []
  const rows: string[][] = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map(cell => cell.trim())
    )
  }
  return rows
}

/** `` `name` `` → `name`; the README writes an empty default as `(empty)`. */
function cellValue(cell: string): string {
  if (cell === '(empty)') return ''
  return cell.replace(/^`(.*)`$/, '$1')
}

/** Fenced code blocks of one language in a Markdown document. */
function fencedBlocks(markdown: string, language: string): string[] {
  const pattern = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm')
  return [...markdown.matchAll(pattern)].map(match => match[1])
}

async function captureStdout(run: () => Promise<number>): Promise<string> {
  const chunks: string[] = []
  const original = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    chunks.push(String(chunk))
    return true
  }) as typeof process.stdout.write
  try {
    await run()
  } finally {
    process.stdout.write = original
  }
  return chunks.join('')
}

describe('README inputs and outputs', () => {
  it('lists every input of action.yml, with its default, and no other', () => {
    const rows = firstTable(section(README, 'Inputs'))
    const documented = Object.fromEntries(rows.map(([name, value]) => [cellValue(name), value]))
    expect(Object.keys(documented).sort()).toEqual(Object.keys(action.inputs).sort())
    for (const [name, input] of Object.entries(action.inputs)) {
      expect({ name, default: cellValue(documented[name]) }).toEqual({
        name,
        default: String(input.default ?? '')
      })
    }
  })

  it('lists every output of action.yml and no other', () => {
    const rows = firstTable(section(README, 'Outputs'))
    expect(rows.map(([name]) => cellValue(name)).sort()).toEqual(Object.keys(action.outputs).sort())
  })
})

describe('README command line', () => {
  it('names exactly the commands the CLI has, and only options it takes', async () => {
    const usage = await captureStdout(() => main(['--help']))
    const cliCommands = new Set(
      [...usage.matchAll(/^ {2}rocm-provenance (\w+)/gm)].map(match => match[1])
    )
    expect(cliCommands.size).toBeGreaterThanOrEqual(5)

    const cli = section(README, 'Command line')
    const named = new Set(
      [...cli.matchAll(/(?:rocm-provenance|cli\.js)\s+(-{0,2}[\w-]+)/g)]
        .map(match => match[1])
        .filter(word => !word.startsWith('-'))
    )
    expect([...named].sort()).toEqual([...cliCommands].sort())

    const cliOptions = new Set([...usage.matchAll(/(--[a-z][\w-]*)/g)].map(match => match[1]))
    cliOptions.add('--help').add('--version')
    const documentedOptions = [...cli.matchAll(/(?<![\w-])(--[a-z][\w-]*)/g)].map(m => m[1])
    expect(documentedOptions.length).toBeGreaterThan(0)
    expect(documentedOptions.filter(option => !cliOptions.has(option))).toEqual([])
  })
})

describe('README policy keys', () => {
  it('lists every key of the policy schema and no other', () => {
    const schema = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'schemas', 'policy.schema.json'), 'utf8')
    ) as { properties: { policy: { properties: Record<string, unknown> } } }
    const rows = firstTable(section(README, 'Policy'))
    expect(rows.map(([key]) => cellValue(key)).sort()).toEqual(
      Object.keys(schema.properties.policy.properties).sort()
    )
  })
})

describe('examples', () => {
  it('the example policy and matrix pass validation', async () => {
    const checked = await validateConfigFiles({
      policyPath: 'ci/rocm_policy.yml',
      matrixPath: 'ci/rocm_matrix.yml',
      workspace: EXAMPLES
    })
    // No warning either: the examples are what people copy.
    expect(checked).toEqual({ issues: [], warnings: [] })
  })

  it('the example policy with signers, a threshold and an SLSA where condition passes validation', async () => {
    const policyPath = 'ci/rocm_policy_signers.yml'
    const checked = await validateConfigFiles({
      policyPath,
      matrixPath: 'ci/rocm_matrix.yml',
      workspace: EXAMPLES
    })
    expect(checked).toEqual({ issues: [], warnings: [] })
    const config = await loadConfig({
      policyPath,
      matrixPath: 'ci/rocm_matrix.yml',
      workspace: EXAMPLES
    })
    expect(config.policy.threshold).toBeGreaterThan(1)
    expect(config.policy.attestations?.some(a => a.where.length > 0)).toBe(true)
  })

  it('a broken example would be caught', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'rp-docs-'))
    try {
      mkdirSync(join(workspace, 'ci'))
      copyFileSync(join(EXAMPLES, 'ci', 'rocm_matrix.yml'), join(workspace, 'ci', 'm.yml'))
      writeFileSync(join(workspace, 'ci', 'p.yml'), 'policy:\n  mode: stict\n')
      const { issues } = await validateConfigFiles({
        policyPath: 'ci/p.yml',
        matrixPath: 'ci/m.yml',
        workspace
      })
      // The matrix's key file is missing here, and the mode is misspelt.
      expect(issues.map(issue => issue.code)).toEqual(expect.arrayContaining(['bad-file']))
      expect(issues.some(issue => issue.location?.file === 'ci/p.yml')).toBe(true)
    } finally {
      rmSync(workspace, { recursive: true, force: true })
    }
  })
})

describe('YAML snippets in the docs', () => {
  const snippets = DOCS.flatMap(file =>
    fencedBlocks(readFileSync(join(PROJECT_ROOT, file), 'utf8'), 'yaml').map(text => ({
      file,
      text
    }))
  )

  it('every snippet is a policy, a matrix or a workflow', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(4)
    for (const { file, text } of snippets) {
      const data = parseYaml(text) as Record<string, unknown>
      const kind =
        'policy' in data ? 'policy' : 'rocm' in data ? 'matrix' : 'jobs' in data ? 'workflow' : '?'
      expect({ file, text, kind }).toEqual({
        file,
        text,
        kind: expect.stringMatching(/^(policy|matrix|workflow)$/)
      })
    }
  })

  it('policy and matrix snippets pass validation', async () => {
    for (const { file, text } of snippets) {
      const data = parseYaml(text) as Record<string, unknown>
      if (!('policy' in data) && !('rocm' in data)) continue
      const workspace = mkdtempSync(join(tmpdir(), 'rp-docs-'))
      try {
        mkdirSync(join(workspace, 'ci'))
        const isPolicy = 'policy' in data
        writeFileSync(join(workspace, 'ci', 'snippet.yml'), text)
        copyFileSync(
          join(EXAMPLES, 'ci', isPolicy ? 'rocm_matrix.yml' : 'rocm_policy.yml'),
          join(workspace, 'ci', 'other.yml')
        )
        // Every key file a snippet (or the example matrix) names exists, as in a real repository
        const matrixText = isPolicy
          ? readFileSync(join(EXAMPLES, 'ci', 'rocm_matrix.yml'), 'utf8')
          : text
        // (a policy snippet's named signers name key files too).
        const named = isPolicy ? `${matrixText}\n${text}` : matrixText
        for (const match of named.matchAll(/(?:key_path|expected_key):\s*['"]?([^'"\s#]+)/g)) {
          mkdirSync(join(workspace, dirname(match[1])), { recursive: true })
          copyFileSync(EXAMPLE_KEY, join(workspace, match[1]))
        }
        const checked = await validateConfigFiles({
          policyPath: isPolicy ? 'ci/snippet.yml' : 'ci/other.yml',
          matrixPath: isPolicy ? 'ci/other.yml' : 'ci/snippet.yml',
          workspace
        })
        // A snippet is paired with the example's other file, not its own: an
        // override it shows need not match the example matrix's rows.
        const warnings = checked.warnings.filter(w => w.code !== 'unused-override')
        expect({ file, text, checked: { ...checked, warnings } }).toEqual({
          file,
          text,
          checked: { issues: [], warnings: [] }
        })
      } finally {
        rmSync(workspace, { recursive: true, force: true })
      }
    }
  })

  it('workflow snippets pass only inputs action.yml declares', () => {
    let steps = 0
    for (const { file, text } of snippets) {
      const data = parseYaml(text) as {
        jobs?: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>
      }
      for (const job of Object.values(data.jobs ?? {})) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith('clamp/rocm-provenance@')) continue
          steps += 1
          const undeclared = Object.keys(step.with ?? {}).filter(input => !(input in action.inputs))
          expect({ file, undeclared }).toEqual({ file, undeclared: [] })
        }
      }
    }
    expect(steps).toBeGreaterThan(0)
  })
})

describe('links between the docs', () => {
  it('every relative link points at a file or folder that exists', () => {
    const broken: { file: string; target: string }[] = []
    for (const file of DOCS) {
      const text = readFileSync(join(PROJECT_ROOT, file), 'utf8')
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1].split('#')[0]
        if (target === '' || /^[a-z]+:/.test(target)) continue
        if (!existsSync(join(PROJECT_ROOT, dirname(file), target))) broken.push({ file, target })
      }
    }
    expect(broken).toEqual([])
  })

  it('the README links the migration guide from the quick start', () => {
    expect(section(README, 'Quick start')).toContain('(docs/migrating-from-python-verifier.md)')
  })
})
