import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { artifactUrl, uploadReportArtifact } from '../../src/adapters/github/artifact.js'
import { ProvenanceError } from '../../src/domain/errors.js'
import { buildReport } from '../../src/render/report.js'
import { writeReportFile } from '../../src/adapters/fs/report-file.js'
import {
  fakeRuntimeToken,
  readZip,
  startArtifactStandin,
  STANDIN_ARTIFACT_ID,
  type ArtifactStandin
} from '../helpers/artifact-standin.js'
import { CURRENT, makeImage, makeRun } from '../helpers/run-fixtures.js'

const ENV_KEYS = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_RESULTS_URL',
  'GITHUB_SERVER_URL',
  'GITHUB_REPOSITORY',
  'GITHUB_RUN_ID',
  'NO_PROXY',
  'no_proxy'
] as const

describe('uploadReportArtifact through the real @actions/artifact', () => {
  let standin: ArtifactStandin
  let saved: Record<string, string | undefined>
  let reportPath: string

  beforeAll(async () => {
    standin = await startArtifactStandin()
    const folder = mkdtempSync(join(tmpdir(), 'rp-artifact-'))
    reportPath = join(folder, 'rocm_provenance.json')
    const run = makeRun([makeImage({ digest: { status: 'drift', currentDigest: CURRENT } })])
    await writeReportFile(
      reportPath,
      buildReport(run, { actionVersion: '4.0.0', policyPath: 'p.yml', matrixPath: 'm.yml' })
    )
  })
  afterAll(async () => {
    await standin.stop()
  })
  beforeEach(() => {
    saved = Object.fromEntries(ENV_KEYS.map(key => [key, process.env[key]]))
    Object.assign(process.env, {
      ACTIONS_RUNTIME_TOKEN: fakeRuntimeToken('run-backend-1', 'job-backend-2'),
      ACTIONS_RESULTS_URL: `${standin.url}/`,
      // Data only: never contacted. github.com keeps the library out of its GHES refusal.
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'example/rocm-app',
      GITHUB_RUN_ID: '42',
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost'
    })
    standin.calls.length = 0
    standin.blobs.clear()
    standin.failCreateWith = undefined
  })
  afterEach(() => {
    for (const key of ENV_KEYS) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  })

  it('uploads the report as a zip holding exactly its bytes and returns the artifact id and URL', async () => {
    const result = await uploadReportArtifact(reportPath, 'rocm-provenance')
    expect(result).toEqual({
      id: STANDIN_ARTIFACT_ID,
      url: `https://github.com/example/rocm-app/actions/runs/42/artifacts/${STANDIN_ARTIFACT_ID}`
    })
    expect(standin.calls.map(call => call.method)).toEqual(['CreateArtifact', 'FinalizeArtifact'])
    const [create, finalize] = standin.calls
    expect(create.body).toMatchObject({
      workflow_run_backend_id: 'run-backend-1',
      workflow_job_run_backend_id: 'job-backend-2',
      name: 'rocm-provenance',
      version: 7
    })
    expect(create.authorization).toBe(`Bearer ${process.env.ACTIONS_RUNTIME_TOKEN}`)

    expect([...standin.blobs.keys()]).toEqual([
      '/devstoreaccount1/actions-results/run-backend-1/rocm-provenance.zip'
    ])
    const zip = [...standin.blobs.values()][0]
    expect(finalize.body).toMatchObject({
      name: 'rocm-provenance',
      size: String(zip.length),
      hash: `sha256:${createHash('sha256').update(zip).digest('hex')}`
    })
    const files = readZip(zip)
    expect([...files.keys()]).toEqual(['rocm_provenance.json'])
    expect(files.get('rocm_provenance.json')?.equals(readFileSync(reportPath))).toBe(true)
  })

  it('throws ARTIFACT_UPLOAD_FAILED naming the artifact when the service refuses', async () => {
    standin.failCreateWith = {
      status: 409,
      code: 'already_exists',
      msg: 'an artifact with this name already exists'
    }
    const failure = uploadReportArtifact(reportPath, 'rocm-provenance')
    await expect(failure).rejects.toBeInstanceOf(ProvenanceError)
    await expect(failure).rejects.toMatchObject({
      code: 'ARTIFACT_UPLOAD_FAILED',
      message: expect.stringMatching(/artifact "rocm-provenance": .*CreateArtifact.*409/)
    })
    expect(standin.blobs.size).toBe(0)
  })

  it('throws ARTIFACT_UPLOAD_FAILED outside Actions (no runtime token)', async () => {
    delete process.env.ACTIONS_RUNTIME_TOKEN
    await expect(uploadReportArtifact(reportPath, 'rocm-provenance')).rejects.toMatchObject({
      code: 'ARTIFACT_UPLOAD_FAILED'
    })
    expect(standin.calls).toEqual([])
  })
})

describe('artifactUrl', () => {
  it('needs the server, repository, run id and artifact id', () => {
    const env = {
      GITHUB_SERVER_URL: 'https://ghe.example.com/',
      GITHUB_REPOSITORY: 'o/r',
      GITHUB_RUN_ID: '7'
    }
    expect(artifactUrl(9, env)).toBe('https://ghe.example.com/o/r/actions/runs/7/artifacts/9')
    expect(artifactUrl(undefined, env)).toBeUndefined()
    expect(artifactUrl(9, { ...env, GITHUB_RUN_ID: undefined })).toBeUndefined()
  })
})
