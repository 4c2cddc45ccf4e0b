'use strict';
// Drives OpenPGP.js for OpenPgpJsInteropTest. Usage:
//   node interop.cjs MODULE_DIR gen v4|v6|v6-seipdv1 EMAIL SECRET_OUT CERT_OUT
//   node interop.cjs MODULE_DIR encrypt RECIPIENT_CERT SIGNER_KEY PLAIN_IN MESSAGE_OUT [wildcard]
//   node interop.cjs MODULE_DIR decrypt SECRET_KEY SIGNER_CERT MESSAGE_IN PLAIN_OUT
// MODULE_DIR is the npm prefix where openpgp is installed. Keys are armored and unprotected; messages binary.
// Prints one JSON line on stdout describing what was done (packet versions, signature results).
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const [moduleDir, op, ...args] = process.argv.slice(2);
const openpgp = createRequire(path.join(path.resolve(moduleDir), 'package.json'))('openpgp');

// what the packets of a message are: tag name and version, so the test can see SEIPDv1 against SEIPDv2
function packets(message) {
  return message.packets.map(p => {
    const d = { tag: openpgp.enums.read(openpgp.enums.packet, p.constructor.tag), version: p.version };
    if (p.aeadAlgorithm) {
      d.cipher = openpgp.enums.read(openpgp.enums.symmetric, p.cipherAlgorithm);
      d.aead = openpgp.enums.read(openpgp.enums.aead, p.aeadAlgorithm);
    }
    return d;
  });
}

async function gen(version, email, secretOut, certOut) {
  const { privateKey, publicKey } = await openpgp.generateKey({
    userIDs: [{ email }],
    // an encryption subkey and a separate signing subkey (with its back-signature)
    subkeys: [{}, { sign: true }],
    format: 'armored',
    // v6: RFC 9580 key announcing SEIPDv2 (OpenPGP.js sets that Features bit only with aeadProtect);
    // v6-seipdv1: the same without that bit, as OpenPGP.js generates by default; v4: legacy EdDSA/ECDH
    config: { v6Keys: version !== 'v4', aeadProtect: version === 'v6' }
  });
  fs.writeFileSync(secretOut, privateKey);
  fs.writeFileSync(certOut, publicKey);
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { fingerprint: key.getFingerprint().toUpperCase(), version: key.keyPacket.version };
}

async function encrypt(certFile, signerFile, plainIn, messageOut, mode) {
  const recipient = await openpgp.readKey({ armoredKey: fs.readFileSync(certFile, 'utf8') });
  const signer = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(signerFile, 'utf8') });
  const message = await openpgp.createMessage({ binary: new Uint8Array(fs.readFileSync(plainIn)) });
  const encrypted = await openpgp.encrypt({
    message, encryptionKeys: recipient, signingKeys: signer, format: 'binary',
    // anonymous recipient: key ID / fingerprint left out of the PKESK (RFC 9580 §5.1)
    wildcard: mode === 'wildcard'
  });
  fs.writeFileSync(messageOut, encrypted);
  const parsed = await openpgp.readMessage({ binaryMessage: encrypted });
  return { packets: packets(parsed) };
}

async function decrypt(secretFile, signerCertFile, messageIn, plainOut) {
  const key = await openpgp.readPrivateKey({ armoredKey: fs.readFileSync(secretFile, 'utf8') });
  const signer = await openpgp.readKey({ armoredKey: fs.readFileSync(signerCertFile, 'utf8') });
  const message = await openpgp.readMessage({ binaryMessage: new Uint8Array(fs.readFileSync(messageIn)) });
  const outer = packets(message);
  const { data, signatures } = await openpgp.decrypt({
    message, decryptionKeys: key, verificationKeys: signer, format: 'binary'
  });
  fs.writeFileSync(plainOut, data);
  const sigs = [];
  for (const s of signatures) {
    let valid = false;
    let error = null;
    try {
      valid = (await s.verified) === true;
    } catch (e) {
      error = String(e && e.message || e);
    }
    sigs.push({ keyID: s.keyID.toHex().toUpperCase(), valid, error });
  }
  return { packets: outer, signatures: sigs };
}

const ops = { gen, encrypt, decrypt };
if (!ops[op]) {
  console.error('unknown operation: ' + op);
  process.exit(2);
}
ops[op](...args).then(r => {
  process.stdout.write(JSON.stringify(r) + '\n');
}, e => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
