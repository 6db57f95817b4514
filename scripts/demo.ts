/**
 * The demo (npm run demo): offline, on loopback, with the real registry and
 * the real cosign. Publishes a few small sample images in different states,
 * writes a sample policy and matrix, runs the bundled action as the runner
 * would, prints the job summary, and says where the report is.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBundledAction } from '../__tests__/helpers/action-runner.js'
import { generateKeyPair, pushImage, retag, signImage } from '../__tests__/helpers/images.js'
import { startRegistry } from '../__tests__/helpers/registry.js'
import { PROJECT_ROOT, toolPath } from '../__tests__/helpers/tools.js'

function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10)
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"' }

/** Markdown made a little easier on a terminal: no HTML tags or entities, no table rules. */
function forTerminal(markdown: string): string {
  return markdown
    .replace(/<\/?(details|summary|br|b|code)\s*\/?>/g, '')
    .replace(/^\|(\s*:?-+:?\s*\|)+\s*$\n/gm, '')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&(amp|lt|gt|quot);/g, (_, name: string) => ENTITIES[name])
    .replace(/\n{3,}/g, '\n\n')
}

async function main(): Promise<number> {
  const registry = await startRegistry()
  const workspace = mkdtempSync(join(tmpdir(), 'rocm-provenance-demo-'))
  try {
    const repo = 'rocm/dev'
    const key = await generateKeyPair('rocm-release')
    mkdirSync(join(workspace, 'ci', 'keys'), { recursive: true })
    copyFileSync(key.publicKey, join(workspace, 'ci', 'keys', 'rocm-release.pub'))

    console.log(`demo: registry on ${registry.url}; publishing sample images…`)
    const signed = await pushImage(registry.host, repo, '6.4.4-ubuntu-22.04')
    await signImage(`${registry.host}/${repo}@${signed}`, key)
    const unsigned = await pushImage(registry.host, repo, '6.4.4-ubuntu-24.04')
    const drifted = await pushImage(registry.host, repo, '6.4.3-ubuntu-22.04')
    await signImage(`${registry.host}/${repo}@${drifted}`, key)
    await retag(
      registry.host,
      repo,
      await pushImage(registry.host, repo, 'rebuilt'),
      '6.4.3-ubuntu-22.04'
    )
    const stale = await pushImage(registry.host, repo, '6.3.2-ubuntu-22.04')
    await signImage(`${registry.host}/${repo}@${stale}`, key)

    writeFileSync(
      join(workspace, 'ci', 'rocm_policy.yml'),
      [
        'policy:',
        '  mode: warn            # strict | warn | auto_update',
        '  digest_ttl: 14',
        '  require_signature: true',
        '  ignore_tlog: true     # the demo signs without a transparency log',
        '  attest_mode: none',
        `  repository: ${registry.host}/${repo}`,
        ''
      ].join('\n')
    )
    const row = (version: string, os: string, digest: string, added: string) => [
      `    - version: "${version}"`,
      `      os: "${os}"`,
      `      digest: "${digest}"`,
      `      added: "${added}"`,
      '      provenance:',
      '        key_path: ci/keys/rocm-release.pub'
    ]
    writeFileSync(
      join(workspace, 'ci', 'rocm_matrix.yml'),
      [
        'rocm:',
        '  images:',
        ...row('6.4.4', 'ubuntu-22.04', signed, daysAgo(1)),
        ...row('6.4.4', 'ubuntu-24.04', unsigned, daysAgo(1)),
        ...row('6.4.3', 'ubuntu-22.04', drifted, daysAgo(3)),
        ...row('6.3.2', 'ubuntu-22.04', stale, daysAgo(40)),
        '  policy:',
        '    default: ["6.4.4", "ubuntu-22.04"]',
        ''
      ].join('\n')
    )

    console.log('demo: running dist/index.js as the runner would (Node 24, INPUT_* variables)…\n')
    const run = await runBundledAction(workspace, {
      'insecure-registries': registry.host,
      'cosign-path': toolPath('cosign'),
      'upload-artifact': 'false'
    })
    console.log(forTerminal(run.summary))
    console.log('outputs:')
    for (const name of ['exit-code', 'decision', 'trust-status', 'image']) {
      console.log(`  ${name}: ${run.outputs[name] ?? ''}`)
    }
    const outDir = join(PROJECT_ROOT, 'demo-output')
    mkdirSync(outDir, { recursive: true })
    const reportPath = join(outDir, 'rocm_provenance.json')
    copyFileSync(join(workspace, 'rocm_provenance.json'), reportPath)
    console.log(`\nreport: ${reportPath}`)
    console.log(
      `the action's step ${run.code === 0 ? 'passed' : `failed (process exit ${run.code})`}`
    )
    return run.outputs['exit-code'] === undefined ? 1 : 0
  } finally {
    await registry.stop()
    rmSync(workspace, { recursive: true, force: true })
  }
}

process.exitCode = await main()
