import { createHash } from 'node:crypto';

/** The longest X-Request-Id differad sends; longer encodings keep a prefix and a hash. */
export const REQUEST_ID_HEADER_MAX = 128;
const HASH_HEX = 32;
// '~' is encoded in the plain form, so it marks the hashed form unambiguously.
const KEPT = /[A-Za-z0-9._-]/;
/** In a `u` pattern a surrogate pair is one code point: this matches lone surrogates only. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Percent-encodes every UTF-8 byte of `id` but letters, digits, '.', '_' and '-' (so '%' and '~' too). */
function percentEncode(id: string): string {
  let out = '';
  for (const char of id) {
    if (KEPT.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The X-Request-Id header that carries request id `id`. A header value must be
 * visible ASCII, but ids come from manifests and may be any text (`缺陷-0001`,
 * a newline, emoji): undici refuses such a header before anything is sent.
 * vLLM uses the header as the engine's request id (`chatcmpl-<X-Request-Id>`,
 * docs/vllm-protocol.md), so the encoding keeps ids apart: ASCII ids of
 * letters, digits, `.`, `_`, `-` go as they are, other characters as
 * percent-encoded UTF-8; an encoding over {@link REQUEST_ID_HEADER_MAX}
 * characters, or of text that is not well-formed UTF-16 (a lone surrogate),
 * becomes its start, `~` and 128 bits of SHA-256 of the id.
 */
export function toRequestIdHeader(id: string): string {
  const encoded = percentEncode(id);
  if (encoded.length <= REQUEST_ID_HEADER_MAX && !LONE_SURROGATE.test(id)) return encoded;
  const hash = createHash('sha256').update(id, 'utf16le').digest('hex').slice(0, HASH_HEX);
  let prefix = encoded.slice(0, REQUEST_ID_HEADER_MAX - HASH_HEX - 1);
  // Do not cut an escape in two.
  const cut = prefix.lastIndexOf('%');
  if (cut >= prefix.length - 2 && cut >= 0) prefix = prefix.slice(0, cut);
  return `${prefix}~${hash}`;
}
