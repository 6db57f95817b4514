/**
 * What the user reads: the job summary (GitHub Markdown) and the same facts as
 * plain text for a terminal. Pure. Everything that comes from files or
 * registries is escaped before it reaches Markdown.
 */
import { formatLocation } from '../domain/errors.js'
import { shortDigest, TRUST_ORDER } from '../domain/decide.js'
import { describeSigner } from '../domain/signers.js'
import type { ImageResult, RunResult, TrustStatus } from '../domain/types.js'
import { escapeMarkdown } from './markdown.js'

const TRUST_ICON: Record<TrustStatus, string> = {
  valid: '✅',
  unsigned: '➖',
  invalid: '❌',
  expired: '⌛',
  unknown: '❓'
}

const DECISION_ICON = { pass: '✅', warn: '⚠️', fail: '❌' } as const

function trustCounts(run: RunResult): string {
  const counts = new Map<TrustStatus, number>()
  for (const image of run.images) {
    counts.set(image.decision.trustStatus, (counts.get(image.decision.trustStatus) ?? 0) + 1)
  }
  const parts = [...TRUST_ORDER]
    .reverse()
    .filter(trust => counts.has(trust))
    .map(trust => `${counts.get(trust)} ${trust}`)
  const noun = run.images.length === 1 ? 'image' : 'images'
  return parts.length > 0
    ? `${run.images.length} ${noun}: ${parts.join(', ')}`
    : 'no images checked'
}

function overallLine(run: RunResult): string {
  return `${run.decision.toUpperCase()} (exit ${run.exitCode}), trust ${run.trustStatus} — ${trustCounts(run)}`
}

/**
 * What the run says about itself beyond the images, one line each: its shard,
 * the verification cache, registries that throttled it (not yet escaped).
 */
export function runNotes(run: RunResult): string[] {
  const notes: string[] = []
  if (run.shard) {
    notes.push(
      `shard ${run.shard.index} of ${run.shard.count}: this report lists only this shard's images`
    )
  }
  const cache = run.cache
  if (cache && cache.status !== 'disabled') {
    const counts = `${cache.hits} result${cache.hits === 1 ? '' : 's'} reused, ${cache.saved} saved`
    notes.push(
      cache.status === 'used'
        ? `verification cache: ${counts}${cache.note ? `; ${cache.note}` : ''}`
        : `verification cache unavailable: ${cache.note ?? 'no reason given'}`
    )
  }
  for (const throttle of run.throttles ?? []) {
    notes.push(
      `throttled: ${throttle.registry} asked to slow down ${throttle.responses} time${throttle.responses === 1 ? '' : 's'} from ${throttle.firstAt}; its requests waited ${(throttle.waitedMs / 1000).toFixed(1)} s in all`
    )
  }
  return notes
}

/** The facts of one image as short strings, shared by both renderings (not yet escaped). */
interface ImageCells {
  trust: TrustStatus
  reference: string
  digest: string
  drift: string
  age: string
  signer: string
  logIndex: string
  attestation: string
  code: string
}

/** Longest text a table cell keeps whole; a job summary is about 1,000 px wide. */
const MAX_CELL = 40

/**
 * A long signer (a certificate identity URL, an identity pattern) as its
 * longest tail that starts after a `/` and fits (`…/workflows/release.yml@refs/tags/v6.4.4`):
 * unbroken it would push the other columns out of sight. The whole text is in
 * the image's details.
 */
export function compactCell(text: string): string {
  if (text.length <= MAX_CELL) return text
  // `invalid (<expected signer>)`: keep the outcome, shorten the signer.
  const outcome = /^([a-z][a-z-]*) \((.*)\)$/.exec(text)
  if (outcome) return `${outcome[1]} (${compactCell(outcome[2])})`
  for (let slash = text.indexOf('/'); slash >= 0; slash = text.indexOf('/', slash + 1)) {
    const tail = text.slice(slash + 1)
    if (tail.length > 0 && tail.length <= MAX_CELL - 2) return `…/${tail}`
  }
  return `${text.slice(0, MAX_CELL - 1)}…`
}

