'use strict';
// nodeinmem: an in-memory Dockyard driver as a plugin for Node.js, written from docs/abi.md
// alone ("gRPC binding" for this file, the frames for abi.js). It is bundled into one file
// with its npm dependencies (internal/artifactbuild.BuildNode) and run by the interpreter its
// manifest names: {"transport": "plugin", "interpreter": "/usr/bin/node", ...}.

const crypto = require('crypto');
const os = require('os');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const forge = require('node-forge');
const { Session } = require('./abi');

const COOKIE_KEY = 'DOCKYARD_PLUGIN';
const COOKIE_VALUE = '8f3c1e2a-dockyard-driver';
const PROTOCOL = 2; // Dockyard's plugin protocol: messages end with an 8-byte sequence number
const SEQ = 8;
const MAX_MESSAGE = 64 * 1024 * 1024 + 4096;

const levels = { debug: 0, info: 1, warn: 2, error: 3 };
const minLevel = levels[process.env.DOCKYARD_PLUGIN_LOG_LEVEL] ?? levels.info;

// log writes one record as the host parses it: a JSON line on stderr with "@level",
// "@message", "@timestamp" and the attributes.
function log(level, message, attrs = {}) {
  if (levels[level] < minLevel) return;
  const ts = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  process.stderr.write(JSON.stringify({ '@level': level, '@message': message, '@timestamp': ts, ...attrs }) + '\n');
}

// BytesValue (google.protobuf.BytesValue) is field 1, wire type 2: tag 0x0a, a varint length,
// the bytes. An empty value is an empty message.
function encodeBytesValue(value) {
  if (value.length === 0) return Buffer.alloc(0);
  const head = [0x0a];
  for (let n = value.length; ; n = Math.floor(n / 128)) {
    if (n < 128) { head.push(n); break; }
    head.push((n % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from(head), value]);
}

function decodeBytesValue(msg) {
  let off = 0, value = Buffer.alloc(0);
  const varint = () => {
    let v = 0, mul = 1;
    for (;;) {
      if (off >= msg.length) throw new Error('BytesValue: varint cut short');
      const b = msg[off++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (off < msg.length) {
    const tag = varint();
    switch (tag & 7) {
      case 0: varint(); break;
      case 1: off += 8; break;
      case 5: off += 4; break;
      case 2: {
        const n = varint();
        if (off + n > msg.length) throw new Error('BytesValue: field cut short');
        if (tag >>> 3 === 1) value = msg.subarray(off, off + n);
        off += n;
        break;
      }
      default: throw new Error(`BytesValue: wire type ${tag & 7}`);
    }
  }
  return value;
}

const identity = (b) => b;
const driverService = {
  Frames: {
    path: '/dockyard.plugin.v1.Driver/Frames', requestStream: true, responseStream: true,
    requestSerialize: encodeBytesValue, requestDeserialize: decodeBytesValue,
    responseSerialize: encodeBytesValue, responseDeserialize: decodeBytesValue,
  },
};
const controllerService = { // go-plugin's: the host asks the plugin to exit
  Shutdown: {
    path: '/plugin.GRPCController/Shutdown', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};

// frames serves one ABI session: one answer per request, ending with the request's number.
function frames(call) {
  const session = new Session();
  call.on('data', (msg) => {
    if (msg.length < SEQ) {
      log('error', 'a request without its sequence number', { bytes: msg.length });
      call.destroy(new Error('request without a sequence number'));
      return;
    }
    const resp = session.handle(msg.subarray(0, msg.length - SEQ));
    call.write(Buffer.concat([resp, msg.subarray(msg.length - SEQ)]));
  });
  call.on('end', () => { session.close(); call.end(); });
  call.on('error', () => session.close());
  call.on('cancelled', () => session.close());
}

// serverCert makes the plugin's TLS certificate for AutoMTLS: self-signed, valid for
// "localhost", for server authentication. Node's crypto makes the key but cannot make an
// X.509 certificate; node-forge signs it.
function serverCert() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' });
  const key = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '01' + crypto.randomBytes(16).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 30000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const name = [{ name: 'commonName', value: 'localhost' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
  ]);
  cert.sign(key, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { keyPem: Buffer.from(keyPem), certPem: Buffer.from(forge.pki.certificateToPem(cert)), der };
}

function main() {
  if (process.env[COOKIE_KEY] !== COOKIE_VALUE) {
    process.stderr.write('This binary is a plugin. These are not meant to be executed directly.\n' +
      'Please execute the program that consumes these plugins, which will load any plugins automatically.\n');
    process.exit(1);
  }
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS || '').split(',');
  if (!offered.includes(String(PROTOCOL))) {
    log('error', 'the host offers no plugin protocol this plugin speaks', { offered: offered.join(','), speaks: PROTOCOL });
  }
  let creds = grpc.ServerCredentials.createInsecure(), certField = '';
  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  if (clientCert) { // AutoMTLS: present our certificate, require the host's
    const c = serverCert();
    creds = grpc.ServerCredentials.createSsl(Buffer.from(clientCert), [{ private_key: c.keyPem, cert_chain: c.certPem }], true);
    certField = c.der.toString('base64').replace(/=+$/, ''); // base64 without padding
  }
  const dir = process.env.PLUGIN_UNIX_SOCKET_DIR || process.env.TMPDIR || os.tmpdir();
  const socket = path.join(dir, 'plugin' + crypto.randomBytes(6).toString('hex'));
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE, 'grpc.max_send_message_length': MAX_MESSAGE });
  server.addService(driverService, { Frames: frames });
  server.addService(controllerService, {
    Shutdown: (_call, done) => {
      done(null, Buffer.alloc(0));
      setImmediate(() => { server.forceShutdown(); process.exit(0); });
    },
  });
  server.bindAsync('unix:' + socket, creds, (err) => {
    if (err) {
      log('error', 'cannot listen', { socket, error: String(err) });
      process.exit(1);
    }
    process.stdout.write(`1|${PROTOCOL}|unix|${socket}|grpc|${certField}\n`);
  });
  // The host's death SIGKILLs the plugin on Linux; elsewhere it is seen as a new parent.
  const ppid = process.ppid;
  setInterval(() => { if (process.ppid !== ppid) process.exit(3); }, 500).unref();
}

main();
