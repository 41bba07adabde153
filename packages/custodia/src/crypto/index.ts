export { seal, open, encryptWithNonce, KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './aead.js';
export { wrapKey, unwrapKey } from './key-wrap.js';
export { sealEnvelope, openEnvelope, envelopeKeyId, ENVELOPE_VERSION, type DataKey } from './envelope.js';
export { resourceVersionAad } from './aad.js';
export { newKeyring, rotateKek, currentKek, serializeKeyring, parseKeyring, KEYRING_SCRYPT, type Kek, type Keyring, type KeyringProtection, type ScryptCost } from './keyring.js';
export { blindIndex, blindPrefixes, forgetBlindIndexKey, rememberedBlindIndex, blindPrefixRows, blindPrefixMatch, MAX_PREFIX, PREFIX_ROWS, EARLIER_PREFIX_ROWS, TAIL_CHARS, type BlindPrefixRows, type BlindPrefixMatch } from './blind-index.js';
export * from './key-provider.js';
