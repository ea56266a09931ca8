// The authenticator the tests play: RFC 6238 codes (SHA-1, 6 digits, 30-second steps) with
// Node's own crypto, from the base32 secret enrollTotp answers.
import { createHmac } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(secret: string): Buffer {
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) {
    const value = ALPHABET.indexOf(char);
    if (value < 0) throw new Error(`Not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((byte) => parseInt(byte, 2)));
}

/** The code an authenticator shows now, or `offset` 30-second steps from now. */
export function totp(secret: string, offset = 0): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offset));
  const digest = createHmac("sha1", base32(secret)).update(counter).digest();
  const at = (digest[digest.length - 1] ?? 0) & 0x0f;
  const binary = digest.readUInt32BE(at) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}