/**
 * Text a browser may wrap after each `/` and `@` (a zero-width space):
 * references and identities have no spaces, and an unbroken one widens its
 * column until the last columns scroll out of sight.
 */
export function breakable(text: string): string {
  return text.replace(/([/@])/g, '$1\u200b')
}

/** `2 of 2 (release-2026, images-ci)`: distinct signers counted of those required, and who. */
function signerCount(image: ImageResult): string {
  const { signature } = image.findings
  const counted = (signature.signers ?? []).filter(s => s.counted).map(s => s.name)
  const required = signature.threshold?.required ?? 1
  return `${counted.length} of ${required}${counted.length > 0 ? ` (${counted.join(', ')})` : ''}`
}

function imageCells(image: ImageResult): ImageCells {
  const { findings, decision } = image
  const { digest, age, signature, attestation } = findings
  const drift =
    digest.status === 'drift'
      ? `drift → ${shortDigest(digest.currentDigest)}`
      : digest.status === 'match'
        ? 'none'
        : digest.status
  const ageText =
    age.ageDays !== undefined
      ? `${age.ageDays}/${age.ttlDays} d${age.stale ? ' (stale)' : ''}`
      : `?/${age.ttlDays} d`
  const signer =
    findings.plan.trustModel === 'signers' && signature.threshold
      ? signerCount(image)
      : signature.outcome === 'verified'
        ? (describeSigner(signature, { shorten: shortDigest }) ?? 'verified')
        : signature.outcome === 'skipped'
          ? '—'
          : `${signature.outcome}${signature.expected ? ` (${signature.expected})` : ''}`
  const cached = findings.cache?.status === 'hit' ? ` (cached ${findings.cache.judgedAt})` : ''
  return {
    trust: decision.trustStatus,
    reference: findings.plan.reference,
    digest: shortDigest(digest.pinnedDigest),
    drift,
    age: ageText,
    signer: `${signer}${cached}`,
    logIndex: signature.rekorLogIndex !== undefined ? String(signature.rekorLogIndex) : '—',
    attestation:
      attestation.mode === 'none'
        ? '—'
        : findings.requirements
          ? `${attestation.mode}: ${findings.requirements.filter(r => r.result === 'met').length} of ${findings.requirements.length} met`
          : `${attestation.mode}: ${attestation.outcome}`,
    code: String(decision.code)
  }
}

