/**
 * A loopback stand-in for an RFC 3161 Time-Stamp Authority (such as GitHub's
 * timestamp.githubapp.com), for the tests of timestamp-only bundles: it
 * speaks the protocol the real cosign speaks (the @sigstore/mock TSA speaks
 * JSON). `POST` any path with a DER `TimeStampReq`
 * (`application/timestamp-query`) and it answers a DER `TimeStampResp`
 * (`application/timestamp-reply`) whose token is a CMS SignedData over a
 * TSTInfo (the request's message imprint and nonce, `genTime` from its clock),
 * signed by a test TSA key whose certificate has the single extended key usage
 * id-kp-timeStamping, critical (RFC 3161 §2.3), issued by a test root.
 * Built with @peculiar/asn1-tsp, asn1-cms and asn1-x509; keys from node:crypto.
 * Not a TSA: no serial-number uniqueness, no accuracy, no policy of its own.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  id_signedData
} from '@peculiar/asn1-cms'
import { AsnConvert, OctetString } from '@peculiar/asn1-schema'
import {
  MessageImprint,
  PKIStatus,
  PKIStatusInfo,
  TimeStampReq,
  TimeStampResp,
  TimeStampToken,
  TSTInfo,
  id_ct_tstInfo
} from '@peculiar/asn1-tsp'
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_kp_timeStamping
} from '@peculiar/asn1-x509'
import { ObjectIdentifier } from 'asn1js'

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
const SHA256 = '2.16.840.1.101.3.4.2.1'
const CONTENT_TYPE_ATTRIBUTE = '1.2.840.113549.1.9.3'
const MESSAGE_DIGEST_ATTRIBUTE = '1.2.840.113549.1.9.4'
const COMMON_NAME = '2.5.4.3'
/** The policy of the stand-in's timestamps when the request asks none (a test arc). */
const STANDIN_POLICY = '1.3.6.1.4.1.57264.99.1'
const DAY_MS = 24 * 60 * 60 * 1000
/** How far back the clock may be set (the certificates' notBefore). */
const BACKDATE_MS = 30 * DAY_MS

export interface TsaStandin {
  /** The URL cosign's signing config names (any path is served). */
  url: string
  /** PEM file: the TSA certificate then its root, as `cosign trusted-root create --tsa` takes it. */
  chainPath: string
  /** Timestamp requests answered, in order. */
  requests: { genTime: Date }[]
  /** Moves the clock `genTime` is read from by this many ms (0 resets it; at most 30 days back). */
  setClockOffset(ms: number): void
  stop(): Promise<void>
}

function name(commonName: string): Name {
  return new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({
        type: COMMON_NAME,
        value: new AttributeValue({ utf8String: commonName })
      })
    ])
  ])
}

function ecdsaSha256(): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 })
}

/** A certificate for `subjectKey`, issued (signed) by `issuerKey`. */
function certificate(options: {
  subject: string
  issuer: string
  subjectKey: KeyObject
  issuerKey: KeyObject
  serial: number
  ca: boolean
}): Certificate {
  const now = Date.now()
  const extensions = options.ca
    ? [
        new Extension({
          extnID: id_ce_basicConstraints,
          critical: true,
          extnValue: new OctetString(AsnConvert.serialize(new BasicConstraints({ cA: true })))
        }),
        new Extension({
          extnID: id_ce_keyUsage,
          critical: true,
          extnValue: new OctetString(
            AsnConvert.serialize(new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign))
          )
        })
      ]
    : [
        new Extension({
          extnID: id_ce_keyUsage,
          critical: true,
          extnValue: new OctetString(
            AsnConvert.serialize(new KeyUsage(KeyUsageFlags.digitalSignature))
          )
        }),
        new Extension({
          extnID: id_ce_extKeyUsage,
          critical: true,
          extnValue: new OctetString(
            AsnConvert.serialize(new ExtendedKeyUsage([id_kp_timeStamping]))
          )
        })
      ]
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array([options.serial]).buffer,
    signature: ecdsaSha256(),
    issuer: name(options.issuer),
    subject: name(options.subject),
    validity: new Validity({
      notBefore: new Date(now - BACKDATE_MS - DAY_MS),
      notAfter: new Date(now + 365 * DAY_MS)
    }),
    subjectPublicKeyInfo: AsnConvert.parse(
      options.subjectKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo
    ),
    extensions: new Extensions(extensions)
  })
  const signature = sign('sha256', Buffer.from(AsnConvert.serialize(tbs)), options.issuerKey)
  return new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ecdsaSha256(),
    signatureValue: new Uint8Array(signature).buffer
  })
}

