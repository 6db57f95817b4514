// Loopback stand-ins for Fulcio and Rekor, built on @sigstore/mock (the
// sigstore-js project's own mocks), for the keyless tests. Runs on Node 24
// (`npx -y node@24 cosign-sigstore-standin.mjs <out-dir>`), since the package
// declares Node >= 22. It listens on three loopback ports — Fulcio, a second
// Fulcio whose CA clock is two hours behind (its certificates have expired by
// the time they are logged), and Rekor — writes the public trust material to
// <out-dir>, prints one JSON line with the URLs, and serves until killed.
//
// Adaptations the real cosign needs from these mocks:
// the OIDC token is copied from `Authorization: Bearer` into the body; Fulcio's
// 201 becomes 200; Rekor's answer carries `ETag` (the entry uuid) and `Location`.
//
// A settable clock, for signatures of a chosen age (the updater's
// min_age_days): `POST /clock` on the Rekor port with `{"offsetSeconds": n}`
// moves the time Rekor integrates entries at, Fulcio issues certificates at
// and the CT log stamps SCTs at by n seconds (0 resets it). The Fulcio root
// certificate is valid from ROOT_BACKDATE_MS before start-up, so a log time up
// to then still chains. (The mocks read their time through each object's
// `getCurrentTime`, @sigstore/mock 0.12; checked below so a change fails loudly.)
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import mock from '@sigstore/mock'

const { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } = mock
const outDir = process.argv[2]
const EXPIRED_CLOCK_OFFSET_MS = 2 * 60 * 60 * 1000
/** How far back a signing time may be set (the root certificate's notBefore). */
const ROOT_BACKDATE_MS = 30 * 24 * 60 * 60 * 1000
let clockOffsetMs = 0
const shiftedNow = () => new Date(Date.now() + clockOffsetMs)

/** Runs `make` with `new Date()` and `Date.now()` at `at` (for the root certificate's notBefore). */
async function madeAt(at, make) {
  const RealDate = globalThis.Date
  class FixedDate extends RealDate {
    constructor(...args) {
      super(...(args.length > 0 ? args : [at]))
    }
    static now() {
      return at
    }
  }
  globalThis.Date = FixedDate
  try {
    return await make()
  } finally {
    globalThis.Date = RealDate
  }
}

/** Sets the mock's clock to the shifted one (the mocks keep it as `getCurrentTime`). */
function followClock(mock, asNumber = false) {
  if (typeof mock.getCurrentTime !== 'function') {
    throw new Error('@sigstore/mock no longer reads its time through getCurrentTime')
  }
  mock.getCurrentTime = asNumber ? () => shiftedNow().getTime() : shiftedNow
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' })
const pem = (der, label) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n?$/, '\n')}-----END ${label}-----\n`
const publicPem = key => key.publicKey.export({ type: 'spki', format: 'pem' }).toString()

function listen(handle) {
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', chunk => chunks.push(chunk))
    req.on('end', () => {
      handle(req, Buffer.concat(chunks).toString('utf8'))
        .then(({ status, headers, body }) => {
          res.writeHead(status, headers)
          res.end(body)
        })
        .catch(error => {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(String(error))
        })
    })
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server.address().port)))
}

function fulcio(ca) {
  const handler = fulcioHandler(ca)
  return async (req, body) => {
    if (req.method !== 'POST' || req.url !== handler.path) {
      return { status: 404, headers: {}, body: 'not found' }
    }
    const json = JSON.parse(body)
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    if (bearer) json.credentials = { ...(json.credentials ?? {}), oidcIdentityToken: bearer[1] }
    const answer = await handler.fn(JSON.stringify(json))
    return {
      status: answer.statusCode === 201 ? 200 : answer.statusCode,
      headers: { 'content-type': answer.contentType ?? 'text/plain' },
      body: answer.response
    }
  }
}

const caKey = newKey()
const ctKey = newKey()
const rekorKey = newKey()
const ctlog = await initializeCTLog(ctKey)
followClock(ctlog)
const ca = await madeAt(Date.now() - ROOT_BACKDATE_MS, () => initializeCA(caKey, ctlog))
followClock(ca)
const expiredCa = await initializeCA(caKey, ctlog, new Date(Date.now() - EXPIRED_CLOCK_OFFSET_MS))

const fulcioPort = await listen(fulcio(ca))
const expiredFulcioPort = await listen(fulcio(expiredCa))
let rekorUrl = ''
let rekor
const rekorPort = await listen(async (req, body) => {
  if (req.method === 'POST' && req.url === '/clock') {
    const offsetSeconds = Number(JSON.parse(body).offsetSeconds)
    if (!Number.isFinite(offsetSeconds) || offsetSeconds * 1000 < -ROOT_BACKDATE_MS) {
      return { status: 400, headers: {}, body: 'offsetSeconds out of range' }
    }
    clockOffsetMs = offsetSeconds * 1000
    return { status: 204, headers: {}, body: '' }
  }
  if (req.method !== 'POST' || req.url !== '/api/v1/log/entries') {
    return { status: 404, headers: {}, body: 'not found' }
  }
  const answer = await rekor.fn(body)
  const headers = { 'content-type': answer.contentType ?? 'application/json' }
  if (answer.statusCode === 201) {
    const uuid = Object.keys(JSON.parse(answer.response))[0]
    headers.etag = uuid
    headers.location = `${rekorUrl}/api/v1/log/entries/${uuid}`
  }
  return { status: answer.statusCode, headers, body: answer.response }
})
rekorUrl = `http://127.0.0.1:${rekorPort}`
const tlog = await initializeTLog(rekorUrl, rekorKey)
followClock(tlog, true)
rekor = rekorHandler(tlog)

writeFileSync(join(outDir, 'fulcio-root.pem'), pem(ca.rootCertificate, 'CERTIFICATE'))
writeFileSync(join(outDir, 'ctfe.pub'), publicPem(ctKey))
writeFileSync(join(outDir, 'rekor.pub'), publicPem(rekorKey))
process.stdout.write(
  JSON.stringify({
    fulcioUrl: `http://127.0.0.1:${fulcioPort}`,
    expiredFulcioUrl: `http://127.0.0.1:${expiredFulcioPort}`,
    rekorUrl
  }) + '\n'
)