export function renderJobSummary(run: RunResult): string {
  const lines: string[] = [
    '## ROCm image provenance',
    '',
    `${DECISION_ICON[run.decision]} **${escapeMarkdown(overallLine(run))}**`,
    ''
  ]
  const notes = runNotes(run)
  if (notes.length > 0) lines.push(...notes.map(note => `- ${escapeMarkdown(note)}`), '')
  if (run.configIssues.length > 0) {
    lines.push('**Configuration problems** (exit 4):', '')
    for (const issue of run.configIssues) {
      const where = formatLocation(issue.location)
      lines.push(
        `- ${where ? `<code>${escapeMarkdown(where)}</code>: ` : ''}${escapeMarkdown(issue.message)}`
      )
    }
    lines.push('')
  }
  if ((run.configWarnings ?? []).length > 0) {
    lines.push('**Configuration warnings**:', '')
    for (const warning of run.configWarnings ?? []) {
      const where = formatLocation(warning.location)
      lines.push(
        `- ${where ? `<code>${escapeMarkdown(where)}</code>: ` : ''}${escapeMarkdown(warning.message)}`
      )
    }
    lines.push('')
  }
  if (run.errors.length > 0) {
    lines.push('**Errors**:', '', ...run.errors.map(error => `- ${escapeMarkdown(error)}`), '')
  }
  if (run.images.length > 0) {
    // At most six columns: a job summary is about 1,000 px wide; the log
    // index and each signer and requirement are in the image's details.
    lines.push(
      '| status | image | pin (drift, age/TTL) | signers | attestations | code |',
      '|---|---|---|---|---|---|'
    )
    for (const image of run.images) {
      const c = imageCells(image)
      const drift = c.drift === 'none' ? '' : `, ${escapeMarkdown(c.drift)}`
      const cells = [
        `${TRUST_ICON[c.trust]} ${c.trust}`,
        breakable(escapeMarkdown(c.reference)),
        `<code>${escapeMarkdown(c.digest)}</code>${drift}, ${escapeMarkdown(c.age)}`,
        breakable(escapeMarkdown(compactCell(c.signer))),
        escapeMarkdown(c.attestation),
        c.code
      ]
      lines.push(`| ${cells.join(' | ')} |`)
    }
    lines.push('')
    for (const image of run.images) {
      const { decision, findings } = image
      const c = imageCells(image)
      lines.push(
        '<details>',
        `<summary>${escapeMarkdown(findings.plan.reference)}: exit ${decision.code}, ${decision.trustStatus}</summary>`,
        '',
        ...(compactCell(c.signer) !== c.signer ? [`Signer: ${escapeMarkdown(c.signer)}`, ''] : []),
        ...(c.logIndex !== '—' ? [`Rekor log index ${escapeMarkdown(c.logIndex)}`, ''] : []),
        ...decision.path.map((step, i) => `${i + 1}. ${escapeMarkdown(step)}`),
        '',
        `<code>${escapeMarkdown(decision.policyDecision)}</code>`,
        ...findings.errors.map(error => `- error: ${escapeMarkdown(error)}`),
        ...(findings.cache?.status === 'ignored'
          ? [`- cache: entry not used — ${escapeMarkdown(findings.cache.reason)}`]
          : []),
        '',
        '</details>',
        ''
      )
    }
  }
  return `${lines.join('\n').trimEnd()}\n`
}

/** Flattens text that came from outside so it cannot break the layout or send terminal controls. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
}

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => row[column].length)))
  return rows.map(row =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd()
  )
}

export function renderTextSummary(run: RunResult): string {
  const lines = [`rocm-provenance: ${overallLine(run)}`]
  for (const issue of run.configIssues) {
    const where = formatLocation(issue.location)
    lines.push(`  config: ${plain(where ? `${where}: ${issue.message}` : issue.message)}`)
  }
  for (const warning of run.configWarnings ?? []) {
    const where = formatLocation(warning.location)
    lines.push(
      `  config warning: ${plain(where ? `${where}: ${warning.message}` : warning.message)}`
    )
  }
  for (const error of run.errors) lines.push(`  error: ${plain(error)}`)
  for (const note of runNotes(run)) lines.push(`  note: ${plain(note)}`)
  if (run.images.length > 0) {
    const header = [
      'STATUS',
      'IMAGE',
      'DIGEST',
      'DRIFT',
      'AGE/TTL',
      'SIGNER',
      'LOG',
      'ATTESTATION',
      'CODE'
    ]
    const rows = run.images.map(image => {
      const c = imageCells(image)
      return [
        c.trust,
        c.reference,
        c.digest,
        c.drift,
        c.age,
        c.signer,
        c.logIndex,
        c.attestation,
        c.code
      ].map(plain)
    })
    lines.push('', ...pad([header, ...rows]))
    for (const image of run.images) {
      lines.push('', `${plain(image.findings.plan.reference)} (${image.decision.policyDecision}):`)
      lines.push(...image.decision.path.map((step, i) => `  ${i + 1}. ${plain(step)}`))
      lines.push(...image.findings.errors.map(error => `  error: ${plain(error)}`))
      if (image.findings.cache?.status === 'ignored')
        lines.push(`  cache: entry not used — ${plain(image.findings.cache.reason)}`)
    }
  }
  return `${lines.join('\n')}\n`
}
