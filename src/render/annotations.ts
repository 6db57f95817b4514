/**
 * Warnings and errors as workflow annotations, placed on the matrix row's line
 * (the digest's line when the digest or its age is at fault) and, for
 * configuration problems, on the problem's own file and line. Pure: the
 * adapter hands these to `core.error` / `core.warning` / `core.notice`.
 */
import { decisionSteps } from '../domain/decide.js'
import type { SourceLocation } from '../domain/errors.js'
import type { ImageResult, RunResult } from '../domain/types.js'
import { moreLine } from './summary.js'

interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  title?: string
  file?: string
  startLine?: number
  startColumn?: number
}

const TITLE = 'rocm-provenance'

function at(
  location: SourceLocation | undefined
): Pick<Annotation, 'file' | 'startLine' | 'startColumn'> {
  return location
    ? { file: location.file, startLine: location.line, startColumn: location.column }
    : {}
}

function imageAnnotation(image: ImageResult): Annotation | undefined {
  const { findings, decision } = image
  if (decision.code === 0) return undefined
  const raised = decisionSteps(findings).filter(step => step.code > 0)
  const digestAtFault = raised.some(step => step.check === 'digest' || step.check === 'age')
  const row = findings.plan.row
  const location = digestAtFault
    ? (row.digestLocation ?? row.location)
    : (row.location ?? row.digestLocation)
  const downgraded =
    decision.rawCode > decision.code
      ? ` (${findings.plan.policy.mode}: ${decision.rawCode} → ${decision.code})`
      : ''
  return {
    level: decision.code >= 2 ? 'error' : 'warning',
    title: `${TITLE}: ${findings.plan.reference} (exit ${decision.code}, ${decision.trustStatus})`,
    message: `${raised.map(step => step.text).join('; ')}${downgraded}`,
    ...at(location)
  }
}

/**
 * GitHub shows only the first 10 error and 10 warning annotations of a step
 * (50 per job): at most this many per level are emitted, the last of them
 * saying how many more there are (source: GitHub's annotation limits).
 */
export const MAX_ANNOTATIONS_PER_LEVEL = 10

/** Caps each level at MAX_ANNOTATIONS_PER_LEVEL, the last one naming how many were left out. */
function capped(annotations: Annotation[]): Annotation[] {
  const byLevel = new Map<Annotation['level'], Annotation[]>()
  for (const annotation of annotations) {
    const list = byLevel.get(annotation.level)
    if (list) list.push(annotation)
    else byLevel.set(annotation.level, [annotation])
  }
  const kept = new Set<Annotation>()
  const notes: Annotation[] = []
  for (const [level, list] of byLevel) {
    if (list.length <= MAX_ANNOTATIONS_PER_LEVEL) {
      list.forEach(annotation => kept.add(annotation))
      continue
    }
    const shown = list.slice(0, MAX_ANNOTATIONS_PER_LEVEL - 1)
    shown.forEach(annotation => kept.add(annotation))
    notes.push({
      level,
      title: `${TITLE}: ${list.length - shown.length} more`,
      message: moreLine(list.length - shown.length, `${level}s`)
    })
  }
  return [...annotations.filter(annotation => kept.has(annotation)), ...notes]
}

/** The run's annotations, each level capped (the report and summary keep the rest). */
export function annotationsFor(run: RunResult): Annotation[] {
  return capped(allAnnotations(run))
}

function allAnnotations(run: RunResult): Annotation[] {
  const annotations: Annotation[] = run.configIssues.map(issue => ({
    level: 'error',
    title: `${TITLE}: configuration (${issue.code})`,
    message: issue.message,
    ...at(issue.location)
  }))
  for (const warning of run.configWarnings ?? []) {
    annotations.push({
      level: 'warning',
      title: `${TITLE}: configuration (${warning.code})`,
      message: warning.message,
      ...at(warning.location)
    })
  }
  for (const error of run.errors) {
    annotations.push({ level: 'error', title: `${TITLE}: error`, message: error })
  }
  for (const image of run.images) {
    const annotation = imageAnnotation(image)
    if (annotation) annotations.push(annotation)
  }
  return annotations
}