function pem(der: ArrayBuffer): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`
}

/** DER `SET OF` (tag 0x31) around already-encoded members, which DER wants sorted. */
function derSet(members: Buffer[]): Buffer {
  const body = Buffer.concat([...members].sort(Buffer.compare))
  const length =
    body.length < 0x80
      ? Buffer.from([body.length])
      : body.length < 0x100
        ? Buffer.from([0x81, body.length])
        : Buffer.from([0x82, body.length >> 8, body.length & 0xff])
  return Buffer.concat([Buffer.from([0x31]), length, body])
}

/**
 * Starts the stand-in on a loopback port; its certificate chain is written
 * to `dir` as `<label>-chain.pem`.
 */
export async function startTsaStandin(dir: string, label = 'tsa'): Promise<TsaStandin> {
  const rootKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const tsaKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const rootName = `${label} stand-in root`
  const root = certificate({
    subject: rootName,
    issuer: rootName,
    subjectKey: rootKey.publicKey,
    issuerKey: rootKey.privateKey,
    serial: 1,
    ca: true
  })
  const leaf = certificate({
    subject: `${label} stand-in timestamping`,
    issuer: rootName,
    subjectKey: tsaKey.publicKey,
    issuerKey: rootKey.privateKey,
    serial: 2,
    ca: false
  })
  const chainPath = join(dir, `${label}-chain.pem`)
  writeFileSync(chainPath, pem(AsnConvert.serialize(leaf)) + pem(AsnConvert.serialize(root)))
  let clockOffsetMs = 0
  let serial = 0
  const requests: { genTime: Date }[] = []

  /** The DER TimeStampResp for a DER TimeStampReq. */
  function answer(query: Buffer): Buffer {
    const request = AsnConvert.parse(query, TimeStampReq)
    // Whole seconds: GeneralizedTime without fractions, as most TSAs write it.
    const genTime = new Date(Math.floor((Date.now() + clockOffsetMs) / 1000) * 1000)
    requests.push({ genTime })
    const tstInfo = new TSTInfo({
      version: 1,
      policy: request.reqPolicy ?? STANDIN_POLICY,
      messageImprint: request.messageImprint,
      serialNumber: new Uint8Array([0x01, ...randomBytes(8), ++serial & 0xff]).buffer,
      genTime,
      ...(request.nonce !== undefined && { nonce: request.nonce })
    })
    const content = Buffer.from(AsnConvert.serialize(tstInfo))
    const attributes = [
      new Attribute({
        attrType: CONTENT_TYPE_ATTRIBUTE,
        attrValues: [new ObjectIdentifier({ value: id_ct_tstInfo }).toBER()]
      }),
      new Attribute({
        attrType: MESSAGE_DIGEST_ATTRIBUTE,
        attrValues: [
          AsnConvert.serialize(new OctetString(createHash('sha256').update(content).digest()))
        ]
      })
    ]
    const encoded = attributes.map(a => Buffer.from(AsnConvert.serialize(a)))
    const sorted = [...encoded].sort(Buffer.compare)
    const signedAttrs = sorted.map(der => AsnConvert.parse(der, Attribute))
    const signature = sign('sha256', derSet(sorted), tsaKey.privateKey)
    const signerInfo = new SignerInfo({
      version: 1,
      sid: new SignerIdentifier({
        issuerAndSerialNumber: new IssuerAndSerialNumber({
          issuer: leaf.tbsCertificate.issuer,
          serialNumber: leaf.tbsCertificate.serialNumber
        })
      }),
      digestAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256 }),
      signedAttrs,
      signatureAlgorithm: ecdsaSha256(),
      signature: new OctetString(signature)
    })
    const signedData = new SignedData({
      version: 3,
      encapContentInfo: new EncapsulatedContentInfo({
        eContentType: id_ct_tstInfo,
        eContent: new EncapsulatedContent({ single: new OctetString(content) })
      }),
      signerInfos: new SignerInfos([signerInfo]),
      ...(request.certReq && {
        certificates: new CertificateSet([new CertificateChoices({ certificate: leaf })])
      })
    })
    signedData.digestAlgorithms.push(new AlgorithmIdentifier({ algorithm: SHA256 }))
    const token = new TimeStampToken({
      contentType: id_signedData,
      content: AsnConvert.serialize(signedData)
    })
    return Buffer.from(
      AsnConvert.serialize(
        new TimeStampResp({
          status: new PKIStatusInfo({ status: PKIStatus.granted }),
          timeStampToken: token
        })
      )
    )
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415, { 'content-type': 'text/plain' }).end('DER timestamp queries only')
        return
      }
      try {
        const body = answer(Buffer.concat(chunks))
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(body)
      } catch (error: unknown) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error))
      }
    })
  })
  await new Promise<void>(resolveListen => server.listen(0, '127.0.0.1', resolveListen))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('TSA stand-in: no port')
  return {
    url: `http://127.0.0.1:${address.port}/api/v1/timestamp`,
    chainPath,
    requests,
    setClockOffset(ms) {
      if (ms < -BACKDATE_MS) throw new Error('TSA stand-in: clock offset before its certificates')
      clockOffsetMs = ms
    },
    stop: () => new Promise(resolveStop => server.close(() => resolveStop()))
  }
}

/**
 * A timestamp of `tsa` over `data` as a Sigstore bundle carries it (base64 of
 * the DER TimeStampResp), asked as cosign asks (SHA-256 imprint, certReq):
 * for tests that put a timestamp of another TSA, or of another time, into a
 * bundle.
 */
export async function timestampOf(tsa: TsaStandin, data: Buffer): Promise<string> {
  const query = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA256 }),
      hashedMessage: new OctetString(createHash('sha256').update(data).digest())
    }),
    certReq: true
  })
  const response = await fetch(tsa.url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: Buffer.from(AsnConvert.serialize(query))
  })
  if (!response.ok) throw new Error(`TSA stand-in answered ${response.status}`)
  return Buffer.from(await response.arrayBuffer()).toString('base64')
}
