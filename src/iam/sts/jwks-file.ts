/**
 * An identity provider's keys from a JWKS file (config `oidcIssuers[].jwksFile`), re-read
 * when the file changes, so an operator rotates keys by replacing the file, without a
 * restart. The first read happens at start-up, where any problem is a start-up error. After
 * that, a file that no longer reads as a JWKS of public keys fails closed: the issuer's tokens
 * are refused (and the problem reported) until the file is fixed, rather than still trusting
 * keys the operator may have meant to withdraw.
 */
import { readFile, stat } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import { checkJwks } from './web-identity.js';

/** How often, at most, the file is looked at again (each look is one stat). */
export const JWKS_RECHECK_MS = 1_000;

interface Version {
  mtimeMs: number;
  size: number;
  ino: number;
}

const sameVersion = (a: Version, b: Version): boolean => a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;

export class JwksFile {
  private checkedAt: number;
  private keys: JSONWebKeySet | undefined;

  private constructor(
    readonly path: string,
    private version: Version,
    keys: JSONWebKeySet,
    nowMs: number,
    private readonly onReloadError: (reason: string) => void,
  ) {
    this.keys = keys;
    this.checkedAt = nowMs;
  }

  /** Reads the file; throws an Error naming the problem (a start-up error for the caller). */
  static async load(path: string, nowMs: number, onReloadError: (reason: string) => void): Promise<JwksFile> {
    const { version, keys } = await read(path);
    return new JwksFile(path, version, keys, nowMs, onReloadError);
  }

  /** The keys as of `nowMs`: re-read if the file changed; undefined while it does not read as a JWKS. */
  async current(nowMs: number): Promise<JSONWebKeySet | undefined> {
    if (nowMs - this.checkedAt < JWKS_RECHECK_MS && nowMs >= this.checkedAt) return this.keys;
    this.checkedAt = nowMs;
    try {
      const s = await stat(this.path);
      if (this.keys !== undefined && sameVersion(this.version, s)) return this.keys;
      const { version, keys } = await read(this.path);
      this.version = version;
      this.keys = keys;
    } catch (e) {
      if (this.keys !== undefined) this.onReloadError((e as Error).message);
      this.keys = undefined;
    }
    return this.keys;
  }
}

async function read(path: string): Promise<{ version: Version; keys: JSONWebKeySet }> {
  // The version is taken before the read: a write landing in between is seen on the next look.
  const s = await stat(path);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the JWKS in ${path}: ${(e as Error).message}`);
  }
  return { version: { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino }, keys: checkJwks(doc, path) };
}
