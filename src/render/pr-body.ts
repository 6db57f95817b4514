/**
 * The pull-request body of an update, pure Markdown: each pin written (old →
 * new digest, trust status, signer, evidence), the evidence of both sides of
 * each changed row (signers that counted, attestation requirements met, the
 * candidate's verified signing time), and each digest refused, with why. Everything that came from a registry or from cosign is escaped: it is
 * text, never markup, links or @-mentions.
 */
import {
  UNNAMED_SIGNER,
  type PinEvidence,
  type RejectedImage,
  type RejectTrigger,
  type UpdatedImage,
  type VerifiedSigningTime
} from '../domain/types.js'
import { codeSpan, escapeMarkdown, oneLine } from './markdown.js'

/** Long cosign messages are cut here: the full text is in the job log. */
const MAX_CELL_LENGTH = 400

/** Why a row was looked at, in words (the pull request and the terminal). */
export const REASON_TEXT: Record<RejectTrigger, string> = {
  'tag-moved': 'tag moved',
  'pin-stale': 'pin older than digest_ttl',
  'not-pinned': 'row was not pinned',
  'new-tag': 'new tag',
  'tag-unreadable': 'tag could not be read'
}

export function renderPrBody(input: {
  matrixPath: string
  updated: readonly UpdatedImage[]
  rejected: readonly RejectedImage[]
}): string {
  const { matrixPath, updated, rejected } = input
  const lines: string[] = [`## ROCm image pins in ${code(matrixPath)}`, '']
  if (updated.length === 0 && rejected.length === 0) {
    lines.push('Every pin is current and within its policy; nothing to change.')
    return lines.join('\n') + '\n'
  }
  lines.push(
    `${count(updated.length, 'pin')} updated to digests that pass the policy; ` +
      `${count(rejected.length, 'digest')} not written.`,
    ''
  )
  if (updated.length > 0) {
    lines.push(
      '### Updated',
      '',
      '| image | why | old → new digest | trust | signer | evidence |',
      '|---|---|---|---|---|---|'
    )
    for (const image of updated) {
      const evidence = [
        image.rekorLogIndex !== undefined ? `Rekor log index ${image.rekorLogIndex}` : undefined,
        image.attestationDigest ? `attestation ${code(image.attestationDigest)}` : undefined
      ].filter((part): part is string => part !== undefined)
      lines.push(
        row([
          code(image.reference),
          REASON_TEXT[image.reason],
          `${image.oldDigest ? code(image.oldDigest) : '—'} → ${code(image.newDigest)}`,
          image.trustStatus,
          image.signer ? code(image.signer) : '—',
          evidence.length > 0 ? evidence.join('<br>') : '—'
        ])
      )
    }
    lines.push('')
    const withEvidence = updated.filter(image => image.evidence !== undefined)
    if (withEvidence.length > 0) lines.push('### Evidence', '')
    for (const image of withEvidence) lines.push(...evidenceTable(image), '')
  }
  if (rejected.length > 0) {
    lines.push(
      '### Not updated (needs a human)',
      '',
      '| image | trigger | pinned → candidate | trust | signer | why not |',
      '|---|---|---|---|---|---|'
    )
    for (const image of rejected) {
      lines.push(
        row([
          code(image.reference),
          REASON_TEXT[image.trigger],
          `${image.oldDigest ? code(image.oldDigest) : '—'} → ${image.newDigest ? code(image.newDigest) : '—'}`,
          image.trustStatus,
          image.signer ? code(image.signer) : '—',
          escapeText(image.reason)
        ])
      )
    }
    lines.push('')
  }
  lines.push(
    '_Written by `rocm-provenance update`: a digest is pinned only after its signature ' +
      'and attestations pass the policy; the evidence is recorded in the row’s `provenance` block._'
  )
  return lines.join('\n') + '\n'
}

/**
 * One changed row's evidence, pin beside candidate: the distinct trusted
 * signers that counted, the attestation requirements met (both judged in
 * this run, src/domain/regression.ts) and the candidate's verified signing
 * time (src/domain/cool-down.ts).
 */
function evidenceTable(image: UpdatedImage): string[] {
  const current = image.oldDigest ? image.evidence?.current : undefined
  const candidate = image.evidence?.candidate
  return [
    `${code(image.reference)}: ${image.oldDigest ? code(image.oldDigest) : '—'} → ${code(image.newDigest)}`,
    '',
    '| | pin | candidate |',
    '|---|---|---|',
    row(['signers', signersCell(current), signersCell(candidate)]),
    row(['attestations', attestationsCell(current), attestationsCell(candidate)]),
    row(['verified signing time', '—', signingTimeCell(image.signedAt)])
  ]
}

function signersCell(evidence: PinEvidence | undefined): string {
  if (!evidence) return '—'
  if (evidence.signers.length === 0) return 'none'
  return evidence.signers
    .map(signer =>
      signer.name === UNNAMED_SIGNER
        ? signer.who
          ? code(signer.who)
          : escapeText(signer.name)
        : `${escapeText(signer.name)}${signer.who ? ` (${code(signer.who)})` : ''}`
    )
    .join('<br>')
}

function attestationsCell(evidence: PinEvidence | undefined): string {
  if (!evidence) return '—'
  if (evidence.attestations.length === 0) return 'none'
  return evidence.attestations
    .map(a => `${escapeText(a.requirement)}${a.signedBy ? ` by ${escapeText(a.signedBy)}` : ''}`)
    .join('<br>')
}

function signingTimeCell(signedAt: VerifiedSigningTime | undefined): string {
  if (!signedAt) return 'not verified'
  const source = signedAt.source === 'tlog' ? 'transparency log' : 'signed timestamp'
  return escapeText(`${signedAt.at} (${source}, ${signedAt.signer})`)
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** Text as text, on one line, cut to a cell's length. */
function escapeText(text: string): string {
  return escapeMarkdown(oneLine(text, MAX_CELL_LENGTH))
}

/** A code span cut to a cell's length. */
function code(text: string): string {
  return codeSpan(text, MAX_CELL_LENGTH)
}
