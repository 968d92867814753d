/**
 * What a handler receives. `AuthorizedRequest<K>` can only be minted by the pipeline after
 * authentication and the authorization decision (the brand is a unique symbol that is not
 * exported), so a handler cannot be called on an unauthorized request.
 */
import type { Readable } from 'node:stream';
import type { Config } from '../config/config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { S3Request } from '../http/request.js';
import type { Logger } from '../http/server.js';
import type { OperationKind, OperationOf } from '../operations/operations.js';
import type { BlobStore, BucketRecord, MetadataStore } from '../storage/ports.js';
import type { Clock } from '../util/clock.js';
import type { Principal } from '../auth/principal.js';
import type { Decision } from '../authz/decision.js';
import type { AuthInfo } from '../auth/authenticate.js';
import type { CredentialCache } from '../auth/credentials.js';
import type { HashPool } from '../util/hash-pool.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { SseDeps } from './sse.js';

declare const authorized: unique symbol;

export interface Services {
  config: Config;
  meta: MetadataStore;
  blobs: BlobStore;
  keyring: Keyring;
  clock: Clock;
  log: Logger;
  /** For handlers that authenticate from the body (POST Object form uploads). */
  credentials: CredentialCache;
  /** The one decision procedure (pipeline, per-key checks, 404-vs-403, form uploads). */
  authorizer: Authorizer;
  /** Worker threads that hash large uploads off the event loop; absent = hash inline. */
  hashPool?: HashPool;
  /** SSE-KMS (the KMS, S3 Bucket Keys) and SSE-C; absent = SSE-S3 only, KMS requests refused. */
  sse?: SseDeps;
}

export interface AuthorizedRequest<K extends OperationKind = OperationKind> {
  readonly [authorized]: K;
  readonly req: S3Request;
  readonly op: OperationOf<K>;
  readonly principal: Principal;
  readonly auth: AuthInfo;
  readonly decision: Decision;
  /** The addressed bucket; present for every bucket/object operation except CreateBucket of a new name. */
  readonly bucket: BucketRecord | undefined;
  /** The request body behind its payload verifier (SHA-256, chunk signatures, trailers). */
  body(): Readable;
  /** Trailing headers of an aws-chunked body, available once body() has ended. */
  trailers(): ReadonlyMap<string, string>;
  /** Object lookups already made while authorizing this request (see Authorizer). */
  readonly versions: Map<string, import('../storage/ports.js').ObjectVersion | undefined>;
  /** Decoded body length when known up front (Content-Length or x-amz-decoded-content-length). */
  readonly contentLength: number | undefined;
}

export type Handler<K extends OperationKind> = (ctx: AuthorizedRequest<K>, svc: Services) => Promise<import('../http/request.js').S3Result>;

/** Builds the branded value; only the pipeline calls this. */
export function mintAuthorized<K extends OperationKind>(v: Omit<AuthorizedRequest<K>, typeof authorized>): AuthorizedRequest<K> {
  return v as AuthorizedRequest<K>;
}
